"""The layer contract is the whole story: a new layer written from fcnn_lib.Layer's
docstring alone trains in Sequential and passes the gradient check, and the network
touches nothing of a layer but ``forward``, ``backward``, ``params``, ``grads`` and
``decay``.

The layers below are what a student writes after reading the contract: subclass
``F.Layer``, call ``super().__init__()``, define ``forward(x)`` (keep what backward
needs) and ``backward(grad_out, input_grad=True)`` (store ``grads``, return ∂J/∂input).
"""

import numpy as np
import pytest

import fcnn_lib as F


class Softplus(F.Layer):
    """softplus(z) = log(1 + e^z), a smooth ReLU; its derivative is σ(z)."""

    def forward(self, x):
        self.x = x                      # backward needs the input
        return np.logaddexp(0.0, x)

    def backward(self, grad_out, input_grad=True):
        return grad_out * F.sigmoid(self.x)


class FixedDropout(F.Layer):
    """Dropout with a fixed mask: y = x ⊙ mask / keep (the same units dropped every time)."""

    def __init__(self, mask, keep):
        super().__init__()
        self.scaled_mask = np.asarray(mask, dtype=float) / keep

    def forward(self, x):
        return x * self.scaled_mask

    def backward(self, grad_out, input_grad=True):
        return grad_out * self.scaled_mask


class Scale(F.Layer):
    """y = x ⊙ s with one learned factor per unit; weight decay applies to s."""

    decay = ("s",)

    def __init__(self, n):
        super().__init__()
        self.params = {"s": np.ones(n)}

    def forward(self, x):
        self.x = x
        return x * self.params["s"]

    def backward(self, grad_out, input_grad=True):
        self.grads = {"s": np.sum(grad_out * self.x, axis=0)}
        return grad_out * self.params["s"] if input_grad else None


def two_moons(seed, m=64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 2))
    Y = np.eye(2)[(X[:, 0] * X[:, 1] > 0).astype(int)]
    return rng, X, Y


def network(rng, *extra_first):
    return F.Sequential(
        [*extra_first, F.Dense(2, 8, rng=rng), Softplus(),
         FixedDropout([1, 0, 1, 1, 0, 1, 1, 1], keep=0.75), F.Dense(8, 2, rng=rng)],
        loss="softmax_cross_entropy",
    )


@pytest.mark.parametrize("first", [(), ("scale",)])
def test_new_layers_pass_the_gradient_check(first):
    rng, X, Y = two_moons(0, m=5)
    extra = [Scale(2)] if first else []
    net = network(rng, *extra)
    if first:
        net.layers[0].params["s"] = rng.uniform(0.5, 1.5, size=2)
    results = F.check_network(net, X, Y, weight_decay=0.05)
    expected = (["s1", "W2", "b2", "W3", "b3"] if first else ["W1", "b1", "W2", "b2"])
    assert list(results) == expected
    assert F.max_rel_error(results) < 1e-7, {k: r.rel_error for k, r in results.items()}


def test_new_layers_train_in_sequential():
    rng, X, Y = two_moons(1)
    net = network(rng, Scale(2))
    history = net.fit(X, Y, epochs=80, batch_size=16, lr=0.5, rng=rng, weight_decay=1e-4)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    dropped = net.layers[2].forward(np.ones((1, 8)))  # the dropped units carry nothing
    np.testing.assert_array_equal(net.layers[3].forward(np.ones((1, 8)))[0, [1, 4]], 0.0)
    assert dropped.shape == (1, 8)
    assert not np.array_equal(net.params()["s1"], np.ones(2))  # the first layer learned too


def test_softplus_derivative_is_sigmoid():
    z = np.linspace(-5, 5, 41)
    layer = Softplus()
    layer.forward(z)
    dz = layer.backward(np.ones_like(z))
    check = F.check_gradient(lambda v: float(np.sum(np.logaddexp(0.0, v))), dz, z.copy())
    assert check.rel_error < 1e-9


class Spy(Scale):
    """Records every attribute the outside world reads (not the layer's own methods)."""

    def __init__(self, n):
        object.__setattr__(self, "seen", set())
        object.__setattr__(self, "busy", 0)
        super().__init__(n)

    def __getattribute__(self, name):
        if name not in ("seen", "busy") and object.__getattribute__(self, "busy") == 0:
            object.__getattribute__(self, "seen").add(name)
        return object.__getattribute__(self, name)

    def inside(self, method, *args, **kwargs):
        object.__setattr__(self, "busy", self.busy + 1)
        try:
            return method(self, *args, **kwargs)
        finally:
            object.__setattr__(self, "busy", self.busy - 1)

    def forward(self, x):
        return Spy.inside(self, Scale.forward, x)

    def backward(self, grad_out, input_grad=True):
        return Spy.inside(self, Scale.backward, grad_out, input_grad)


def test_the_network_uses_only_the_contract():
    rng, X, Y = two_moons(2, m=6)
    first, middle = Spy(2), Spy(8)
    net = F.Sequential([first, F.Dense(2, 8, rng=rng), F.Activation("tanh"), middle,
                        F.Dense(8, 2, rng=rng)], loss="softmax_cross_entropy")
    first.seen.clear(), middle.seen.clear()
    net.loss(X, Y, weight_decay=0.1)
    net.gradients(X, Y, weight_decay=0.1)
    net.train_step(X, Y, 0.1, weight_decay=0.1)
    net.fit(X, Y, epochs=2, batch_size=4, lr=0.1, rng=rng)
    net.trace(), net.params(), net.grads(), repr(net)
    F.check_network(net, X, Y)
    contract = {"forward", "backward", "params", "grads", "decay", "__class__"}  # isinstance
    for spy in (first, middle):
        assert spy.seen <= contract, spy.seen - contract
        assert {"forward", "backward", "params", "grads", "decay"} <= spy.seen
