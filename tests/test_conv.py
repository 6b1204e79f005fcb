"""Convolution (fcnn_lib.conv): im2col = loop = FFT, gradients, adjointness, layers, errors."""

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fcnn_lib as F
from fcnn_lib import Conv2D, Flatten
from fcnn_lib.conv import (col2im, conv2d_backward, conv2d_backward_loop, conv2d_forward, conv2d_forward_fft,
                           conv2d_forward_loop, conv_output_shape, im2col)

TOL = 1e-7

# (m, C_in, H, W, C_out, kernel_size, stride, padding)
CASES = [
    (1, 1, 4, 4, 1, 2, 1, 0),             # the smallest textbook case
    (2, 3, 5, 5, 4, 3, 1, 1),             # "same" padding, several channels, batch 2
    (3, 2, 7, 6, 2, (3, 2), 2, 1),        # non-square kernel and image, stride 2
    (2, 2, 8, 5, 3, (2, 3), (3, 2), (1, 2)),  # strides that do not divide evenly
    (1, 3, 6, 7, 2, 4, 3, 0),             # (7 - 4) // 3: a column is never read
    (2, 1, 5, 5, 2, 5, 1, 0),             # kernel = whole image: output 1×1
    (1, 2, 3, 4, 1, 1, 2, 2),             # 1×1 kernel, padding larger than the kernel
]


def _seed(case):
    return zlib.crc32(repr(case).encode())


def _data(case):
    m, c_in, H, W, c_out, k, s, p = case
    rng = np.random.default_rng(_seed(case))
    kh, kw = (k, k) if isinstance(k, int) else k
    x = rng.normal(size=(m, c_in, H, W))
    Wt = rng.normal(size=(c_out, c_in, kh, kw))
    b = rng.normal(size=c_out)
    return rng, x, Wt, b, s, p


def _expected_out(case):
    m, c_in, H, W, c_out, k, s, p = case
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s
    ph, pw = (p, p) if isinstance(p, int) else p
    return (m, c_out, (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1)


# ---------------------------------------------------------------------- forward
@pytest.mark.parametrize("case", CASES)
def test_forward_im2col_equals_loop_and_fft(case):
    _, x, W, b, s, p = _data(case)
    z_loop = conv2d_forward_loop(x, W, b, s, p)
    assert z_loop.shape == _expected_out(case)
    assert conv_output_shape(x.shape, W.shape[2:], s, p) == z_loop.shape[2:]
    np.testing.assert_allclose(conv2d_forward(x, W, b, s, p), z_loop, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv2d_forward_fft(x, W, b, s, p), z_loop, rtol=1e-10, atol=1e-11)


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 3), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
    H=st.integers(1, 7), W=st.integers(1, 7),
    kh=st.integers(1, 4), kw=st.integers(1, 4),
    sh=st.integers(1, 3), sw=st.integers(1, 3),
    ph=st.integers(0, 2), pw=st.integers(0, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_forward_agrees_on_random_shapes(m, c_in, c_out, H, W, kh, kw, sh, sw, ph, pw, seed):
    if kh > H + 2 * ph or kw > W + 2 * pw:
        with pytest.raises(ValueError, match="larger than the padded input"):
            im2col(np.zeros((m, c_in, H, W)), (kh, kw), (sh, sw), (ph, pw))
        return
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, c_in, H, W))
    Wt = rng.normal(size=(c_out, c_in, kh, kw))
    b = rng.normal(size=c_out)
    args = ((sh, sw), (ph, pw))
    z_loop = conv2d_forward_loop(x, Wt, b, *args)
    np.testing.assert_allclose(conv2d_forward(x, Wt, b, *args), z_loop, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv2d_forward_fft(x, Wt, b, *args), z_loop, rtol=1e-10, atol=1e-11)
    G = rng.normal(size=z_loop.shape)
    for fast, slow in zip(conv2d_backward(x, Wt, G, *args), conv2d_backward_loop(x, Wt, G, *args)):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def test_im2col_layout_rows_are_patches():
    """Row n·H_out·W_out + i·W_out + j is patch (n, i, j), flattened in (c, p, q) order."""
    x = np.arange(2 * 2 * 4 * 5, dtype=float).reshape(2, 2, 4, 5)
    cols = im2col(x, (2, 3), stride=(2, 1), padding=0)
    Ho, Wo = 2, 3
    assert cols.shape == (2 * Ho * Wo, 2 * 2 * 3)
    for n in range(2):
        for i in range(Ho):
            for j in range(Wo):
                patch = x[n, :, 2 * i : 2 * i + 2, j : j + 3]
                np.testing.assert_array_equal(cols[n * Ho * Wo + i * Wo + j], patch.ravel())


