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
    with pytest.raises(TypeError, match=r"layer 1 must be a fcnn_lib Layer such as .*got <ufunc 'tanh'> \(ufunc\)"):
        F.Sequential([F.Dense(2, 2, rng=rng()), np.tanh])
    with pytest.raises(TypeError, match=r"Activation\('tanh'\), got 'relu' \(str\)"):
        F.Sequential([F.Dense(2, 2, rng=rng()), "relu"])
    act = F.Activation("tanh")
    with pytest.raises(ValueError, match=r"layer 3, Activation\('tanh'\), is the same object as an earlier layer"):
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


def test_prediction_must_be_a_batch():
    with pytest.raises(ValueError, match=r"prediction a must have 2 dimension\(s\), got shape \(3,\)"):
        F.mse(np.zeros(3), np.zeros(3))


# ---------------------------------------------------------------------- activations
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
            ("1e-5", TypeError, "step size h must be a real number, got '1e-5'")]


@pytest.mark.parametrize("h,exc,match", BAD_STEP)
def test_bad_step_size(h, exc, match):
    x = np.array([1.0, 2.0])
    f = lambda v: float(np.sum(v ** 2))
    with pytest.raises(exc, match=match):
        F.numerical_gradient(f, x, h)
    with pytest.raises(exc, match=match):
        F.check_gradient(f, 2 * x, x, h)
    net, X, Y = F.book.running_example()
    with pytest.raises(exc, match=match):
        F.check_network(net, X, Y, h=h)
    np.testing.assert_array_equal(x, [1.0, 2.0])


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
    with pytest.raises(TypeError, match="f must be a function"):
        F.numerical_gradient(3.0, x)
    np.testing.assert_array_equal(x, 0.0)  # restored after the error
    assert F.numerical_gradient(lambda a: np.array([a.sum()]), x).shape == (2, 2)  # one number in an array


def test_numerical_gradient_refuses_what_it_cannot_perturb():
    with pytest.raises(TypeError, match="float64"):
        F.numerical_gradient(lambda v: 0.0, np.arange(3))
    with pytest.raises(TypeError, match="float64"):
        F.numerical_gradient(lambda v: 0.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="contiguous"):
        F.numerical_gradient(lambda v: 0.0, np.zeros((3, 4)).T)


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
    with pytest.raises(ValueError, match=r"gradient into Dense\(3, 2\).*NaN or inf"):
        layer.backward(np.full((4, 2), np.inf))
    act = F.Activation("tanh")
    act.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Activation\('tanh'\): gradient has shape \(3, 4\)"):
        act.backward(np.zeros((3, 4)))


def test_layers_refuse_nan_even_after_a_network_ran():
    # The network skips re-scanning the arrays it computed; a layer used on its own
    # afterwards still scans what it is given.
    net = F.mlp([3, 2], rng=rng())
    net.train_step(np.zeros((2, 3)), np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match=r"input to Dense\(3, 2\).*NaN or inf"):
        net.layers[0].forward(np.full((1, 3), np.nan))


# ---------------------------------------------------------------------- data
def test_split_refuses_empty_data():
    with pytest.raises(ValueError, match=r"cannot split a data set with no examples \(X has shape \(0, 2\)\)"):
        F.train_val_test_split(np.zeros((0, 2)), np.zeros(0, dtype=int), (0.6, 0.2, 0.2), rng())


def test_minibatches_arguments():
    with pytest.raises(ValueError, match="number of examples m must be a positive integer, got 0"):
        F.minibatches(0, 2, rng())
    with pytest.raises(TypeError, match="batch_size must be a positive integer, got 2.5"):
        F.minibatches(4, 2.5, rng())
