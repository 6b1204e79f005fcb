"""The gradient checker itself: it passes right gradients and catches wrong ones."""

import numpy as np
import pytest

import fcnn_lib as F


def test_numerical_gradient_of_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = F.numerical_gradient(lambda v: float(np.sum(v**3)), x)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-9)


def test_numerical_gradient_restores_x_exactly():
    x = np.random.default_rng(0).normal(size=(3, 4))
    before = x.copy()
    F.numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    np.testing.assert_array_equal(x, before)


def test_relative_error_definition():
    a = np.array([1.0, 2.0])
    b = np.array([1.0, 2.5])
    assert F.relative_error(a, b) == pytest.approx(0.5 / (np.sqrt(5) + np.sqrt(7.25)))
    assert F.relative_error(np.zeros(3), np.zeros(3)) == 0.0


def test_wrong_gradient_is_caught():
    x = np.random.default_rng(1).normal(size=5)
    f = lambda v: float(np.sum(F.sigmoid(v)))
    right = F.check_gradient(f, F.sigmoid_prime, x)
    wrong = F.check_gradient(f, F.sigmoid, x)  # forgot to differentiate
    assert right.passed() and right.rel_error < 1e-9
    assert not wrong.passed() and wrong.rel_error > 1e-2


def test_wrong_backward_in_a_network_is_caught():
    """A Dense layer whose weight gradient is off by a factor (here 1.5) is caught, and
    only that gradient fails."""

    class BrokenDense(F.Dense):
        def backward(self, grad_out, input_grad=True):
            dx = super().backward(grad_out, input_grad)
            self.grads["W"] = self.grads["W"] * 1.5  # a wrong factor
            return dx

    rng = np.random.default_rng(2)
    net = F.Sequential([BrokenDense(3, 3, rng=rng), F.Activation("tanh"), F.Dense(3, 2, rng=rng)])
    X = rng.normal(size=(4, 3))
    Y = rng.normal(size=(4, 2))
    results = F.check_network(net, X, Y)
    assert results["W1"].rel_error > 0.1
    assert results["W2"].rel_error < 1e-7 and results["b1"].rel_error < 1e-7


def test_numerical_gradient_of_a_view_and_of_an_empty_array():
    W = np.random.default_rng(3).normal(size=(3, 4))
    f = lambda _: float(np.sum(W ** 3))
    for view in (W.T, W[:, ::2], W[1]):  # not contiguous, or part of W: perturbed through the view
        g = F.numerical_gradient(f, view)
        np.testing.assert_allclose(g, 3 * view ** 2, rtol=1e-8)
    empty = np.zeros((0, 3))
    assert F.numerical_gradient(lambda v: 1 / 0, empty).shape == (0, 3)  # f is not called


def test_order_4_calls_f_four_times_per_entry():
    calls = []
    x = np.ones(3)
    F.numerical_gradient(lambda v: calls.append(1) or float(v.sum()), x, order=4)
    F.numerical_gradient(lambda v: calls.append(2) or float(v.sum()), x)
    assert calls.count(1) == 4 * x.size and calls.count(2) == 2 * x.size
