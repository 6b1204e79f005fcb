"""The training step: its one shortcut changes no number, and nothing else is special.

``train_step`` skips ∂J/∂X of the first layer (``backward(..., input_grad=False)``,
the one shortcut that pays: see benchmarks/). It must give the same bits as the
textbook step θ ← θ − η ∂J/∂θ with every gradient computed. The network checks its
input X once and runs its layers without re-scanning the arrays it computed; the
layers used on their own still check everything.
"""

import numpy as np
import pytest

import fcnn_lib as F


def make_net(seed, activation="relu", loss="softmax_cross_entropy"):
    rng = np.random.default_rng(seed)
    net = F.mlp([5, 7, 6, 3], activation=activation, loss=loss, init="he", rng=rng)
    X = rng.normal(size=(8, 5))
    Y = np.eye(3)[rng.integers(0, 3, size=8)]
    return net, X, Y


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu"])
@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
def test_train_step_equals_plain_gradient_descent_bit_for_bit(activation, weight_decay):
    net, X, Y = make_net(1, activation)
    ref, _, _ = make_net(1, activation)
    lr = 0.037
    for _ in range(3):
        value_ref, grads = ref.gradients(X, Y, weight_decay)
        for layer in ref.param_layers:  # the textbook update θ ← θ − η g
            for k in layer.params:
                layer.params[k] = layer.params[k] - lr * layer.grads[k]
        value = net.train_step(X, Y, lr, weight_decay)
        assert value == value_ref
        for name, p in net.params().items():
            assert p.tobytes() == ref.params()[name].tobytes(), name


def test_sgd_step_makes_new_arrays():
    net, X, Y = make_net(2)
    taken = net.params()
    before = {k: v.copy() for k, v in taken.items()}
    net.train_step(X, Y, 0.1)
    for k in taken:
        np.testing.assert_array_equal(taken[k], before[k])  # arrays taken earlier keep their values
        assert not np.array_equal(net.params()[k], before[k])


def test_backward_without_input_grad_changes_only_output_grads_0():
    net, X, Y = make_net(2)
    net.forward(X)
    v_full = net.backward(Y, 1e-2)
    full = {k: v.copy() for k, v in net.grads().items()}
    deltas = [None if g is None else g.copy() for g in net.output_grads]
    assert deltas[0].shape == X.shape
    net.forward(X)
    v_skip = net.backward(Y, 1e-2, input_grad=False)
    assert v_skip == v_full
    assert net.output_grads[0] is None
    for k, v in net.grads().items():
        assert v.tobytes() == full[k].tobytes(), k
    for a, b in zip(net.output_grads[1:], deltas[1:]):
        assert a.tobytes() == b.tobytes()
    assert len(net.trace()) == 3  # trace() does not use output_grads[0]


def test_only_the_first_layer_is_asked_to_skip_its_input_gradient():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    calls = []

    class Logged(F.Dense):
        def backward(self, grad_out, input_grad=True):
            calls.append((repr(self), input_grad))
            return super().backward(grad_out, input_grad)

    net = F.Sequential([Logged(3, 4, rng=rng), F.Activation("tanh"), Logged(4, 2, rng=rng)])
    net.train_step(X, Y, 0.1)
    assert calls == [("Dense(4, 2)", True), ("Dense(3, 4)", False)]
    calls.clear()
    net.gradients(X, Y)
    assert calls == [("Dense(4, 2)", True), ("Dense(3, 4)", True)]
    # An activation first: it has nothing to compute when its input gradient is not wanted.
    net = F.Sequential([F.Activation("tanh"), F.Dense(3, 2, rng=rng)])
    net.forward(X)
    net.backward(Y, input_grad=False)
    assert net.output_grads[0] is None and net.output_grads[1].shape == (4, 3)


def test_dense_forward_and_relu_bits():
    rng = np.random.default_rng(4)
    layer = F.Dense(6, 4, rng=rng)
    layer.set_params(layer.W, rng.normal(size=4))
    X = rng.normal(size=(9, 6))
    assert layer.forward(X).tobytes() == (X @ layer.W.T + layer.b).tobytes()
    z = np.concatenate([rng.normal(size=50), [-0.0, 0.0, -1e-310, 1e-310, -1e300, 1e300]])
    r = F.relu(z)
    assert r.tobytes() == np.where(z > 0, z, 0.0).tobytes()
    assert not np.any(np.signbit(r))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_training_still_refuses_non_finite_input(bad):
    net, X, Y = make_net(5)
    X = X.copy()
    X[2, 3] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        net.train_step(X, Y, 0.1)
    Y = Y.copy()
    Y[0, 0] = bad
    with pytest.raises(ValueError, match="labels.*NaN or inf"):
        net.train_step(np.zeros_like(X), Y, 0.1)


def test_scanning_resumes_after_a_network_pass_fails():
    net, X, _ = make_net(6)
    with pytest.raises(ValueError, match="expects input of shape"):
        net.forward(X[:, :4])  # fails inside the layers, where scanning is off
    with pytest.raises(ValueError, match="NaN or inf"):
        F.sigmoid(np.array([np.nan]))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_activation_backward_is_g_times_the_one_f_prime(name):
    rng = np.random.default_rng(6)
    Z = np.concatenate([rng.normal(size=(6, 5)) * 3, [[-0.0, 0.0, 1e-300, -40.0, 40.0]]])
    G = rng.normal(size=Z.shape)
    layer = F.Activation(name)
    layer.forward(Z)
    f, f_prime = F.get_activation(name)
    assert layer.backward(G).tobytes() == (G * f_prime(Z)).tobytes()
    # The layer holds the module's functions; it has no derivative of its own.
    if name != "leaky_relu":
        assert layer.f is f and layer.f_prime is f_prime
    else:
        assert layer.f.func is f and layer.f_prime.func is f_prime and layer.f_prime.keywords == {"slope": 0.01}


def test_softmax_layer_backward_is_the_jacobian_product():
    rng = np.random.default_rng(7)
    Z, G = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    layer = F.Activation("softmax")
    layer.forward(Z)
    dZ = layer.backward(G)
    assert dZ.tobytes() == F.softmax_vjp(Z, G).tobytes()
    np.testing.assert_allclose(dZ, np.einsum("mi,mij->mj", G, F.softmax_jacobian(Z)), rtol=1e-12, atol=1e-15)
