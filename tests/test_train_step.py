"""The training step: its one shortcut changes no number, and nothing else is special.

``train_step`` skips ∂J/∂X of the first layer (``backward(..., input_grad=False)``,
the one shortcut that pays: see benchmarks/). It must give the same bits as the
textbook step θ ← θ − η ∂J/∂θ with every gradient computed. The update changes the
parameter arrays in place, so a layer that keeps its own reference to one learns.
The network looks for NaN and inf where data enter and leave it, and keeps no state
about it: what a failed pass leaves behind changes nothing later.
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


def test_sgd_step_updates_the_parameter_arrays_in_place():
    net, X, Y = make_net(2)
    taken = net.params()
    before = {k: v.copy() for k, v in taken.items()}
    _, grads = net.gradients(X, Y)
    grads = {k: v.copy() for k, v in grads.items()}
    net.sgd_step(0.1)
    for k, p in net.params().items():
        assert p is taken[k]  # the same arrays, changed in place ...
        assert p.tobytes() == (before[k] - 0.1 * grads[k]).tobytes()  # ... to θ − η g, bit for bit


def test_the_stored_pass_is_discarded_when_the_parameters_change():
    net, X, Y = make_net(3)
    net.forward(X)
    net.backward(Y)
    net.sgd_step(0.1)
    for call in (lambda: net.backward(Y), lambda: net.trace()):
        with pytest.raises(RuntimeError, match="parameters last changed"):
            call()
    with pytest.raises(RuntimeError, match=r"sgd_step uses the gradients of a backward pass on the current parameters"):
        net.sgd_step(0.1)  # the same gradients twice
    net.forward(X)
    net.set_params([(layer.W, layer.b) for layer in net.param_layers])
    with pytest.raises(RuntimeError, match=r"call forward\(X\) before backward\(Y\)"):
        net.backward(Y)
    net.forward(X)
    net.initialize("he", np.random.default_rng(0))
    with pytest.raises(RuntimeError, match=r"call forward\(X\) first"):
        net.trace()
    # A layer used on its own: new parameters need a new forward pass too.
    layer = F.Dense(3, 2, rng=np.random.default_rng(0))
    layer.forward(np.ones((4, 3)))
    layer.set_params(np.ones((2, 3)), np.zeros(2))
    with pytest.raises(RuntimeError, match="call forward before backward"):
        layer.backward(np.ones((4, 2)))


def test_trace_gives_delta_and_gradients_only_for_the_current_pass():
    net, X, Y = make_net(4)
    net.gradients(X, Y)
    assert all(t.delta is not None and t.dW is not None for t in net.trace())
    net.forward(X[:3])  # a new forward pass: the old δ and dW belong to another batch
    for t in net.trace():
        assert t.delta is None and t.dW is None and t.db is None
        assert t.z.shape[0] == 3
    net.backward(Y[:3])
    assert [t.delta.shape[0] for t in net.trace()] == [3, 3, 3]


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


def test_nothing_is_left_behind_by_a_failed_pass():
    net, X, _ = make_net(6)
    with pytest.raises(ValueError, match="expects input of shape"):
        net.forward(X[:, :4])  # fails inside the layers
    assert net.outputs is None
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
