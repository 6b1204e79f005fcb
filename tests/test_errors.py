"""Every bad input a student can plausibly give is refused with ValueError or TypeError,
and the message names what was received and what was expected.

Grouped by where the input goes: the network and its training, the losses, the
activations, gradient checking, initialisation, layers used on their own, and data.
(Convolution's own errors are in test_conv.py.)
"""

import warnings

import numpy as np
import pytest

import fcnn_lib as F
from test_layer_contract import Scale as ContractScale


@pytest.fixture
def net():
    return F.mlp([3, 4, 2], activation="relu", loss="mse", rng=np.random.default_rng(0))


def rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------------- network input
def test_wrong_feature_count(net):
    with pytest.raises(ValueError, match=r"expects input of shape \(m, 3\).*got \(5, 4\)"):
        net.forward(np.zeros((5, 4)))


def test_one_dimensional_input_is_refused(net):
    with pytest.raises(ValueError, match=r"\(m, 3\).*got \(3,\)"):
        net.forward(np.zeros(3))


def test_labels_that_would_broadcast_are_refused():
    net = F.mlp([3, 4, 1], rng=rng())
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"\(5,\).*\(5, 1\).*reshape"):
        net.loss(X, np.zeros(5))
    with pytest.raises(ValueError, match=r"\(5,\).*\(5, 1\)"):
        F.mse(np.zeros((5, 1)), np.zeros(5))


