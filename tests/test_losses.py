"""Losses: values against direct formulas, gradients against finite differences, stability."""

import warnings

import numpy as np
import pytest

import fcnn_lib as F

rng = np.random.default_rng(42)
M, N = 5, 3
A = rng.uniform(0.05, 0.95, size=(M, N))
Y_BIN = (rng.uniform(size=(M, N)) > 0.5).astype(float)
Y_ONEHOT = np.eye(N)[rng.integers(0, N, size=M)]
P_ROWS = F.softmax(rng.normal(size=(M, N)))
LOGITS = rng.normal(size=(M, N)) * 2


def test_mse_value_is_sources_convention():
    Y = rng.normal(size=(M, N))
    value, _ = F.mse(A, Y)
    expected = sum(np.sum((A[i] - Y[i]) ** 2) for i in range(M)) / (2 * M)
    assert value == pytest.approx(expected, rel=1e-14)


def test_bce_and_cce_values():
    value, _ = F.binary_cross_entropy(A, Y_BIN)
    expected = -np.mean(np.sum(Y_BIN * np.log(A) + (1 - Y_BIN) * np.log(1 - A), axis=1))
    assert value == pytest.approx(expected, rel=1e-13)
    value, _ = F.categorical_cross_entropy(P_ROWS, Y_ONEHOT)
    expected = -np.mean(np.log(P_ROWS[Y_ONEHOT.astype(bool)]))
    assert value == pytest.approx(expected, rel=1e-13)


def test_fused_losses_equal_composition():
    v1, _ = F.softmax_cross_entropy(LOGITS, Y_ONEHOT)
    v2, _ = F.categorical_cross_entropy(F.softmax(LOGITS), Y_ONEHOT)
    assert v1 == pytest.approx(v2, rel=1e-12)
    v1, _ = F.sigmoid_cross_entropy(LOGITS, Y_BIN)
    v2, _ = F.binary_cross_entropy(F.sigmoid(LOGITS), Y_BIN)
    assert v1 == pytest.approx(v2, rel=1e-12)


CASES = {
    "mse": (F.mse, A, rng.normal(size=(M, N))),
    "binary_cross_entropy": (F.binary_cross_entropy, A, Y_BIN),
    "categorical_cross_entropy": (F.categorical_cross_entropy, P_ROWS, Y_ONEHOT),
    "softmax_cross_entropy": (F.softmax_cross_entropy, LOGITS, Y_ONEHOT),
    "sigmoid_cross_entropy": (F.sigmoid_cross_entropy, LOGITS, Y_BIN),
}


@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_finite_differences(name):
    fn, pred, y = CASES[name]
    x = pred.copy()
    check = F.check_gradient(lambda p: fn(p, y).value, lambda p: fn(p, y).grad, x)
    assert check.rel_error < 1e-7


@pytest.mark.parametrize("name", CASES)
def test_get_loss_by_name(name):
    assert F.get_loss(name) is CASES[name][0]


def test_fused_softmax_gradient_is_a_minus_y_over_m():
    _, g = F.softmax_cross_entropy(LOGITS, Y_ONEHOT)
    np.testing.assert_allclose(g, (F.softmax(LOGITS) - Y_ONEHOT) / M, rtol=1e-13)


@pytest.mark.parametrize("fn", [F.binary_cross_entropy, F.categorical_cross_entropy])
def test_probabilities_of_exactly_zero_and_one_stay_finite(fn):
    P = np.array([[0.0, 1.0], [1.0, 0.0]])
    Y = np.array([[1.0, 0.0], [1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = fn(P, Y)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value > 10  # a confident wrong answer costs a lot


@pytest.mark.parametrize("fn", [F.softmax_cross_entropy, F.sigmoid_cross_entropy])
def test_fused_losses_stable_for_huge_logits(fn):
    Z = np.array([[1e4, -1e4], [-1e4, 1e4]])
    Y = np.array([[1.0, 0.0], [1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = fn(Z, Y)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
