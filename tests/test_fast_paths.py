"""The performance shortcuts of the training step change no number (see benchmarks/).

``train_step`` skips ∂J/∂X of the first layer, ``sgd_step`` computes θ − η g with one
temporary fewer, ``Dense.forward`` adds the bias in place and ``relu`` uses
``np.maximum``. Each must give the same bits as the plain formulas, and the input
validation must still refuse NaN and inf.
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
    # trace() does not use output_grads[0]
    assert len(net.trace()) == 3


def test_train_step_with_an_activation_first_and_a_subclassed_dense_first():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4, 3))
    Y = rng.normal(size=(4, 2))
    net = F.Sequential([F.Activation("tanh"), F.Dense(3, 2, rng=rng)])
    net.train_step(X, Y, 0.1)  # the default _backward_params runs _backward

    calls = []

    class LoggingDense(F.Dense):
        def _backward_params(self, g):
            calls.append(g.shape)
            return super()._backward_params(g)

    net = F.Sequential([LoggingDense(3, 2, rng=rng)])
    net.train_step(X, Y, 0.1)
    assert calls == [(4, 2)]  # a subclass's own _backward_params is honoured


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
    with pytest.raises(ValueError, match="NaN or inf"):
        F.relu(np.array([0.0, bad]))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_activation_backward_equals_g_times_f_prime_bit_for_bit(name):
    rng = np.random.default_rng(6)
    Z = np.concatenate([rng.normal(size=(6, 5)) * 3, [[-0.0, 0.0, 1e-300, -40.0, 40.0]]])
    G = rng.normal(size=Z.shape)
    layer = F.Activation(name)
    layer.forward(Z)
    _, f_prime = F.get_activation(name)
    assert layer.backward(G).tobytes() == (G * f_prime(Z)).tobytes()
