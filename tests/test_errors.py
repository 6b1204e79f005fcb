"""Every documented bad input raises ValueError or TypeError naming what was wrong."""

import numpy as np
import pytest

import fcnn_lib as F


@pytest.fixture
def net():
    return F.mlp([3, 4, 2], activation="relu", loss="mse", rng=np.random.default_rng(0))


def test_wrong_feature_count(net):
    with pytest.raises(ValueError, match=r"expects input of shape \(m, 3\).*got \(5, 4\)"):
        net.forward(np.zeros((5, 4)))


def test_one_dimensional_input_is_refused(net):
    with pytest.raises(ValueError, match=r"\(m, 3\).*got \(3,\)"):
        net.forward(np.zeros(3))


def test_labels_that_would_broadcast_are_refused():
    net = F.mlp([3, 4, 1], rng=np.random.default_rng(0))
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
    with pytest.raises(ValueError, match=r"NaN or inf.*\(1, 2\)"):
        net.forward(X)
    with pytest.raises(ValueError, match="NaN or inf"):
        F.sigmoid(np.array([0.0, bad]))


def test_nan_in_labels(net):
    Y = np.zeros((2, 2))
    Y[0, 0] = np.nan
    with pytest.raises(ValueError, match="labels.*NaN or inf"):
        net.loss(np.zeros((2, 3)), Y)


def test_non_numeric_input(net):
    with pytest.raises(TypeError, match="real numbers.*dtype"):
        net.forward(np.array([["a", "b", "c"]]))


def test_unknown_activation_name():
    with pytest.raises(ValueError, match=r"unknown activation 'sigmoyd'; known: .*sigmoid"):
        F.Activation("sigmoyd")
    with pytest.raises(ValueError, match="unknown activation"):
        F.mlp([2, 2, 1], activation="swish", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="Jacobian"):
        F.get_activation("softmax")


def test_unknown_loss_name():
    with pytest.raises(ValueError, match=r"unknown loss 'cross_entropy'; known: .*softmax_cross_entropy"):
        F.mlp([2, 2], loss="cross_entropy", rng=np.random.default_rng(0))


def test_unknown_init_scheme():
    with pytest.raises(ValueError, match="unknown initialisation scheme 'glorot'"):
        F.Dense(2, 2, init="glorot", rng=np.random.default_rng(0))


@pytest.mark.parametrize("size", [0, -3])
def test_non_positive_layer_size(size):
    with pytest.raises(ValueError, match=f"positive integer, got {size}"):
        F.Dense(size, 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=f"positive integer, got {size}"):
        F.mlp([3, size, 2], rng=np.random.default_rng(0))


def test_non_integer_layer_size():
    with pytest.raises(TypeError, match="positive integer, got 2.5"):
        F.Dense(2.5, 2, rng=np.random.default_rng(0))


def test_mismatched_batch_sizes(net):
    with pytest.raises(ValueError, match=r"X has 5 example\(s\).*Y has 4"):
        net.loss(np.zeros((5, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"X has 5 example\(s\).*Y has 4"):
        net.fit(np.zeros((5, 3)), np.zeros((4, 2)), epochs=1, batch_size=2, lr=0.1,
                rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"batch sizes differ.*5.*4"):
        F.softmax_cross_entropy(np.zeros((5, 2)), np.zeros((4, 2)))


def test_randomness_needs_an_explicit_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        F.Dense(2, 2, init="he")
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        F.Dense(2, 2, init="he", rng=0)


def test_set_params_checks_shapes(net):
    with pytest.raises(ValueError, match=r"W must have shape \(4, 3\), got \(3, 4\)"):
        net.set_params([(np.zeros((3, 4)), np.zeros(4)), (np.zeros((2, 4)), np.zeros(2))])
    with pytest.raises(ValueError, match=r"got 1 \(W, b\) pair"):
        net.set_params([(np.zeros((4, 3)), np.zeros(4))])


def test_probabilities_out_of_range():
    with pytest.raises(ValueError, match=r"probabilities.*\[-0.1"):
        F.binary_cross_entropy(np.array([[-0.1, 0.5]]), np.array([[0.0, 1.0]]))


def test_fused_loss_after_softmax_is_refused():
    with pytest.raises(ValueError, match="applies its own softmax"):
        F.mlp([2, 3], output="softmax", loss="softmax_cross_entropy", rng=np.random.default_rng(0))


def test_backward_before_forward():
    net = F.mlp([2, 2], rng=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="forward"):
        net.backward(np.zeros((1, 2)))


def test_bad_learning_rate_and_weight_decay(net):
    net.gradients(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="learning rate must be > 0, got -1"):
        net.sgd_step(-1)
    with pytest.raises(ValueError, match="weight_decay must be >= 0, got -0.5"):
        net.loss(np.zeros((2, 3)), np.zeros((2, 2)), weight_decay=-0.5)


def test_leaky_relu_slope_validation():
    with pytest.raises(ValueError, match=r"slope must lie in \[0, 1\), got 1.5"):
        F.leaky_relu(np.zeros(2), 1.5)
    with pytest.raises(ValueError, match="slope"):
        F.Activation("leaky_relu", slope=-0.2)