def test_convolution_is_one_matrix_product():
    _, x, W, b, s, p = _data(CASES[3])
    cols = im2col(x, W.shape[2:], s, p)
    Z_mat = cols @ W.reshape(W.shape[0], -1).T + b
    Z = conv2d_forward(x, W, b, s, p)
    np.testing.assert_array_equal(Z_mat.reshape(Z.shape[0], *Z.shape[2:], Z.shape[1]).transpose(0, 3, 1, 2), Z)


def test_true_convolution_is_cross_correlation_with_flipped_kernel():
    _, x, W, b, s, p = _data(CASES[2])
    flipped = W[:, :, ::-1, ::-1]
    # a true convolution with kernel K is the cross-correlation with K rotated by 180°
    z = conv2d_forward(x, flipped, b, s, p)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    kh, kw = W.shape[2:]
    n, k, i, j = 1, 0, 1, 2
    true_conv = b[k] + sum(
        W[k, c, u, v] * xp[n, c, 2 * i + kh - 1 - u, 2 * j + kw - 1 - v]
        for c in range(W.shape[1]) for u in range(kh) for v in range(kw)
    )
    assert abs(z[n, k, i, j] - true_conv) < 1e-12


# ---------------------------------------------------------------------- adjoint
@pytest.mark.parametrize("case", CASES)
def test_col2im_is_the_adjoint_of_im2col(case):
    rng, x, W, _, s, p = _data(case)
    cols = im2col(x, W.shape[2:], s, p)
    y = rng.normal(size=cols.shape)
    lhs = np.sum(cols * y)
    rhs = np.sum(x * col2im(y, x.shape, W.shape[2:], s, p))
    assert abs(lhs - rhs) <= 1e-12 * (np.linalg.norm(cols) * np.linalg.norm(y))


def test_col2im_adds_overlaps():
    """col2im of a matrix of ones counts how many patches read each pixel."""
    x_shape = (1, 1, 4, 4)
    counts = col2im(np.ones((9, 4)), x_shape, 2)
    expected = np.array([[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]], dtype=float)
    np.testing.assert_array_equal(counts[0, 0], expected)


# ---------------------------------------------------------------------- gradients
@pytest.mark.parametrize("case", CASES)
def test_gradients_pass_finite_differences_and_match_loop(case):
    rng, x, W, b, s, p = _data(case)
    R = rng.normal(size=_expected_out(case))  # J = Σ R ⊙ Z, so ∂J/∂Z = R

    def J():
        return float(np.sum(R * conv2d_forward(x, W, b, s, p)))

    dx, dW, db = conv2d_backward(x, W, R, s, p)
    for name, value, grad in (("x", x, dx), ("W", W, dW), ("b", b, db)):
        result = F.check_gradient(lambda _: J(), grad, value)
        assert result.rel_error < TOL, (name, result.rel_error)
    for fast, slow in zip((dx, dW, db), conv2d_backward_loop(x, W, R, s, p)):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def test_layer_backward_matches_function_and_stores_grads():
    case = CASES[3]
    rng, x, W, b, s, p = _data(case)
    layer = Conv2D(x.shape[1], W.shape[0], W.shape[2:], stride=s, padding=p, init="zeros")
    layer.set_params(W, b)
    Z = layer.forward(x)
    np.testing.assert_allclose(Z, conv2d_forward_loop(x, W, b, s, p), rtol=1e-12, atol=1e-12)
    G = rng.normal(size=Z.shape)
    dx = layer.backward(G)
    dx_ref, dW_ref, db_ref = conv2d_backward_loop(x, W, G, s, p)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], dW_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], db_ref, rtol=1e-12, atol=1e-12)
    # The layer is the functions with its kept patch matrix: the same bits.
    assert Z.tobytes() == conv2d_forward(x, W, b, s, p).tobytes()
    for mine, ref in zip((dx, layer.grads["W"], layer.grads["b"]), conv2d_backward(x, W, G, s, p)):
        assert mine.tobytes() == ref.tobytes()


