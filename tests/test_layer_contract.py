"""The layer contract is the whole story: a new layer written from fcnn_lib.Layer's
docstring alone trains in Sequential and passes the gradient check, and the network
touches nothing of a layer but ``forward``, ``backward``, ``params``, ``grads``,
``decay`` and the three optional declarations (``can_skip_input_grad``,
``is_activation``, ``output_kind``).

The layers below are what a student writes after reading the contract: subclass
``F.Layer``, call ``super().__init__()``, define ``forward(x)`` (keep what backward
needs) and ``backward(grad_out)`` (store ``grads``, return ∂J/∂input).
"""

import numpy as np
import pytest

import fcnn_lib as F


class Softplus(F.Layer):
    """softplus(z) = log(1 + e^z), a smooth ReLU; its derivative is σ(z)."""

    is_activation = True  # trace() reports its output as the activation a of the layer before

    def forward(self, x):
        self.x = x                      # backward needs the input
        return np.logaddexp(0.0, x)

    def backward(self, grad_out):
        return grad_out * F.sigmoid(self.x)


class FixedDropout(F.Layer):
    """Dropout with a fixed mask: y = x ⊙ mask / keep (the same units dropped every time)."""

    def __init__(self, mask, keep):
        super().__init__()
        self.scaled_mask = np.asarray(mask, dtype=float) / keep

    def forward(self, x):
        return x * self.scaled_mask

    def backward(self, grad_out):
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

    def backward(self, grad_out):
        self.grads = {"s": np.sum(grad_out * self.x, axis=0)}
        return grad_out * self.params["s"]


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
    kept = net.layers[3].forward(np.ones((1, 8)))[0]  # FixedDropout: units 1 and 4 dropped
    np.testing.assert_array_equal(kept, [4 / 3, 0, 4 / 3, 4 / 3, 0, 4 / 3, 4 / 3, 4 / 3])
    assert not np.array_equal(net.params()["s1"], np.ones(2))  # the first layer learned too


def test_trace_reads_a_new_activation_layer_from_its_declaration():
    rng, X, Y = two_moons(3, m=6)
    net = network(rng)
    net.gradients(X, Y)
    first, second = net.trace()
    np.testing.assert_array_equal(first.a, np.logaddexp(0.0, first.z))  # a = softplus(z)
    assert first.l == 1 and second.l == 2
    np.testing.assert_array_equal(second.a, second.z)  # nothing after the last Dense
    np.testing.assert_array_equal(second.a_prev, net.outputs[3])  # after the dropout

    class Undeclared(Softplus):
        is_activation = False

    net = F.Sequential([F.Dense(2, 3, rng=rng), Undeclared(), F.Dense(3, 2, rng=rng)])
    net.forward(X)
    np.testing.assert_array_equal(net.trace()[0].a, net.trace()[0].z)  # as documented
    # A layer with other parameters than W and b has no row but keeps its number.
    net = network(rng, Scale(2))
    net.forward(X)
    assert [t.l for t in net.trace()] == [2, 3]


class CS231nAffine(F.Layer):
    """An affine layer as cs231n writes it: it keeps self.W and self.b, registered in
    params, and its backward takes the upstream gradient only."""

    decay = ("W",)

    def __init__(self, n_in, n_out, rng):
        super().__init__()
        self.W = rng.normal(0.0, 0.5, size=(n_out, n_in))
        self.b = np.zeros(n_out)
        self.params = {"W": self.W, "b": self.b}

    def forward(self, x):
        self.cache = x
        return x @ self.W.T + self.b

    def backward(self, dout):
        x = self.cache
        self.grads = {"W": dout.T @ x, "b": dout.sum(axis=0)}
        return dout @ self.W


