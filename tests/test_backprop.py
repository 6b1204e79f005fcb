"""fcnn_lib.backprop, the δ recursion in one place, computes what Sequential computes.

On random networks (depths 1–5 dense layers, hidden layers at least two units wide so
that BP2 mixes several units, every element-wise activation, every loss whose output BP1
covers, batches of m ≥ 2 examples, biases away from zero) the book's recursion gives the
same z⁽ˡ⁾, a⁽ˡ⁾, δ⁽ˡ⁾ (as ``net.trace()`` reports them), ∂J/∂W⁽ˡ⁾ and ∂J/∂b⁽ˡ⁾ as
``Sequential.backward``, bit for bit (chapter 5 says so: the layers perform the same
floating-point operations in the same order). With a leading run axis (R networks of one
architecture stacked), run r gives bit for bit what the call on run r's own arrays
gives. The recursion also passes a finite-difference check on its own, for every
activation and for every pair of loss and output activation, and refuses malformed input
(softmax as an element-wise f included) with a message naming what it got.
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

import fcnn_lib as F

ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]

#: loss -> output activation (the fused losses take logits, so the output is identity)
OUTPUT_FOR_LOSS = {
    "mse": ["identity", "sigmoid", "tanh", "relu"],
    "sigmoid_cross_entropy": ["identity"],
    "softmax_cross_entropy": ["identity"],
    "binary_cross_entropy": ["sigmoid"],
}

CONFIGS = [
    (depth, act, loss, out, m)
    for (depth, m), act, (loss, outs) in itertools.product(
        [(1, 2), (2, 5), (3, 3), (5, 7)], ELEMENTWISE, OUTPUT_FOR_LOSS.items()
    )
    for out in outs
]


def _labels(loss, rng, m, n_out):
    if loss == "softmax_cross_entropy":
        return np.eye(n_out)[rng.integers(0, n_out, size=m)]
    if loss in ("binary_cross_entropy", "sigmoid_cross_entropy"):
        return (rng.uniform(size=(m, n_out)) > 0.5).astype(float)
    return rng.normal(size=(m, n_out))


def _random_network(depth, act, loss, out, m, seed):
    """A Sequential with random sizes and parameters, its batch, and the book's lists."""
    rng = np.random.default_rng(seed)
    # input and output 1-6 units; hidden layers 2-6, so BP2 sums over several units
    n_out = int(rng.integers(2 if loss == "softmax_cross_entropy" else 1, 7))  # softmax needs 2 classes
    sizes = [int(rng.integers(1, 7))] + [int(n) for n in rng.integers(2, 7, size=depth - 1)] + [n_out]
    net = F.mlp(sizes, activation=act, output=out, loss=loss, init="xavier", rng=rng)
    # Biases away from zero: no ReLU kink at z = 0 for the finite differences below.
    net.set_params([(layer.W, rng.normal(0.3, 0.5, size=layer.b.shape)) for layer in net.param_layers])
    X = rng.normal(size=(m, sizes[0]))
    Y = _labels(loss, rng, m, sizes[-1])
    W, b, f, f_prime = F.backprop.lists(net)
    return net, X, Y, W, b, f, f_prime


def _close(mine, lib, what):
    np.testing.assert_allclose(mine, lib, rtol=1e-12, atol=1e-15 * max(1.0, np.abs(lib).max()), err_msg=what)


@pytest.mark.parametrize("depth,act,loss,out,m", CONFIGS)
def test_recursion_equals_sequential_backward(depth, act, loss, out, m):
    seed = zlib.crc32(repr((depth, act, loss, out, m)).encode())  # stable across runs
    net, X, Y, W, b, f, f_prime = _random_network(depth, act, loss, out, m, seed)
    J_lib = net.loss(X, Y)
    net.backward(Y)
    trace = net.trace()
    assert len(trace) == depth

    z, a = F.backprop.forward(W, b, X, f)
    J, dJ_da = F.get_loss(loss)(a[depth], Y)
    delta, dW, db = F.backprop.backward(W, z, a, dJ_da, f_prime)

    assert J == pytest.approx(J_lib, rel=1e-13)
    assert len(delta) == len(dW) == len(db) == depth + 1 and delta[0] is None
    for t in trace:
        l = t.l
        _close(z[l], t.z, f"z[{l}]")
        _close(a[l], t.a, f"a[{l}]")
        _close(delta[l], t.delta, f"delta[{l}]")
        _close(dW[l], t.dW, f"dW[{l}]")
        _close(db[l], t.db, f"db[{l}]")
        assert dW[l].shape == W[l].shape and db[l].shape == b[l].shape