# ---------------------------------------------------------------------- networks
def _small_cnn(rng):
    return F.Sequential(
        [
            Conv2D(2, 3, (3, 2), stride=2, padding=1, rng=rng),
            F.Activation("tanh"),
            Flatten(),
            F.Dense(3 * 3 * 3, 4, rng=rng),
        ],
        loss="softmax_cross_entropy",
    )


def test_small_cnn_passes_check_network():
    rng = np.random.default_rng(6)
    net = _small_cnn(rng)
    X = rng.normal(size=(3, 2, 5, 4))
    Y = np.eye(4)[rng.integers(0, 4, size=3)]
    assert net.forward(X).shape == (3, 4)
    results = F.check_network(net, X, Y, weight_decay=0.1)
    assert sorted(results) == ["W1", "W2", "b1", "b2"]
    assert F.max_rel_error(results) < TOL, {k: r.rel_error for k, r in results.items()}


def test_relu_cnn_from_the_brief_passes_check_network():
    rng = np.random.default_rng(1)
    net = F.Sequential([Conv2D(1, 2, 3, padding=1, rng=rng), F.Activation("relu"), Flatten(),
                        F.Dense(2 * 4 * 4, 3, rng=rng)], loss="softmax_cross_entropy")
    for layer in net.param_layers:  # keep pre-activations away from the ReLU kink
        layer.params["b"] = layer.params["b"] + 0.1
    X = rng.normal(size=(2, 1, 4, 4))
    Y = np.eye(3)[[0, 2]]
    assert F.max_rel_error(F.check_network(net, X, Y)) < TOL


def test_weight_decay_applies_to_conv_kernels_only():
    rng = np.random.default_rng(2)
    net = _small_cnn(rng)
    conv = net.layers[0]
    assert conv.decay == ("W",)
    expected = 0.5 * 0.3 * (np.sum(conv.W ** 2) + np.sum(net.layers[3].W ** 2))
    assert abs(net.penalty(0.3) - expected) < 1e-12


def test_backward_without_input_grad_stores_the_same_gradients():
    rng = np.random.default_rng(5)
    layer = Conv2D(2, 3, 2, stride=2, rng=rng)
    x = rng.normal(size=(2, 2, 5, 4))
    G = rng.normal(size=layer.forward(x).shape)
    layer.backward(G)
    full = {k: v.copy() for k, v in layer.grads.items()}
    layer.grads = {}
    assert layer.backward(G, input_grad=False) is None
    for k in full:
        np.testing.assert_array_equal(layer.grads[k], full[k])
    dx, dW, db = conv2d_backward(x, layer.W, G, 2, 0, input_grad=False)
    assert dx is None
    np.testing.assert_array_equal(dW, full["W"])
    np.testing.assert_array_equal(db, full["b"])


def test_forward_refuses_a_patch_matrix_of_the_wrong_shape():
    _, x, W, b, s, p = _data(CASES[2])
    cols = im2col(x, W.shape[2:], s, p)
    with pytest.raises(ValueError, match=r"patch matrix cols must have shape"):
        conv2d_forward(x, W, b, s, p, cols=cols[:, :-1])


def test_cnn_trains_with_fit_on_4d_input():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(16, 2, 5, 4))
    Y = np.eye(4)[rng.integers(0, 4, size=16)]
    net = _small_cnn(rng)
    history = net.fit(X, Y, epochs=15, batch_size=8, lr=0.2, rng=rng)
    assert history["loss"][-1] < 0.5 * history["loss"][0]