def test_a_layer_that_keeps_its_own_arrays_learns():
    rng, X, Y = two_moons(4)
    first = CS231nAffine(2, 8, rng)
    net = F.Sequential([first, F.Activation("tanh"), CS231nAffine(8, 2, rng)], loss="softmax_cross_entropy")
    results = F.check_network(net, X[:5], Y[:5], weight_decay=0.01)
    assert F.max_rel_error(results) < 1e-7
    W_before = first.W.copy()
    history = net.fit(X, Y, epochs=40, batch_size=16, lr=0.5, rng=rng)
    assert first.W is net.params()["W1"]  # the update changed the layer's own array
    assert not np.array_equal(first.W, W_before)
    assert history["loss"][-1] < 0.6 * history["loss"][0]
    net.forward(X)
    net.backward(Y, input_grad=False)  # cannot skip: it computes dX anyway, which is allowed
    assert net.output_grads[0].shape == X.shape


def test_a_new_loss_is_a_function():
    def mean_abs(pred, y):
        pred, y, m = F.losses.check_inputs(pred, y)
        return F.Loss(float(np.sum(np.abs(pred - y)) / m), np.sign(pred - y) / m)

    rng, X, Y = two_moons(5, m=8)
    net = F.Sequential([F.Dense(2, 3, rng=rng), F.Activation("tanh"), F.Dense(3, 2, rng=rng)], loss=mean_abs)
    assert repr(net).endswith("loss='mean_abs')")
    value, grads = net.gradients(X, Y)
    assert value == pytest.approx(np.mean(np.sum(np.abs(net.outputs[-1] - Y), axis=1)))
    assert F.max_rel_error(F.check_network(net, X, Y)) < 1e-6
    assert F.Sequential([F.Dense(2, 2, rng=rng)], loss=F.mse).loss_name == "mse"
    with pytest.raises(ValueError, match=r"labels y has shape \(8, 3\) but prediction has shape \(8, 2\)"):
        net.loss(X, np.zeros((8, 3)))
    bad = F.Sequential([F.Dense(2, 2, rng=rng)], loss=lambda p, y: 0.5)
    with pytest.raises(TypeError, match=r"must return a pair \(value, gradient\)"):
        bad.gradients(X, Y)
    bad = F.Sequential([F.Dense(2, 2, rng=rng)], loss=lambda p, y: (0.5, p[:, :1]))
    with pytest.raises(ValueError, match=r"returned a gradient of shape \(8, 1\), but the network's output has shape \(8, 2\)"):
        bad.gradients(X, Y)
    with pytest.raises(TypeError, match="loss must be a name such as 'mse' or a function"):
        F.Sequential([F.Dense(2, 2, rng=rng)], loss=3)


class Softmax(F.Layer):
    """A softmax layer written by hand, which says that it outputs distributions."""

    output_kind = "distributions"

    def forward(self, x):
        self.p = F.softmax(x)
        return self.p

    def backward(self, grad_out):
        return self.p * (grad_out - np.sum(grad_out * self.p, axis=1, keepdims=True))


def test_the_loss_check_reads_the_declared_output():
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError, match=r"applies its own softmax to logits, but the last layer, layers\[1\], .*Softmax.*already outputs distributions"):
        F.Sequential([F.Dense(2, 3, rng=rng), Softmax()], loss="softmax_cross_entropy")
    F.Sequential([F.Dense(2, 3, rng=rng), Softmax()], loss="categorical_cross_entropy")

    class Quiet(Softmax):
        output_kind = None  # declares nothing: nothing is checked

    F.Sequential([F.Dense(2, 3, rng=rng), Quiet()], loss="softmax_cross_entropy")


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

    def backward(self, grad_out):
        return Spy.inside(self, Scale.backward, grad_out)


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
    net.gradients(X, Y)
    net.trace(), net.params(), net.grads(), repr(net)
    F.check_network(net, X, Y)
    contract = {"forward", "backward", "params", "grads", "decay",
                "can_skip_input_grad", "is_activation", "output_kind"}
    for spy in (first, middle):
        assert spy.seen <= contract, spy.seen - contract
        assert {"forward", "backward", "params", "grads", "decay"} <= spy.seen