@pytest.mark.parametrize("depth,act,loss,out,m", CONFIGS)
def test_recursion_is_bit_for_bit_sequential(depth, act, loss, out, m):
    """The claim of chapter 5: not merely close, equal, since the operations are the same."""
    seed = zlib.crc32(repr(("bits", depth, act, loss, out, m)).encode())
    net, X, Y, W, b, f, f_prime = _random_network(depth, act, loss, out, m, seed)
    net.loss(X, Y)
    net.backward(Y)
    z, a = F.backprop.forward(W, b, X, f)
    delta, dW, db = F.backprop.backward(W, z, a, F.get_loss(loss)(a[depth], Y).grad, f_prime)
    for t in net.trace():
        l = t.l
        for name, mine, lib in (("z", z[l], t.z), ("a", a[l], t.a), ("delta", delta[l], t.delta),
                                ("dW", dW[l], t.dW), ("db", db[l], t.db)):
            assert np.array_equal(mine, lib), f"{name}[{l}] differs from Sequential's"


def _check_recursion_by_finite_differences(depth, act, loss, out, m, seed):
    _, X, Y, W, b, f, f_prime = _random_network(depth, act, loss, out, m, seed)
    cost = F.get_loss(loss)

    def J_of(theta):
        Ws, bs = _unflatten(theta, W, b)
        z, a = F.backprop.forward(Ws, bs, X, f)
        return cost(a[depth], Y).value

    z, a = F.backprop.forward(W, b, X, f)
    _, dW, db = F.backprop.backward(W, z, a, cost(a[depth], Y).grad, f_prime)
    analytic = np.concatenate([np.concatenate([dW[l].ravel(), db[l]]) for l in range(1, depth + 1)])
    theta = np.concatenate([np.concatenate([W[l].ravel(), b[l]]) for l in range(1, depth + 1)])
    result = F.check_gradient(J_of, analytic, theta)
    assert result.passed(1e-7), result.rel_error


@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize("act", ELEMENTWISE)
def test_recursion_passes_finite_differences_on_its_own(act, seed):
    """Independent of Sequential: the recursion's gradients against central differences."""
    _check_recursion_by_finite_differences(3, act, "mse", "sigmoid", 4, seed)


@pytest.mark.parametrize("seed", [21, 22, 23])
@pytest.mark.parametrize("loss,out", [(loss, out) for loss, outs in OUTPUT_FOR_LOSS.items() for out in outs])
def test_recursion_passes_finite_differences_for_every_loss_and_output(loss, out, seed):
    """BP1 for each pair of loss and output activation (the output's f′ and the loss's ∂J/∂A)."""
    _check_recursion_by_finite_differences(3, "tanh", loss, out, 5, seed)


def _unflatten(theta, W, b):
    Ws, bs, k = [None], [None], 0
    for l in range(1, len(W)):
        n = W[l].size
        Ws.append(theta[k:k + n].reshape(W[l].shape))
        bs.append(theta[k + n:k + n + b[l].size])
        k += n + b[l].size
    return Ws, bs


def test_one_function_serves_every_layer():
    _, X, Y, W, b, f, f_prime = _random_network(3, "tanh", "mse", "tanh", 3, seed=5)
    z1, a1 = F.backprop.forward(W, b, X, F.tanh)
    z2, a2 = F.backprop.forward(W, b, X, f)
    assert all(np.array_equal(p, q) for p, q in zip(a1[1:], a2[1:]))
    g = F.mse(a1[3], Y).grad
    d1 = F.backprop.backward(W, z1, a1, g, F.tanh_prime)[0]
    d2 = F.backprop.backward(W, z2, a2, g, f_prime)[0]
    assert all(np.array_equal(p, q) for p, q in zip(d1[1:], d2[1:]))


