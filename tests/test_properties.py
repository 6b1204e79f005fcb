"""Property-based tests (hypothesis) over shapes and values, extremes included."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import fcnn_lib as F

finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
shapes = st.tuples(st.integers(1, 6), st.integers(1, 6))
batches = shapes.flatmap(lambda s: arrays(np.float64, s, elements=finite))

settings.register_profile("course", max_examples=60, deadline=None, derandomize=True)
settings.load_profile("course")


def quiet(fn, *args):
    """Call fn, failing on any overflow / invalid-value warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            return fn(*args)


@given(batches)
def test_activations_finite_and_in_range(Z):
    s = quiet(F.sigmoid, Z)
    t = quiet(F.tanh, Z)
    assert np.all((s >= 0) & (s <= 1)) and np.all((t >= -1) & (t <= 1))
    assert np.all(quiet(F.relu, Z) >= 0)
    for fp in (F.sigmoid_prime, F.tanh_prime, F.relu_prime, F.leaky_relu_prime):
        d = quiet(fp, Z)
        assert np.all(np.isfinite(d)) and np.all(d >= 0)
    assert np.all(quiet(F.sigmoid_prime, Z) <= 0.25)


@given(batches)
def test_softmax_rows_are_distributions(Z):
    S = quiet(F.softmax, Z)
    assert S.shape == Z.shape
    assert np.all(S >= 0)
    np.testing.assert_allclose(S.sum(axis=1), 1.0, rtol=1e-12)
    J = quiet(F.softmax_jacobian, Z)
    # Each Jacobian's rows sum to zero: shifting all logits changes nothing.
    np.testing.assert_allclose(J.sum(axis=2), 0.0, atol=1e-12)


@given(batches, st.integers(0, 2**32 - 1))
def test_losses_finite_with_gradients_of_prediction_shape(Z, seed):
    rng = np.random.default_rng(seed)
    m, n = Z.shape
    onehot = np.eye(n)[rng.integers(0, n, size=m)]
    binary = (rng.uniform(size=Z.shape) > 0.5).astype(float)
    P = np.clip(F.sigmoid(Z), 0.0, 1.0)
    cases = [(F.mse, Z, binary), (F.sigmoid_cross_entropy, Z, binary), (F.binary_cross_entropy, P, binary)]
    categorical = [(F.softmax_cross_entropy, Z, onehot), (F.categorical_cross_entropy, F.softmax(Z), onehot)]
    if n >= 2:
        cases += categorical
    else:  # one class: refused (the loss would be 0 whatever the prediction)
        for fn, pred, y in categorical:
            with pytest.raises(ValueError, match="at least 2 classes"):
                fn(pred, y)
    for fn, pred, y in cases:
        value, grad = quiet(fn, pred, y)
        assert np.isfinite(value) and value >= 0
        assert grad.shape == pred.shape and np.all(np.isfinite(grad))


@given(st.lists(st.integers(1, 5), min_size=2, max_size=5), st.integers(1, 7),
       st.sampled_from(["sigmoid", "tanh", "relu", "leaky_relu"]), st.integers(0, 2**32 - 1))
def test_network_shapes_and_batch_independence(sizes, m, act, seed):
    rng = np.random.default_rng(seed)
    net = F.mlp(sizes, activation=act, rng=rng)
    X = rng.normal(size=(m, sizes[0]))
    out = net.forward(X)
    assert out.shape == (m, sizes[-1])
    # Each row is computed independently: row i of the batch equals a batch of one.
    np.testing.assert_allclose(net.forward(X[-1:]), out[-1:], rtol=1e-12, atol=1e-15)
    net.forward(X)
    net.backward(rng.normal(size=(m, sizes[-1])))
    for name, g in net.grads().items():
        assert g.shape == net.params()[name].shape and np.all(np.isfinite(g))
    for t in net.trace():
        assert t.delta.shape == t.z.shape == (m, sizes[t.l])


# n_out >= 2: a softmax over one class is constant 1, so its gradient is exactly zero
# and a relative error between two zeros (one of them round-off) is meaningless.
@given(st.integers(1, 4), st.integers(2, 4), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_small_networks_pass_gradient_check(n_hidden, n_out, m, seed):
    rng = np.random.default_rng(seed)
    net = F.mlp([3, n_hidden, n_out], activation="tanh", loss="softmax_cross_entropy", rng=rng)
    X = rng.normal(size=(m, 3))
    Y = np.eye(n_out)[rng.integers(0, n_out, size=m)]
    assert F.max_rel_error(F.check_network(net, X, Y, weight_decay=0.1, h=3e-4, order=4)) < 1e-7


@given(st.integers(1, 6), st.integers(1, 6))
def test_labels_of_shape_m_against_m_by_1_always_refused(m, n_in):
    net = F.mlp([n_in, 1], rng=np.random.default_rng(0))
    try:
        net.loss(np.zeros((m, n_in)), np.zeros(m))
    except ValueError as err:
        assert f"({m},)" in str(err) and f"({m}, 1)" in str(err)
    else:
        raise AssertionError("labels of shape (m,) were accepted against outputs (m, 1)")