def test_dense_is_a_convolution_whose_kernel_covers_the_input():
    rng = np.random.default_rng(4)
    m, C, H, W, n_out = 3, 2, 4, 3, 5
    x = rng.normal(size=(m, C, H, W))
    dense = F.Dense(C * H * W, n_out, rng=rng)
    conv = Conv2D(C, n_out, (H, W), init="zeros")
    conv.set_params(dense.W.reshape(n_out, C, H, W), dense.b)
    z_conv = conv.forward(x)
    assert z_conv.shape == (m, n_out, 1, 1)
    np.testing.assert_allclose(z_conv.reshape(m, n_out), dense.forward(x.reshape(m, -1)),
                               rtol=1e-12, atol=1e-12)


def test_flatten_round_trip():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    f = Flatten()
    out = f.forward(x)
    assert out.shape == (2, 12)
    np.testing.assert_array_equal(out[1], x[1].ravel())
    np.testing.assert_array_equal(f.backward(out), x)
    assert f.params == {}


# ---------------------------------------------------------------------- initialisation
def test_initialisation_fans_and_zeros():
    layer = Conv2D(8, 16, (3, 5), rng=np.random.default_rng(0))
    assert layer.W.shape == (16, 8, 3, 5) and layer.b.shape == (16,)
    assert abs(layer.W.std() / np.sqrt(2 / (8 * 3 * 5)) - 1) < 0.1  # He: fan_in = C_in·kh·kw
    np.testing.assert_array_equal(layer.b, 0)
    xav = Conv2D(8, 16, 3, init="xavier", rng=np.random.default_rng(0))
    assert abs(xav.W.std() / np.sqrt(2 / (8 * 9 + 16 * 9)) - 1) < 0.1
    zero = Conv2D(2, 3, 2, init="zeros")
    assert not zero.W.any() and not zero.b.any()
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        Conv2D(2, 3, 2)


def test_repr():
    assert repr(Conv2D(1, 4, 3, padding=1, init="zeros")) == "Conv2D(1, 4, kernel_size=3, stride=1, padding=1)"
    assert repr(Conv2D(2, 3, (3, 2), stride=(2, 1), init="zeros")) == (
        "Conv2D(2, 3, kernel_size=(3, 2), stride=(2, 1), padding=0)"
    )


# ---------------------------------------------------------------------- errors
def test_kernel_larger_than_padded_input():
    x, W, b = np.zeros((1, 1, 3, 4)), np.zeros((1, 1, 5, 2)), np.zeros(1)
    with pytest.raises(ValueError, match=r"kernel 5×2 is larger than the padded input 3×4 \(input 3×4, padding 0×0\)"):
        conv2d_forward(x, W, b, 1, 0)
    with pytest.raises(ValueError, match=r"kernel 6×2 is larger than the padded input 5×6 \(input 3×4, padding 1×1\)"):
        conv2d_backward_loop(x, np.zeros((1, 1, 6, 2)), np.zeros((1, 1, 1, 1)), 1, 1)
    with pytest.raises(ValueError, match="kernel 5×5 is larger than the padded input 3×4"):
        im2col(x, 5)
    with pytest.raises(ValueError, match="kernel 4×4 is larger"):
        Conv2D(1, 1, 4, init="zeros").forward(x)


@pytest.mark.parametrize("stride", [0, -1, (1, 0), (-2, 1)])
def test_non_positive_stride(stride):
    with pytest.raises(ValueError, match="stride must be positive, got"):
        conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), np.zeros(1), stride, 0)
    with pytest.raises(ValueError, match="stride must be positive"):
        Conv2D(1, 1, 2, stride=stride, init="zeros")


def test_non_integer_sizes():
    with pytest.raises(TypeError, match=r"stride must be an int or an \(h, w\) pair of ints, got 1.5"):
        im2col(np.zeros((1, 1, 4, 4)), 2, stride=1.5)
    with pytest.raises(ValueError, match=r"kernel_size must be an int or an \(h, w\) pair, got \(1, 2, 3\)"):
        Conv2D(1, 1, (1, 2, 3), init="zeros")


