"""Activation functions: derivatives against sympy and finite differences, stability."""

import warnings

import numpy as np
import pytest
import sympy as sp

import fcnn_lib as F

z = sp.symbols("z", real=True)
SLOPE = 0.1

# name -> (fcnn_lib f, fcnn_lib f', sympy expression of f)
ELEMENTWISE = {
    "sigmoid": (F.sigmoid, F.sigmoid_prime, 1 / (1 + sp.exp(-z))),
    "tanh": (F.tanh, F.tanh_prime, sp.tanh(z)),
    "relu": (F.relu, F.relu_prime, sp.Piecewise((z, z > 0), (0, True))),
    "leaky_relu": (
        lambda x: F.leaky_relu(x, SLOPE),
        lambda x: F.leaky_relu_prime(x, SLOPE),
        sp.Piecewise((z, z > 0), (SLOPE * z, True)),
    ),
    "identity": (F.identity, F.identity_prime, z),
}

# Grid that avoids the kink at 0, where ReLU's derivative is a convention.
GRID = np.concatenate([np.linspace(-6, -0.05, 40), np.linspace(0.05, 6, 40)])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_function_matches_sympy(name):
    f, _, expr = ELEMENTWISE[name]
    ref = sp.lambdify(z, expr, "numpy")
    np.testing.assert_allclose(f(GRID), np.broadcast_to(ref(GRID), GRID.shape), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_sympy(name):
    _, fp, expr = ELEMENTWISE[name]
    ref = sp.lambdify(z, sp.diff(expr, z), "numpy")
    np.testing.assert_allclose(fp(GRID), np.broadcast_to(ref(GRID), GRID.shape), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_finite_differences(name):
    f, fp, _ = ELEMENTWISE[name]
    x = GRID.copy()
    # f is element-wise, so d(sum f)/dx_i = f'(x_i).
    check = F.check_gradient(lambda v: f(v).sum(), fp, x)
    assert check.rel_error < 1e-9


def test_sympy_closed_forms_of_derivatives():
    s = 1 / (1 + sp.exp(-z))
    assert sp.simplify(sp.diff(s, z) - s * (1 - s)) == 0
    assert sp.simplify(sp.diff(sp.tanh(z), z) - (1 - sp.tanh(z) ** 2)) == 0


def test_relu_derivative_convention_at_zero():
    assert F.relu_prime(np.array([0.0]))[0] == 0.0
    assert F.leaky_relu_prime(np.array([0.0]), 0.2)[0] == 0.2


def test_softmax_jacobian_matches_sympy():
    zs = sp.symbols("z0:3", real=True)
    exps = [sp.exp(v) for v in zs]
    s = [e / sum(exps) for e in exps]
    jac = sp.Matrix(3, 3, lambda i, j: sp.diff(s[i], zs[j]))
    point = {zs[0]: 0.3, zs[1]: -1.2, zs[2]: 2.0}
    expected = np.array(jac.subs(point).evalf(), dtype=float)
    got = F.softmax_jacobian(np.array([0.3, -1.2, 2.0]))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # The per-component formula is only the diagonal.
    np.testing.assert_allclose(F.softmax_prime_diagonal(np.array([0.3, -1.2, 2.0])), np.diag(expected), rtol=1e-12)


def test_softmax_jacobian_matches_finite_differences_batch():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(4, 5))
    J = F.softmax_jacobian(Z)
    assert J.shape == (4, 5, 5)
    for r in range(4):
        for i in range(5):
            zr = Z[r].copy()
            num = F.numerical_gradient(lambda v: F.softmax(v)[i], zr)
            assert F.relative_error(J[r, i], num) < 1e-8


def test_softmax_rows_sum_to_one_and_shift_invariance():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(6, 4)) * 10
    S = F.softmax(Z)
    np.testing.assert_allclose(S.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(F.softmax(Z + 123.0), S, rtol=1e-12)


EXTREMES = np.array([-1e4, -1000.0, -50.0, -1e-300, 0.0, 1e-300, 50.0, 1000.0, 1e4])


@pytest.mark.parametrize(
    "fn",
    [F.sigmoid, F.sigmoid_prime, F.tanh, F.tanh_prime, F.relu, F.relu_prime, F.leaky_relu,
     F.leaky_relu_prime, F.softmax, F.softmax_prime_diagonal, F.softmax_jacobian],
)
def test_extreme_inputs_are_stable(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any overflow or invalid-value warning fails the test
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            out = fn(EXTREMES)
    assert np.all(np.isfinite(out))


def test_sigmoid_limits():
    s = F.sigmoid(np.array([-1e4, 0.0, 1e4]))
    assert s[0] == 0.0 and s[1] == 0.5 and s[2] == 1.0
