"""Layers and whole networks: gradient checks, the δ recursion, training, initialisation."""

import itertools
import zlib

import numpy as np
import pytest

import fcnn_lib as F

TOL = 1e-7


def labels_for(loss, rng, m, n_out):
    if loss in ("softmax_cross_entropy", "categorical_cross_entropy"):
        return np.eye(n_out)[rng.integers(0, n_out, size=m)]
    if loss in ("binary_cross_entropy", "sigmoid_cross_entropy"):
        return (rng.uniform(size=(m, n_out)) > 0.5).astype(float)
    return rng.normal(size=(m, n_out))


OUTPUT_FOR_LOSS = {
    "mse": "identity",
    "softmax_cross_entropy": "identity",
    "sigmoid_cross_entropy": "identity",
    "categorical_cross_entropy": "softmax",
    "binary_cross_entropy": "sigmoid",
}

# depth (hidden layers) x width x activation x loss x batch size, a deterministic sample.
CONFIGS = [
    (depth, width, act, loss, m)
    for (depth, width, m), act, loss in itertools.product(
        [(0, 3, 1), (1, 4, 5), (2, 6, 3), (4, 3, 8)],
        ["sigmoid", "tanh", "relu", "leaky_relu"],
        list(OUTPUT_FOR_LOSS),
    )
]


@pytest.mark.parametrize("depth,width,act,loss,m", CONFIGS)
def test_random_network_passes_gradient_check(depth, width, act, loss, m):
    seed = zlib.crc32(repr((depth, width, act, loss, m)).encode())  # stable across runs
    rng = np.random.default_rng(seed)
    n_in, n_out = 3, 4
    sizes = [n_in] + [width] * depth + [n_out]
    net = F.mlp(sizes, activation=act, output=OUTPUT_FOR_LOSS[loss], loss=loss,
                init="xavier", rng=rng)
    # Biases away from zero so that ReLU kinks are not hit by the finite differences.
    for layer in net.param_layers:
        layer.params["b"] = rng.normal(0.5, 0.1, size=layer.params["b"].shape)
    X = rng.normal(size=(m, n_in))
    Y = labels_for(loss, rng, m, n_out)
    # The four-point stencil keeps finite-difference round-off below the tiny
    # gradients of deep sigmoid stacks (the two-point one is ~1e-7 there).
    results = F.check_network(net, X, Y, weight_decay=0.01, h=3e-4, order=4)
    assert F.max_rel_error(results) < TOL, {k: r.rel_error for k, r in results.items()}


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"])
def test_activation_layer_backward(act):
    rng = np.random.default_rng(3)
    layer = F.Activation(act)
    Z = rng.normal(size=(4, 5)) + 0.3
    G = rng.normal(size=(4, 5))
    layer.forward(Z)
    dZ = layer.backward(G)
    check = F.check_gradient(lambda z: float(np.sum(layer.forward(z) * G)), dZ, Z.copy())
    assert check.rel_error < TOL


def test_dense_layer_backward_matches_formulas_and_finite_differences():
    rng = np.random.default_rng(4)
    layer = F.Dense(3, 2, rng=rng)
    X = rng.normal(size=(5, 3))
    G = rng.normal(size=(5, 2))
    layer.forward(X)
    dX = layer.backward(G)
    np.testing.assert_allclose(layer.grads["W"], sum(np.outer(G[i], X[i]) for i in range(5)))
    np.testing.assert_allclose(layer.grads["b"], G.sum(axis=0))
    np.testing.assert_allclose(dX, G @ layer.W)
    f = lambda _: float(np.sum(layer.forward(X) * G))
    assert F.relative_error(layer.grads["W"], F.numerical_gradient(f, layer.params["W"])) < TOL
    assert F.relative_error(layer.grads["b"], F.numerical_gradient(f, layer.params["b"])) < TOL
    assert F.check_gradient(lambda x: float(np.sum(layer.forward(x) * G)), dX, X.copy()).rel_error < TOL