def test_one_example_is_the_column_vector_form():
    """m = 1: row 0 of delta[l] is the book's column vector δ⁽ˡ⁾ (the mean over one example)."""
    net, X, Y = F.book.running_example()
    P = net.params()
    W, b = [None, P["W1"], P["W2"]], [None, P["b1"], P["b2"]]
    z, a = F.backprop.forward(W, b, X[:1], F.sigmoid)
    delta, dW, _ = F.backprop.backward(W, z, a, a[2] - Y[:1], F.sigmoid_prime)
    x, y = X[0][:, None], Y[0][:, None]
    z1 = W[1] @ x + b[1][:, None]
    z2 = W[2] @ F.sigmoid(z1) + b[2][:, None]
    d2 = (F.sigmoid(z2) - y) * F.sigmoid_prime(z2)
    d1 = (W[2].T @ d2) * F.sigmoid_prime(z1)
    np.testing.assert_allclose(delta[2][0], d2[:, 0], rtol=1e-14)
    np.testing.assert_allclose(delta[1][0], d1[:, 0], rtol=1e-14)
    np.testing.assert_allclose(dW[1], d1 @ x.T, rtol=1e-14)


# ---------------------------------------------------------------------- bad input
@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    W = [None, rng.normal(size=(3, 2)), rng.normal(size=(1, 3))]
    b = [None, np.zeros(3), np.zeros(1)]
    X = rng.normal(size=(4, 2))
    z, a = F.backprop.forward(W, b, X, F.sigmoid)
    return W, b, X, z, a


@pytest.mark.parametrize(
    "change, error, words",
    [
        (lambda W, b, X: ([W[1], W[2]], b, X), ValueError, "numbered from 1"),
        (lambda W, b, X: ([None], b, X), ValueError, "numbered from 1"),
        (lambda W, b, X: ("W", b, X), TypeError, "must be a list"),
        (lambda W, b, X: ([None, W[1], W[2].T], b, X), ValueError, "W[2] has shape (3, 1)"),
        (lambda W, b, X: (W, [None, np.zeros(3)], X), ValueError, "b has 1"),
        (lambda W, b, X: (W, [None, np.zeros(2), np.zeros(1)], X), ValueError, "b[1] must have shape (3,)"),
        (lambda W, b, X: (W, b, X.T), ValueError, "input X must have shape (m, 2)"),
        (lambda W, b, X: (W, b, X[0]), ValueError, "2 dimension(s)"),
        (lambda W, b, X: (W, b, np.full((4, 2), np.nan)), ValueError, "NaN"),
        (lambda W, b, X: ([None, W[1].astype(str), W[2]], b, X), TypeError, "real numbers"),
    ],
)
def test_forward_refuses_bad_input(small, change, error, words):
    W, b, X, _, _ = small
    with pytest.raises(error, match=None) as info:
        F.backprop.forward(*change(W, b, X), F.sigmoid)
    assert words in str(info.value)


def test_forward_refuses_bad_activation_list(small):
    W, b, X, _, _ = small
    with pytest.raises(ValueError, match="length L"):
        F.backprop.forward(W, b, X, [F.sigmoid, F.sigmoid])
    with pytest.raises(TypeError, match=r"f\[2\] must be a function"):
        F.backprop.forward(W, b, X, [None, F.sigmoid, "sigmoid"])