def test_label_width_mismatch(net):
    with pytest.raises(ValueError, match=r"\(5, 3\).*\(5, 2\)"):
        net.loss(np.zeros((5, 3)), np.zeros((5, 3)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_inputs(net, bad):
    X = np.zeros((2, 3))
    X[1, 2] = bad
    with pytest.raises(ValueError, match=r"input X.*NaN or inf.*\(1, 2\)"):
        net.forward(X)
    with pytest.raises(ValueError, match="NaN or inf"):
        net.train_step(X, np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match="NaN or inf"):
        F.sigmoid(np.array([0.0, bad]))


def test_nan_in_labels(net):
    Y = np.zeros((2, 2))
    Y[0, 0] = np.nan
    with pytest.raises(ValueError, match="labels.*NaN or inf"):
        net.loss(np.zeros((2, 3)), Y)


def test_non_numeric_and_ragged_input(net):
    with pytest.raises(TypeError, match="real numbers.*dtype"):
        net.forward(np.array([["a", "b", "c"]]))
    with pytest.raises(TypeError, match="real numbers.*dtype complex"):
        net.forward(np.zeros((2, 3), dtype=complex))
    with pytest.raises(ValueError, match="input X must be a rectangular array"):
        net.forward([[1.0, 2.0, 3.0], [1.0, 2.0]])


def test_mismatched_batch_sizes(net):
    with pytest.raises(ValueError, match=r"X has 5 example\(s\).*Y has 4"):
        net.loss(np.zeros((5, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"X has 5 example\(s\).*Y has 4"):
        net.fit(np.zeros((5, 3)), np.zeros((4, 2)), epochs=1, batch_size=2, lr=0.1, rng=rng())
    with pytest.raises(ValueError, match=r"batch sizes differ.*5.*4"):
        F.softmax_cross_entropy(np.zeros((5, 2)), np.zeros((4, 2)))


# ---------------------------------------------------------------------- empty batches
def test_empty_batch_is_refused_by_every_loss_and_step(net):
    X, Y = np.zeros((0, 3)), np.zeros((0, 2))
    for call in (lambda: net.loss(X, Y), lambda: net.gradients(X, Y),
                 lambda: net.train_step(X, Y, 0.1)):
        with pytest.raises(ValueError, match=r"holds no examples \(shape \(0, 2\)\)"):
            call()
    with pytest.raises(ValueError, match=r"input X holds no examples \(shape \(0, 3\)\)"):
        net.fit(X, Y, epochs=1, batch_size=2, lr=0.1, rng=rng())


@pytest.mark.parametrize("loss", [F.mse, F.binary_cross_entropy, F.categorical_cross_entropy,
                                  F.softmax_cross_entropy, F.sigmoid_cross_entropy])
def test_empty_batch_in_each_loss(loss):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before any mean over zero rows warns
        with pytest.raises(ValueError, match=r"holds no examples \(shape \(0, 3\)\).*at least one"):
            loss(np.zeros((0, 3)), np.zeros((0, 3)))


# ---------------------------------------------------------------------- names and sizes
def test_unknown_activation_name():
    with pytest.raises(ValueError, match=r"unknown activation 'sigmoyd'; known: .*sigmoid"):
        F.Activation("sigmoyd")
    with pytest.raises(ValueError, match="unknown activation"):
        F.mlp([2, 2, 1], activation="swish", rng=rng())
    with pytest.raises(ValueError, match="Jacobian"):
        F.get_activation("softmax")
    with pytest.raises(TypeError, match="activation name must be a string, got 3"):
        F.Activation(3)


def test_unknown_loss_name():
    with pytest.raises(ValueError, match=r"unknown loss 'cross_entropy'; known: .*softmax_cross_entropy"):
        F.mlp([2, 2], loss="cross_entropy", rng=rng())
    with pytest.raises(ValueError, match="unknown loss"):
        F.get_loss("l2")


def test_unknown_init_scheme():
    with pytest.raises(ValueError, match=r"unknown initialisation scheme 'glorot'; known: he, normal, xavier, zeros"):
        F.Dense(2, 2, init="glorot", rng=rng())
    with pytest.raises(ValueError, match="unknown initialisation scheme 'glorot'"):
        F.mlp([2, 2], init="glorot", rng=rng())
    with pytest.raises(ValueError, match="unknown initialisation scheme"):
        F.init_std("uniform", 2, 2)


@pytest.mark.parametrize("size", [0, -3])
def test_non_positive_layer_size(size):
    with pytest.raises(ValueError, match=f"positive integer, got {size}"):
        F.Dense(size, 2, rng=rng())
    with pytest.raises(ValueError, match=f"positive integer, got {size}"):
        F.mlp([3, size, 2], rng=rng())


def test_non_integer_layer_size():
    with pytest.raises(TypeError, match="positive integer, got 2.5"):
        F.Dense(2.5, 2, rng=rng())
    with pytest.raises(TypeError, match=r"sizes\[1\] must be a positive integer, got True"):
        F.mlp([2, True, 1], rng=rng())


def test_mlp_sizes_must_be_a_list_of_two_or_more():
    with pytest.raises(TypeError, match=r"sizes must be a list of layer sizes such as \[2, 3, 1\], got 3"):
        F.mlp(3, rng=rng())
    with pytest.raises(TypeError, match="sizes must be a list"):
        F.mlp("2-3-1", rng=rng())
    with pytest.raises(ValueError, match=r"at least an input and an output size, got \[4\]"):
        F.mlp([4], rng=rng())


def test_randomness_needs_an_explicit_generator(net):
    for call in (lambda: F.Dense(2, 2, init="he"), lambda: F.Dense(2, 2, init="he", rng=0),
                 lambda: F.mlp([2, 2], rng=42), lambda: net.initialize("xavier", None),
                 lambda: F.init_weights("he", (2, 2), np.random.RandomState(0), fan_in=2, fan_out=2),
                 lambda: net.fit(np.zeros((2, 3)), np.zeros((2, 2)), epochs=1, batch_size=1, lr=0.1, rng=0),
                 lambda: F.minibatches(4, 2, rng=None)):
        with pytest.raises(TypeError, match="numpy.random.Generator.*default_rng"):
            call()


# ---------------------------------------------------------------------- the container
def test_sequential_refuses_bad_layer_lists():
    with pytest.raises(ValueError, match="at least one layer, got an empty list"):
        F.Sequential([])
    with pytest.raises(TypeError, match=r"layers\[1\] must be a fcnn_lib Layer such as .*got <ufunc 'tanh'> \(ufunc\)"):
        F.Sequential([F.Dense(2, 2, rng=rng()), np.tanh])
    with pytest.raises(TypeError, match=r"Activation\('tanh'\), got 'relu' \(str\)"):
        F.Sequential([F.Dense(2, 2, rng=rng()), "relu"])
    act = F.Activation("tanh")
    with pytest.raises(ValueError, match=r"layers\[3\], Activation\('tanh'\), is the same object as an earlier layer"):
        F.Sequential([F.Dense(2, 2, rng=rng()), act, F.Dense(2, 2, rng=rng()), act])


def test_fused_loss_after_softmax_is_refused():
    with pytest.raises(ValueError, match="applies its own softmax"):
        F.mlp([2, 3], output="softmax", loss="softmax_cross_entropy", rng=rng())
    with pytest.raises(ValueError, match="applies its own sigmoid"):
        F.mlp([2, 3], output="sigmoid", loss="sigmoid_cross_entropy", rng=rng())


def test_set_params_checks_shapes(net):
    with pytest.raises(ValueError, match=r"W must have shape \(4, 3\), got \(3, 4\)"):
        net.set_params([(np.zeros((3, 4)), np.zeros(4)), (np.zeros((2, 4)), np.zeros(2))])
    with pytest.raises(ValueError, match=r"b must have shape \(4,\), got \(3,\)"):
        net.set_params([(np.zeros((4, 3)), np.zeros(3)), (np.zeros((2, 4)), np.zeros(2))])
    with pytest.raises(ValueError, match=r"got 1 \(W, b\) pair"):
        net.set_params([(np.zeros((4, 3)), np.zeros(4))])
    with pytest.raises(ValueError, match=r"must be a \(W, b\) pair, got 3 item"):
        net.set_params([(np.zeros((4, 3)), np.zeros(4), 0), (np.zeros((2, 4)), np.zeros(2))])
    with pytest.raises(ValueError, match="W.*NaN or inf"):
        net.set_params([(np.full((4, 3), np.nan), np.zeros(4)), (np.zeros((2, 4)), np.zeros(2))])


def test_call_order_is_enforced():
    net = F.mlp([2, 2], rng=rng())
    with pytest.raises(RuntimeError, match=r"call forward\(X\) before backward\(Y\)"):
        net.backward(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match=r"call forward\(X\) first"):
        net.trace()
    with pytest.raises(RuntimeError, match="call forward before backward"):
        F.Dense(2, 2, rng=rng()).backward(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="call forward before backward"):
        F.Activation("relu").backward(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="call forward before backward"):
        F.Flatten().backward(np.zeros((1, 2)))


def test_a_layer_that_breaks_the_contract_is_named():
    class Wrong(F.Layer):
        def forward(self, x):
            return x

        def backward(self, grad_out, input_grad=True):
            return grad_out[:, :1]  # wrong shape

    net = F.Sequential([F.Dense(3, 2, rng=rng()), Wrong()])
    net.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Wrong.*backward returned a gradient of shape \(4, 1\), but the layer's input had shape \(4, 2\)"):
        net.backward(np.zeros((4, 2)))

    class NoInit(F.Layer):
        def __init__(self):
            super().__init__()
            self.params = {"w": np.zeros(2)}

    with pytest.raises(TypeError, match="has parameters but no initialize"):
        F.Sequential([NoInit()]).initialize("xavier", rng())
    with pytest.raises(TypeError, match=r"has parameters but no set_params\(W, b\)"):
        F.Sequential([NoInit()]).set_params([(np.zeros(2), np.zeros(2))])
    with pytest.raises(NotImplementedError, match="must define forward"):
        F.Sequential([F.Layer()]).forward(np.zeros((1, 2)))


# ---------------------------------------------------------------------- learning rate, decay
BAD_POSITIVE = [(0, ValueError, "> 0, got 0"), (-1, ValueError, "> 0, got -1"),
                (np.nan, ValueError, "finite number > 0, got nan"),
                (np.inf, ValueError, "finite number > 0, got inf"),
                ("0.1", TypeError, "real number, got '0.1' \\(str\\)"),
                (True, TypeError, "real number, got True \\(bool\\)"),
                (None, TypeError, "real number, got None")]
BAD_NONNEGATIVE = [(-0.5, ValueError, ">= 0, got -0.5"), (np.nan, ValueError, "finite number >= 0, got nan"),
                   (np.inf, ValueError, "finite number >= 0, got inf"),
                   ("1e-4", TypeError, "real number, got '1e-4'")]


@pytest.mark.parametrize("lr,exc,match", BAD_POSITIVE)
def test_bad_learning_rate(net, lr, exc, match):
    X, Y = np.zeros((2, 3)), np.zeros((2, 2))
    before = {k: v.copy() for k, v in net.params().items()}
    net.gradients(X, Y)
    for call in (lambda: net.sgd_step(lr), lambda: net.train_step(X, Y, lr),
                 lambda: net.fit(X, Y, epochs=1, batch_size=1, lr=lr, rng=rng())):
        with pytest.raises(exc, match="learning rate lr must be a .*" + match):
            call()
    assert all(np.array_equal(v, before[k]) for k, v in net.params().items())  # nothing moved


@pytest.mark.parametrize("lam,exc,match", BAD_NONNEGATIVE)
def test_bad_weight_decay(net, lam, exc, match):
    X, Y = np.zeros((2, 3)), np.zeros((2, 2))
    for call in (lambda: net.loss(X, Y, lam), lambda: net.gradients(X, Y, lam),
                 lambda: net.train_step(X, Y, 0.1, lam), lambda: net.penalty(lam),
                 lambda: net.fit(X, Y, epochs=1, batch_size=1, lr=0.1, rng=rng(), weight_decay=lam)):
        with pytest.raises(exc, match="weight_decay must be a .*" + match):
            call()


# ---------------------------------------------------------------------- fit
@pytest.mark.parametrize("kwargs,exc,match", [
    ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
    ({"epochs": 2.0}, TypeError, "epochs must be a positive integer, got 2.0"),
    ({"batch_size": -1}, ValueError, "batch_size must be a positive integer, got -1"),
    ({"batch_size": True}, TypeError, "batch_size must be a positive integer, got True"),
    ({"shuffle": "yes"}, TypeError, "shuffle must be True or False, got 'yes'"),
    ({"callback": "print"}, TypeError, r"callback must be a function callback\(epoch, net\) or None, got 'print'"),
    ({"callback": lambda epoch, net: 3.0}, TypeError, "callback must return None or a dict.*got float"),
    ({"callback": lambda epoch, net: {"loss": 1.0}}, ValueError, "callback returned key 'loss', which fit records itself"),
])
def test_fit_refuses(net, kwargs, exc, match):
    args = dict(epochs=1, batch_size=2, lr=0.1, rng=rng()) | kwargs
    with pytest.raises(exc, match=match):
        net.fit(np.zeros((4, 3)), np.zeros((4, 2)), **args)


def test_fit_refuses_one_dimensional_input():
    net = F.mlp([3, 2], rng=rng())
    with pytest.raises(ValueError, match=r"one example per row.*got shape \(3,\)"):
        net.fit(np.zeros(3), np.zeros((3, 2)), epochs=1, batch_size=1, lr=0.1, rng=rng())


# ---------------------------------------------------------------------- losses
def test_probabilities_out_of_range():
    with pytest.raises(ValueError, match=r"probabilities p must be probabilities in \[0, 1\]; got values in \[-0.1"):
        F.binary_cross_entropy(np.array([[-0.1, 0.5]]), np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"probabilities p.*\[0.2, 1.5\]"):
        F.categorical_cross_entropy(np.array([[1.5, 0.2]]), np.array([[1.0, 0.0]]))


@pytest.mark.parametrize("loss", [F.binary_cross_entropy, F.sigmoid_cross_entropy,
                                  F.categorical_cross_entropy, F.softmax_cross_entropy])
@pytest.mark.parametrize("y,values", [([[-1.0, 2.0]], r"\[-1, 2\]"), ([[0.0, 1.5]], r"\[0, 1.5\]")])
def test_cross_entropy_labels_outside_0_1(loss, y, values):
    with pytest.raises(ValueError, match=r"labels y must be probabilities in \[0, 1\]; got values in " + values):
        loss(np.full((1, 2), 0.5), np.array(y))


@pytest.mark.parametrize("loss", [F.categorical_cross_entropy, F.softmax_cross_entropy])
@pytest.mark.parametrize("y,row,total", [([[1.0, 0.0], [1.0, 1.0]], 1, "2"),
                                         ([[0.0, 0.0], [0.0, 1.0]], 0, "0"),
                                         ([[0.5, 0.4], [0.0, 1.0]], 0, "0.9")])
def test_categorical_labels_must_be_distributions(loss, y, row, total):
    with pytest.raises(ValueError, match=f"each row of labels y must sum to 1 .*row {row} sums to {total}$"):
        loss(np.full((2, 2), 0.5), np.array(y))


def test_soft_labels_are_accepted():
    y = np.array([[0.9, 0.05, 0.05], [1 / 3, 1 / 3, 1 / 3]])
    value, grad = F.softmax_cross_entropy(np.zeros((2, 3)), y)
    assert value == pytest.approx(np.log(3)) and grad.shape == (2, 3)


def test_integer_class_labels_get_a_one_hot_hint():
    z = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"labels y has shape \(4,\).*F\.one_hot\(y, 3\)"):
        F.softmax_cross_entropy(z, np.array([0, 2, 1, 1]))
    net = F.mlp([2, 3], loss="softmax_cross_entropy", rng=rng())
    with pytest.raises(ValueError, match=r"one_hot"):
        net.fit(np.zeros((4, 2)), np.array([0, 2, 1, 1]), epochs=1, batch_size=2, lr=0.1, rng=rng())


@pytest.mark.parametrize("loss", [F.softmax_cross_entropy, F.categorical_cross_entropy])
def test_one_class_is_refused(loss):
    with pytest.raises(ValueError, match=r"has shape \(3, 1\): a categorical loss needs at least 2 classes .*sigmoid_cross_entropy"):
        loss(np.full((3, 1), 0.5), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"needs at least 2 output units .*sizes\[-1\] = 1.*sigmoid_cross_entropy"):
        F.mlp([2, 1], output="softmax" if loss is F.categorical_cross_entropy else "identity",
              loss=loss.__name__, rng=rng())


def test_integer_labels_in_a_column_get_a_one_hot_hint():
    with pytest.raises(ValueError, match=r"labels y has shape \(4, 1\) .*F\.one_hot\(y\.ravel\(\), 3\)"):
        F.softmax_cross_entropy(np.zeros((4, 3)), np.array([[0], [2], [1], [1]]))


@pytest.mark.parametrize("loss,output,hint", [
    ("binary_cross_entropy", "identity", "sigmoid_cross_entropy"),
    ("binary_cross_entropy", "relu", "sigmoid_cross_entropy"),
    ("categorical_cross_entropy", "identity", "softmax_cross_entropy"),
    ("categorical_cross_entropy", "tanh", "softmax_cross_entropy"),
])
def test_probability_losses_after_real_outputs_are_refused(loss, output, hint):
    with pytest.raises(ValueError, match=f"loss '{loss}' needs probabilities, but the last layer, layers\\[\\d\\], .* outputs real numbers; use '{hint}'"):
        F.mlp([2, 3, 2], output=output, loss=loss, rng=rng())
    F.mlp([2, 3, 2], output="sigmoid", loss="binary_cross_entropy", rng=rng())  # these are fine
    F.mlp([2, 3, 2], output="softmax", loss="categorical_cross_entropy", rng=rng())


def test_prediction_must_be_a_batch():
    with pytest.raises(ValueError, match=r"prediction a must have 2 dimension\(s\), got shape \(3,\)"):
        F.mse(np.zeros(3), np.zeros(3))


# ---------------------------------------------------------------------- activations
def test_mlp_checks_every_activation_name():
    with pytest.raises(ValueError, match=r"unknown activation 'sigmod'; known:"):
        F.mlp([2, 1], activation="sigmod", rng=rng())  # no hidden layer uses it: refused all the same
    with pytest.raises(ValueError, match=r"unknown output activation 'sigmod'"):
        F.mlp([2, 3, 1], output="sigmod", rng=rng())


def test_a_slope_is_for_leaky_relu_only():
    with pytest.raises(TypeError, match="slope must be a real number, got 'x'"):
        F.Activation("tanh", slope="x")
    with pytest.raises(ValueError, match=r"slope=0.2 applies to 'leaky_relu' only; Activation\('tanh'\) has no slope"):
        F.Activation("tanh", slope=0.2)
    with pytest.raises(ValueError, match=r"slope=0.2 applies to 'leaky_relu' only, but no layer is leaky_relu"):
        F.mlp([2, 3, 1], activation="relu", slope=0.2, rng=rng())
    net = F.mlp([2, 3, 1], activation="leaky_relu", output="sigmoid", slope=0.2, rng=rng())
    assert [getattr(layer, "slope", None) for layer in net.layers] == [None, 0.2, None, 0.01]


def test_leaky_relu_slope_validation():
    with pytest.raises(ValueError, match=r"slope must lie in \[0, 1\), got 1.5"):
        F.leaky_relu(np.zeros(2), 1.5)
    with pytest.raises(ValueError, match="slope"):
        F.Activation("leaky_relu", slope=-0.2)
    with pytest.raises(TypeError, match="slope must be a real number, got '0.1'"):
        F.leaky_relu_prime(np.zeros(2), "0.1")


def test_softmax_shapes():
    with pytest.raises(ValueError, match=r"softmax expects shape \(n,\) or \(m, n\) with n >= 1, got \(2, 2, 2\)"):
        F.softmax(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"Activation\('softmax'\) expects shape \(m, n\), got \(3,\)"):
        F.Activation("softmax").forward(np.zeros(3))
    with pytest.raises(ValueError, match=r"gradient g has shape \(2, 2\) but z has shape \(2, 3\)"):
        F.softmax_vjp(np.zeros((2, 3)), np.zeros((2, 2)))


def test_activation_input_must_be_numbers():
    with pytest.raises(TypeError, match="z must hold real numbers"):
        F.relu(np.array(["1"]))


# ---------------------------------------------------------------------- gradient checking
BAD_STEP = [(0.0, ValueError, "step size h must be a finite number > 0, got 0.0"),
            (-1e-5, ValueError, "> 0, got -1e-05"),
            (np.nan, ValueError, "finite number > 0, got nan"),
            (np.inf, ValueError, "finite number > 0, got inf"),
            ("1e-5", TypeError, "step size h must be a real number, got '1e-5'"),
            (1e-20, ValueError, r"step size h = 1e-20 is too small for x\[0\] = 1: x \+ 1·h rounds back to x")]


@pytest.mark.parametrize("h,exc,match", BAD_STEP)
def test_bad_step_size(h, exc, match):
    x = np.array([1.0, 2.0])
    f = lambda v: float(np.sum(v ** 2))
    with pytest.raises(exc, match=match):
        F.numerical_gradient(f, x, h)
    with pytest.raises(exc, match=match):
        F.check_gradient(f, 2 * x, x, h)
    net, X, Y = F.book.running_example()
    with pytest.raises(exc, match=match.replace("x\\[0\\] = 1", "x\\[0, 0\\] = 0.1")):
        F.check_network(net, X, Y, h=h)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_a_step_too_small_for_the_fourth_order_stencil():
    net, X, Y = F.book.running_example()
    with pytest.raises(ValueError, match=r"step size h = 1e-300 is too small .* x \+ 2·h rounds back to x"):
        F.check_network(net, X, Y, h=1e-300, order=4)
    with pytest.raises(ValueError, match=r"step size h = 1e\+308 moves x\[0\] = 1e\+308 to inf"):
        F.numerical_gradient(lambda v: 0.0, np.array([1e308]), 1e308)


def test_bad_stencil_order():
    for order in (3, 1, True, "4"):
        with pytest.raises(ValueError, match=r"order must be one of \[2, 4\], got"):
            F.numerical_gradient(lambda v: 0.0, np.zeros(2), order=order)


def test_f_must_return_one_finite_number():
    x = np.zeros((2, 2))
    y = np.ones((2, 2))
    with pytest.raises(TypeError, match=r"f must return one real number \(e\.g\. a loss's \.value\), got Loss"):
        F.numerical_gradient(lambda a: F.mse(a, y), x)
    with pytest.raises(TypeError, match=r"got ndarray\(2, 2\)"):
        F.numerical_gradient(lambda a: a * 2, x)
    with pytest.raises(ValueError, match="f returned nan at a perturbed point"):
        F.numerical_gradient(lambda a: float("nan"), x)
    for low in (np.float32, np.float16):
        with pytest.raises(TypeError, match=f"f returned a {low.__name__} value; finite differences need float64"):
            F.numerical_gradient(lambda a: low(a.sum()), x)
        with pytest.raises(TypeError, match=f"f returned a {low.__name__} value"):
            F.numerical_gradient(lambda a: a.sum(keepdims=True).astype(low), x)
    with pytest.raises(TypeError, match="f must be a function"):
        F.numerical_gradient(3.0, x)
    np.testing.assert_array_equal(x, 0.0)  # restored after the error
    assert F.numerical_gradient(lambda a: np.array([a.sum()]), x).shape == (2, 2)  # one number in an array


def test_numerical_gradient_refuses_what_it_cannot_perturb():
    with pytest.raises(TypeError, match="float64"):
        F.numerical_gradient(lambda v: 0.0, np.arange(3))
    with pytest.raises(TypeError, match="float64"):
        F.numerical_gradient(lambda v: 0.0, [1.0, 2.0])
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"numerical_gradient perturbs x in place, but x \(shape \(3,\)\) is read-only.*x.copy\(\)"):
        F.numerical_gradient(lambda v: 0.0, frozen)


def test_check_gradient_arguments():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        F.check_gradient(lambda v: 0.0, np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(TypeError, match="check_gradient perturbs x in place, so x must be a float64 numpy array; got list"):
        F.check_gradient(lambda v: 0.0, [0.0], [1.0])
    with pytest.raises(ValueError, match="analytic gradient.*NaN or inf"):
        F.check_gradient(lambda v: 0.0, np.array([np.nan]), np.zeros(1))
    with pytest.raises(ValueError, match=r"cannot compare gradients of shapes \(2,\) and \(2, 1\)"):
        F.relative_error(np.zeros(2), np.zeros((2, 1)))


def test_gradcheck_results():
    result = F.check_gradient(lambda v: float(v @ v), lambda v: 2 * v, np.ones(2))
    for tol, exc in ((0, ValueError), (-1e-7, ValueError), (np.nan, ValueError), ("1e-7", TypeError)):
        with pytest.raises(exc, match="tolerance tol"):
            result.passed(tol)
    with pytest.raises(ValueError, match="no results: the network has no parameters"):
        F.max_rel_error({})
    with pytest.raises(TypeError, match="expects the dict that check_network returns, got list"):
        F.max_rel_error([result])
    with pytest.raises(TypeError, match="check_network needs a fcnn_lib network .*got Dense"):
        F.check_network(F.Dense(2, 2, rng=rng()), np.zeros((1, 2)), np.zeros((1, 2)))


# ---------------------------------------------------------------------- initialisation
def test_initialisation_arguments():
    with pytest.raises(ValueError, match="fan_in must be a positive integer, got 0"):
        F.init_std("he", 0, 3)
    with pytest.raises(TypeError, match="fan_out must be a positive integer, got 3.0"):
        F.init_std("xavier", 2, 3.0)
    for scale, exc in ((0, ValueError), (-0.01, ValueError), (np.inf, ValueError), ("0.01", TypeError)):
        with pytest.raises(exc, match=r"scale \(std of the 'normal' scheme\) must be a"):
            F.Dense(2, 2, init="normal", rng=rng(), scale=scale)
    with pytest.raises(ValueError, match="each entry of shape must be a positive integer, got 0"):
        F.init_weights("he", (0, 2), rng(), fan_in=2, fan_out=2)


# ---------------------------------------------------------------------- layers on their own
def test_layer_backward_checks_the_gradient():
    layer = F.Dense(3, 2, rng=rng())
    layer.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Dense\(3, 2\): gradient has shape \(4, 3\) but the layer's output had shape \(4, 2\)"):
        layer.backward(np.zeros((4, 3)))
    with pytest.raises(TypeError, match=r"gradient into Dense\(3, 2\) must hold real numbers"):
        layer.backward(np.full((4, 2), "x"))
    act = F.Activation("tanh")
    act.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Activation\('tanh'\): gradient has shape \(3, 4\)"):
        act.backward(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"z \(shape \(1, 3\)\) contains NaN or inf"):
        act.forward(np.full((1, 3), np.nan))  # the activation functions check their input


# ---------------------------------------------------------------------- NaN and inf inside a network
class EmitsNaN(F.Layer):
    """A broken layer: its output holds NaN."""

    def forward(self, x):
        return np.where(x > 0, np.nan, x)

    def backward(self, grad_out):
        return grad_out

    def __repr__(self):
        return "EmitsNaN()"


def test_the_layer_whose_output_is_not_finite_is_named():
    X = np.ones((2, 3))
    for layers in ([F.Dense(3, 2, init="zeros"), EmitsNaN()],  # last: the output
                   [F.Dense(3, 2, init="zeros"), EmitsNaN(), F.Activation("tanh"), F.Dense(2, 2, init="zeros")],
                   [F.Dense(3, 2, init="zeros"), EmitsNaN(), F.Dense(2, 2, init="zeros")]):
        net = F.Sequential(layers)
        net.layers[0].set_params(np.ones((2, 3)), np.zeros(2))
        with pytest.raises(ValueError, match=r"the output of layers\[1\], EmitsNaN\(\) \(shape \(2, 2\)\) contains NaN or inf, first at index \(0, 0\): nan, although its input is finite$"):
            net.forward(X)
        with pytest.raises(ValueError, match=r"layers\[1\], EmitsNaN"):
            net.train_step(X, np.zeros((2, 2)), 0.1)


def test_non_finite_parameters_are_named_by_the_next_forward_pass():
    net = F.mlp([3, 4, 2], activation="relu", rng=rng())
    net.params()["W2"][1, 2] = np.inf
    with pytest.raises(ValueError, match=r"output of layers\[2\], Dense\(4, 2\).*its parameter\(s\) \['W'\] hold NaN or inf"):
        net.predict(np.ones((2, 3)))
    net = F.mlp([3, 4, 2], activation="sigmoid", rng=rng())
    net.params()["b1"][0] = np.nan  # hidden behind a sigmoid: its input check finds it
    with pytest.raises(ValueError, match=r"output of layers\[0\], Dense\(3, 4\).*\['b'\] hold NaN or inf"):
        net.predict(np.ones((2, 3)))


def test_divergence_is_refused_and_names_the_learning_rate():
    r = rng()
    X = r.normal(size=(32, 2))
    Y = np.eye(2)[(X[:, 0] * X[:, 1] > 0).astype(int)]
    net = F.mlp([2, 8, 2], activation="relu", loss="mse", rng=r)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow warnings come first
        with pytest.raises(ValueError, match=r"fit, epoch \d+, step \d+ \(learning rate lr = 1000\): .*not finite.*smaller learning rate"):
            net.fit(X, Y, epochs=50, batch_size=8, lr=1e3, rng=r)
    net = F.mlp([2, 3, 2], init="zeros")
    net.set_params([(np.ones((3, 2)), np.zeros(3)), (np.ones((2, 3)), np.zeros(2))])  # λ/2 · 12 overflows
    before = {k: v.copy() for k, v in net.params().items()}
    with pytest.raises(ValueError, match=r"objective J is not finite: the weight-decay term .* is inf for weight_decay = 1e\+308"):
        net.train_step(X, Y, 0.1, weight_decay=1e308)
    assert all(np.array_equal(v, before[k]) for k, v in net.params().items())  # not updated
    with pytest.raises(ValueError, match="weight-decay term"):
        net.gradients(X, Y, weight_decay=1e308)


def test_the_step_checks_the_parameters_after_its_update():
    class Explodes(F.Layer):  # its gradient makes the next layer's weights infinite
        def forward(self, x):
            return x

        def backward(self, grad_out):
            return grad_out

    net = F.Sequential([F.Dense(2, 2, init="zeros"), Explodes()])
    original = net.layers[0].backward

    def huge(grad_out, input_grad=True):
        dx = original(grad_out, input_grad)
        net.layers[0].grads["W"][...] = 1e308
        return dx

    net.layers[0].backward = huge
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match=r"fit, epoch 0, step 0 \(learning rate lr = 10\): the update with learning rate lr = 10 \(J before it: 0\) made parameter W1 not finite \(first at index \(0, 0\): -inf\)"):
            net.fit(np.ones((2, 2)), np.zeros((2, 2)), epochs=1, batch_size=2, lr=10.0, rng=rng())
        # The parameters stay as the update left them; the next pass names them.
        with pytest.raises(ValueError, match=r"output of layers\[0\], Dense\(2, 2\).*\['W'\] hold NaN or inf"):
            net.train_step(np.ones((2, 2)), np.zeros((2, 2)), 10.0)


# ---------------------------------------------------------------------- the layer contract, checked
class Scale(ContractScale):
    """The layer tests/test_layer_contract.py writes from the contract, named in messages."""

    def __repr__(self):
        return f"{type(self).__name__}()"


def breaches():
    """Layers that each break one clause of the contract, with the message that names it."""

    class WrongGradShape(Scale):
        def backward(self, grad_out):
            self.grads = {"s": grad_out * self.x}  # forgot the sum over the batch: (m, 2)
            return grad_out * self.params["s"]

    class MissingGrad(Scale):
        def backward(self, grad_out):
            self.grads = {}
            return grad_out * self.params["s"]

    class ReturnsNone(Scale):
        def backward(self, grad_out):
            super().backward(grad_out)

    class ReturnsList(Scale):
        def forward(self, x):
            return (x * self.params["s"]).tolist()

    class ReturnsInts(Scale):
        def backward(self, grad_out):
            super().backward(grad_out)
            return np.ones(grad_out.shape, dtype=int)

    class DropsARow(Scale):
        def forward(self, x):
            return super().forward(x)[1:]

    return [
        (WrongGradShape, ValueError, r"layers\[1\], WrongGradShape\(\), grads\['s'\] has shape \(4, 2\) but params\['s'\] has shape \(2,\)"),
        (MissingGrad, ValueError, r"layers\[1\], MissingGrad\(\), backward stored gradients \[\] but its parameters are \['s'\]"),
        (ReturnsNone, ValueError, r"layers\[1\], ReturnsNone\(\), backward returned None, but layers\[0\] needs it"),
        (ReturnsList, TypeError, r"layers\[1\], ReturnsList\(\), forward returned list; the Layer contract asks for a float64 numpy array"),
        (ReturnsInts, TypeError, r"layers\[1\], ReturnsInts\(\), backward returned ndarray of dtype int64"),
        (DropsARow, ValueError, r"layers\[1\], DropsARow\(\), forward returned shape \(3, 2\) for a batch of 4 example\(s\)"),
    ]


@pytest.mark.parametrize("layer,exc,match", breaches(), ids=lambda v: getattr(v, "__name__", ""))
def test_every_breach_of_the_contract_names_the_layer(layer, exc, match):
    net = F.Sequential([F.Dense(3, 2, rng=rng()), layer(2), F.Dense(2, 2, rng=rng())])
    X, Y = np.ones((4, 3)), np.zeros((4, 2))
    with pytest.raises(exc, match=match):
        net.gradients(X, Y)
    params = {k: v.copy() for k, v in net.params().items()}
    with pytest.raises(exc, match=match):
        net.train_step(X, Y, 0.1)
    assert all(np.array_equal(v, params[k]) for k, v in net.params().items())  # nothing updated


def test_a_layer_without_the_contracts_attributes_is_refused():
    class NoSuper(F.Layer):
        def __init__(self):  # forgot super().__init__()
            self.w = 1.0

    with pytest.raises(TypeError, match=r"layers\[0\], .*NoSuper.* has no params dict: a new layer must call super\(\).__init__\(\)"):
        F.Sequential([NoSuper()])

    class BadDecay(Scale):
        decay = ("w",)

    with pytest.raises(ValueError, match=r"layers\[0\], BadDecay\(\), names \['w'\] in decay, but its params are \['s'\]"):
        F.Sequential([BadDecay(2)])
    with pytest.raises(TypeError, match="layers must be a list of layers"):
        F.Sequential(F.Dense(2, 2, rng=rng()))


def test_the_update_needs_writable_float64_parameters():
    layer = Scale(2)
    layer.params["s"] = np.ones(2, dtype=int)
    net = F.Sequential([layer])
    net.gradients(np.ones((3, 2)), np.zeros((3, 2)))
    with pytest.raises(TypeError, match=r"parameter s1 of Scale\(\) must be a writable float64 numpy array.*got ndarray int64"):
        net.sgd_step(0.1)


# ---------------------------------------------------------------------- data
def test_split_refuses_empty_data():
    with pytest.raises(ValueError, match=r"cannot split a data set with no examples \(X has shape \(0, 2\)\)"):
        F.train_val_test_split(np.zeros((0, 2)), np.zeros(0, dtype=int), (0.6, 0.2, 0.2), rng())


def test_split_refuses_an_empty_part():
    with pytest.raises(ValueError, match=r"the validation set would be empty: fraction 0.2 of 4 example\(s\) rounds to 0 in every class \(examples per class: \{0: 2, 1: 2\}\)"):
        F.train_val_test_split(np.zeros((4, 2)), np.array([0, 0, 1, 1]), (0.6, 0.2, 0.2), rng())
    parts = F.train_val_test_split(np.zeros((4, 2)), np.array([0, 0, 1, 1]), (1.0, 0.0, 0.0), rng())
    assert [len(y) for _, y in parts] == [4, 0, 0]  # an empty part asked for is fine


def test_init_weights_needs_a_shape_tuple():
    with pytest.raises(TypeError, match=r"shape must be a tuple of positive integers such as \(n_out, n_in\), got 3 \(int\)"):
        F.init_weights("he", 3, rng(), fan_in=3, fan_out=3)


def test_flatten_an_empty_batch():
    layer = F.Flatten()
    assert layer.forward(np.zeros((0, 2, 3, 3))).shape == (0, 18)
    assert layer.backward(np.zeros((0, 18))).shape == (0, 2, 3, 3)


def test_minibatches_arguments():
    with pytest.raises(ValueError, match="number of examples m must be a positive integer, got 0"):
        F.minibatches(0, 2, rng())
    with pytest.raises(TypeError, match="batch_size must be a positive integer, got 2.5"):
        F.minibatches(4, 2.5, rng())
    with pytest.raises(TypeError, match=r"shuffle must be True or False, got 'no' \(str\)"):
        F.minibatches(4, 2, rng(), shuffle="no")