def test_backward_is_the_delta_recursion():
    net, X, Y = F.book.running_example()
    net.forward(X)
    net.backward(Y)
    (l1, l2) = net.trace()
    W2 = net.params()["W2"]
    # Output layer: δ(2) = (a(2) − y)/m ⊙ σ'(z(2)), rows are examples.
    delta2 = (l2.a - Y) / X.shape[0] * F.sigmoid_prime(l2.z)
    np.testing.assert_allclose(l2.delta, delta2, rtol=1e-13)
    # Recursion: δ(1) = (δ(2) W(2)) ⊙ σ'(z(1)) in row form.
    np.testing.assert_allclose(l1.delta, (delta2 @ W2) * F.sigmoid_prime(l1.z), rtol=1e-13)
    # Gradients: dW(l) = δ(l)ᵀ a(l−1), db(l) = column sums of δ(l).
    np.testing.assert_allclose(l2.dW, l2.delta.T @ l1.a, rtol=1e-13)
    np.testing.assert_allclose(l1.dW, l1.delta.T @ X, rtol=1e-13)
    np.testing.assert_allclose(l1.db, l1.delta.sum(axis=0), rtol=1e-13)
    np.testing.assert_array_equal(l1.a_prev, X)


def test_weight_decay_applies_to_weights_only():
    net, X, Y = F.book.running_example()
    _, g0 = net.gradients(X, Y)
    g0 = {k: v.copy() for k, v in g0.items()}
    lam = 0.3
    value, g1 = net.gradients(X, Y, weight_decay=lam)
    params = net.params()
    for name in g1:
        expected = g0[name] + (lam * params[name] if name.startswith("W") else 0.0)
        np.testing.assert_allclose(g1[name], expected, rtol=1e-13)
    penalty = 0.5 * lam * sum(np.sum(p**2) for k, p in params.items() if k.startswith("W"))
    assert value == pytest.approx(net.loss(X, Y) + penalty, rel=1e-14)


def test_sgd_step_moves_against_the_gradient():
    net, X, Y = F.book.running_example()
    before = {k: v.copy() for k, v in net.params().items()}
    _, grads = net.gradients(X, Y, weight_decay=0.1)
    grads = {k: v.copy() for k, v in grads.items()}
    net.sgd_step(0.5)
    for k, p in net.params().items():
        np.testing.assert_allclose(p, before[k] - 0.5 * grads[k], rtol=1e-14)


def test_training_lowers_the_loss_and_is_reproducible():
    def run(seed):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(64, 2))
        Y = np.eye(2)[(X[:, 0] * X[:, 1] > 0).astype(int)]
        net = F.mlp([2, 8, 2], activation="tanh", loss="softmax_cross_entropy", rng=rng)
        return net.fit(X, Y, epochs=60, batch_size=16, lr=0.5, rng=rng)

    h1, h2 = run(0), run(0)
    assert h1["loss"] == h2["loss"]
    assert len(h1["loss"]) == 60 and len(h1["batch_loss"]) == 60 * 4
    assert h1["loss"][-1] < 0.5 * h1["loss"][0]


def test_fit_callback_adds_to_history():
    net, X, Y = F.book.running_example()
    hist = net.fit(X, Y, epochs=3, batch_size=2, lr=0.1, rng=np.random.default_rng(0),
                   callback=lambda epoch, n: {"epoch": epoch})
    assert hist["epoch"] == [0, 1, 2]


def test_set_params_and_running_example_values():
    net, X, Y = F.book.running_example()
    A = net.forward(X)
    p = net.params()
    H = F.sigmoid(X @ p["W1"].T + p["b1"])
    np.testing.assert_allclose(A, F.sigmoid(H @ p["W2"].T + p["b2"]), rtol=1e-15)
    assert A.shape == (4, 2)


def test_equal_weights_keep_hidden_units_identical():
    rng = np.random.default_rng(0)
    net = F.mlp([2, 3, 1], activation="sigmoid", init="zeros")
    net.set_params([(np.full((3, 2), 0.5), np.zeros(3)), (np.full((1, 3), 0.5), np.zeros(1))])
    X = rng.normal(size=(16, 2))
    Y = rng.normal(size=(16, 1))
    net.fit(X, Y, epochs=20, batch_size=4, lr=0.5, rng=rng)
    W1 = net.params()["W1"]
    assert np.allclose(W1, W1[0]), "symmetry must survive training when weights start equal"