def test_negative_padding():
    with pytest.raises(ValueError, match="padding must be >= 0, got -1×0"):
        im2col(np.zeros((1, 1, 4, 4)), 2, padding=(-1, 0))
    with pytest.raises(ValueError, match="padding must be >= 0, got -1×-1"):
        Conv2D(1, 1, 2, padding=-1, init="zeros")


def test_channel_mismatch():
    x, W, b = np.zeros((2, 3, 5, 5)), np.zeros((4, 2, 3, 3)), np.zeros(4)
    with pytest.raises(ValueError, match=r"x has C_in = 3 channel\(s\) \(shape \(2, 3, 5, 5\)\) but W expects C_in = 2"):
        conv2d_forward(x, W, b)
    for f in (conv2d_forward_loop, conv2d_forward_fft):
        with pytest.raises(ValueError, match="C_in = 3"):
            f(x, W, b)
    with pytest.raises(ValueError, match=r"expects input of shape \(m, 2, n_h, n_w\).*got \(2, 3, 5, 5\)"):
        Conv2D(2, 4, 3, init="zeros").forward(x)


def test_wrong_ndim():
    with pytest.raises(ValueError, match=r"shape \(m, C_in, n_h, n_w\).*got shape \(5, 5\)"):
        conv2d_forward(np.zeros((5, 5)), np.zeros((1, 1, 2, 2)), np.zeros(1))
    with pytest.raises(ValueError, match=r"W must have shape \(C_out, C_in, k_h, k_w\).*got shape \(1, 2, 2\)"):
        conv2d_forward(np.zeros((1, 1, 5, 5)), np.zeros((1, 2, 2)), np.zeros(1))
    with pytest.raises(ValueError, match=r"expects input of shape \(m, 1, n_h, n_w\).*got \(1, 5, 5\)"):
        Conv2D(1, 1, 2, init="zeros").forward(np.zeros((1, 5, 5)))
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got \(5,\)"):
        Flatten().forward(np.zeros(5))


def test_wrong_bias_gradient_and_cols_shapes():
    x, W = np.zeros((2, 1, 4, 4)), np.zeros((3, 1, 2, 2))
    with pytest.raises(ValueError, match=r"b must have shape \(C_out,\) = \(3,\).*got \(2,\)"):
        conv2d_forward(x, W, np.zeros(2))
    for f in (conv2d_forward, conv2d_forward_loop, conv2d_forward_fft):
        with pytest.raises(TypeError, match=r"biases b must be an array of shape \(C_out,\) = \(3,\), got None"):
            f(x, W, None)
    with pytest.raises(TypeError, match=r"kernels W must be an array .* got None"):
        conv2d_backward(x, None, np.zeros((2, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"\(m, C_out, n′_h, n′_w\) = \(2, 3, 3, 3\), got \(2, 3, 4, 4\)"):
        conv2d_backward(x, W, np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"= \(18, 4\) for input \(2, 1, 4, 4\) and kernel 2×2, got \(18, 5\)"):
        col2im(np.zeros((18, 5)), x.shape, 2)
    layer = Conv2D(1, 3, 2, init="zeros")
    with pytest.raises(ValueError, match=r"W must have shape \(3, 1, 2, 2\), got \(3, 1, 2, 3\)"):
        layer.set_params(np.zeros((3, 1, 2, 3)), np.zeros(3))
    with pytest.raises(RuntimeError, match="call forward before backward"):
        layer.backward(np.zeros((2, 3, 3, 3)))
    layer.forward(x)
    with pytest.raises(ValueError, match=r"gradient has shape \(2, 3, 2, 2\) but the layer's output had shape \(2, 3, 3, 3\)"):
        layer.backward(np.zeros((2, 3, 2, 2)))


def test_fit_still_refuses_1d_input():
    net = F.mlp([3, 2], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"one example per row.*got shape \(3,\)"):
        net.fit(np.zeros(3), np.zeros((3, 2)), epochs=1, batch_size=1, lr=0.1,
                rng=np.random.default_rng(0))