def test_backward_refuses_bad_input(small):
    W, b, X, z, a = small
    g = np.ones((4, 1))
    with pytest.raises(ValueError, match=r"dJ_da .* shape \(4, 1\); got \(4,\)"):
        F.backprop.backward(W, z, a, np.ones(4), F.sigmoid_prime)
    with pytest.raises(ValueError, match="length L \\+ 1 = 3"):
        F.backprop.backward(W, z[1:], a, g, F.sigmoid_prime)
    with pytest.raises(ValueError, match=r"z\[2\] must be an array of shape \(4, 1\)"):
        F.backprop.backward(W, [None, z[1], z[2].T], a, g, F.sigmoid_prime)
    with pytest.raises(ValueError, match=r"a\[0\] must be the input X"):
        F.backprop.backward(W, z, [X.T, a[1], a[2]], g, F.sigmoid_prime)
    with pytest.raises(ValueError, match="numbered from 1"):
        F.backprop.backward(W[1:], z, a, g, F.sigmoid_prime)
    with pytest.raises(ValueError, match="NaN"):
        F.backprop.backward(W, z, a, np.full((4, 1), np.inf), F.sigmoid_prime)
    with pytest.raises(TypeError, match=r"f_prime\[1\] must be a function"):
        F.backprop.backward(W, z, a, g, [None, 0.25, F.sigmoid_prime])


def test_the_recursion_is_short():
    """Issue 14: a reader finds the recursion in at most 15 lines, labelled BP1–BP4, in order."""
    import inspect

    src = inspect.getsource(F.backprop.backward)
    body = src.split('"""')[2].strip().splitlines()
    assert len(body) <= 15, body
    lines = {}
    for label in ("BP1", "BP2", "BP3", "BP4"):
        hits = [i for i, line in enumerate(body) if f"# {label}" in line]
        assert len(hits) == 1, label
        lines[label] = hits[0]
    assert lines["BP1"] < lines["BP2"] < lines["BP3"] < lines["BP4"]
    assert max(len(line) for line in body) <= 90, max(body, key=len)


# ---------------------------------------------------------------------- lists(net)
def test_lists_gives_the_networks_own_arrays_and_functions():
    rng = np.random.default_rng(3)
    net = F.Sequential([F.Dense(3, 4, rng=rng), F.Activation("leaky_relu", slope=0.2), F.Dense(4, 4, rng=rng),
                        F.Activation("tanh"), F.Dense(4, 2, rng=rng)], loss="mse")
    W, b, f, f_prime = F.backprop.lists(net)
    assert len(W) == len(b) == len(f) == len(f_prime) == 4 and W[0] is b[0] is f[0] is f_prime[0] is None
    for l, layer in enumerate(net.param_layers, start=1):
        assert W[l] is layer.W and b[l] is layer.b  # the live arrays, not copies
    z = np.array([-1.0, 0.5])
    np.testing.assert_array_equal(f[1](z), [-0.2, 0.5])
    np.testing.assert_array_equal(f_prime[1](z), [0.2, 1.0])
    assert f[2] is F.tanh and f_prime[2] is F.tanh_prime
    assert f[3] is F.identity and f_prime[3] is F.identity_prime  # no activation after the last layer
    X = rng.normal(size=(5, 3))
    np.testing.assert_array_equal(F.backprop.forward(W, b, X, f)[1][3], net.forward(X))


def test_lists_refuses_what_the_recursion_does_not_cover():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="Sequential"):
        F.backprop.lists([F.Dense(2, 2, rng=rng)])
    conv = F.Sequential([F.Conv2D(1, 2, 3, rng=rng), F.Flatten(), F.Dense(2 * 6 * 6, 2, rng=rng)],
                        loss="softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"layer 0 .* is Conv2D"):
        F.backprop.lists(conv)
    soft = F.Sequential([F.Dense(2, 3, rng=rng), F.Activation("softmax")], loss="categorical_cross_entropy")
    with pytest.raises(ValueError, match="eq-bp1-softmax-ce"):
        F.backprop.lists(soft)
    twice = F.Sequential([F.Dense(2, 3, rng=rng), F.Activation("tanh"), F.Activation("tanh"), F.Dense(3, 1, rng=rng)])
    with pytest.raises(ValueError, match="layer 2"):
        F.backprop.lists(twice)


@pytest.mark.parametrize("where", ["f", "f_prime"])
@pytest.mark.parametrize("fn", [F.softmax, F.softmax_prime_diagonal])
def test_softmax_is_refused_as_an_elementwise_activation(small, where, fn):
    W, b, X, z, a = small
    with pytest.raises(ValueError, match="eq-bp1-softmax-ce"):
        if where == "f":
            F.backprop.forward(W, b, X, [None, F.sigmoid, fn])
        else:
            F.backprop.backward(W, z, a, np.ones((4, 1)), [None, F.sigmoid_prime, fn])


# ---------------------------------------------------------------------- a leading run axis
@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_stacked_networks_give_each_networks_numbers_bit_for_bit(act, depth):
    """R networks of one architecture on R batches: run r equals the call on run r alone
    and Sequential's backward pass on network r, bit for bit."""
    R, m = 4, 7
    rng = np.random.default_rng(100 + depth)
    sizes = [5] + [6] * (depth - 1) + [3]
    nets = [F.mlp(sizes, activation=act, loss="softmax_cross_entropy", init="he", rng=rng) for _ in range(R)]
    X = rng.normal(size=(R, m, sizes[0]))
    Y = np.eye(3)[rng.integers(0, 3, size=(R, m))]
    one = [F.backprop.lists(net) for net in nets]
    W = [None] + [np.stack([o[0][l] for o in one]) for l in range(1, depth + 1)]
    b = [None] + [np.stack([o[1][l] for o in one]) for l in range(1, depth + 1)]
    f, f_prime = one[0][2], one[0][3]
    z, a = F.backprop.forward(W, b, X, f)
    dJ_da = np.stack([F.softmax_cross_entropy(a[depth][r], Y[r]).grad for r in range(R)])
    delta, dW, db = F.backprop.backward(W, z, a, dJ_da, f_prime)
    assert dW[1].shape == (R, sizes[1], sizes[0]) and db[1].shape == (R, sizes[1])
    for r, net in enumerate(nets):
        Wr, br = one[r][0], one[r][1]
        zr, ar = F.backprop.forward(Wr, br, X[r], f)
        dr, dWr, dbr = F.backprop.backward(Wr, zr, ar, F.softmax_cross_entropy(ar[depth], Y[r]).grad, f_prime)
        net.gradients(X[r], Y[r])
        for t in net.trace():
            l = t.l
            for name, stacked, alone, lib in (("z", z, zr, t.z), ("delta", delta, dr, t.delta),
                                              ("dW", dW, dWr, t.dW), ("db", db, dbr, t.db)):
                assert np.array_equal(stacked[l][r], alone[l]), f"{name}[{l}] of run {r}"
                assert np.array_equal(stacked[l][r], lib), f"{name}[{l}] of run {r} against Sequential"


def test_stacked_input_is_checked():
    rng = np.random.default_rng(1)
    W = [None, rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 1, 3))]
    b = [None, np.zeros((2, 3)), np.zeros((2, 1))]
    X = rng.normal(size=(2, 5, 4))
    z, a = F.backprop.forward(W, b, X, F.tanh)
    assert z[2].shape == (2, 5, 1)
    with pytest.raises(ValueError, match=r"b\[1\] must have shape \(2, 3\)"):
        F.backprop.forward(W, [None, np.zeros(3), np.zeros((2, 1))], X, F.tanh)
    with pytest.raises(ValueError, match="same leading axes"):
        F.backprop.forward([None, W[1], W[2][0]], b, X, F.tanh)
    with pytest.raises(ValueError, match=r"input X must have shape \(2, m, 4\)"):
        F.backprop.forward(W, b, rng.normal(size=(3, 5, 4)), F.tanh)
    with pytest.raises(ValueError, match="3 dimension"):
        F.backprop.forward(W, b, X[0], F.tanh)
    with pytest.raises(ValueError, match=r"dJ_da .* \(2, 5, 1\)"):
        F.backprop.backward(W, z, a, np.ones((5, 1)), F.tanh_prime)
