"""Tests for fcnn_lib.shapecheck.check_proposed_gradient (book chapter 4, eq-dim-rule)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fcnn_lib as F
from fcnn_lib.shapecheck import GradientCheckFailed, ProposedGradientCheck


def least_squares(n_out, n_in, seed=0):
    """J(W) = ½‖W a − y‖² with its true gradient (W a − y) aᵀ of shape (n_out, n_in)."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n_out, n_in))
    a = rng.normal(size=n_in)
    y = rng.normal(size=n_out)

    def J(W):
        r = W @ a - y
        return 0.5 * float(r @ r)

    def grad(W):
        return np.outer(W @ a - y, a)

    return J, grad, W


def test_correct_gradient_passes():
    J, grad, W = least_squares(2, 3)
    W_before = W.copy()
    res = F.check_proposed_gradient(J, grad(W), W, name="W")
    assert isinstance(res, ProposedGradientCheck)
    assert res.passed and res.verdict == "correct"
    assert res.rel_error < 1e-7
    assert res.numeric.shape == W.shape
    assert "Correct" in str(res) and "(2, 3)" in res.message
    np.testing.assert_array_equal(W, W_before)  # x restored exactly


def test_wrong_shape_names_both_shapes():
    J, grad, W = least_squares(2, 3)
    wrong = np.ones((3, 2))  # right size, neither the gradient nor its transpose
    res = F.check_proposed_gradient(J, wrong, W, name="W")
    assert not res.passed and res.verdict == "wrong shape"
    assert "(3, 2)" in res.message and "(2, 3)" in res.message
    assert "dimension-compatibility rule" in res.message
    assert "Did you transpose" in res.message
    assert res.rel_error is None and res.worst_index is None


def test_wrong_shape_different_size():
    J, grad, W = least_squares(2, 3)
    res = F.check_proposed_gradient(J, np.zeros((2, 2)), W, name="W")
    assert res.verdict == "wrong shape"
    assert "(2, 2)" in res.message and "(2, 3)" in res.message


def test_transposed_non_square_is_named():
    J, grad, W = least_squares(2, 3)
    res = F.check_proposed_gradient(J, grad(W).T, W, name="W")
    assert not res.passed and res.verdict == "transposed"
    assert "(3, 2)" in res.message and "(2, 3)" in res.message
    assert "transpose matches" in res.message


def test_column_instead_of_1d_vector():
    rng = np.random.default_rng(1)
    v = rng.normal(size=4)
    res = F.check_proposed_gradient(lambda v: float(np.sum(v**2)), (2 * v).reshape(4, 1), v, name="v")
    assert res.verdict == "wrong shape"
    assert "(4, 1)" in res.message and "(4,)" in res.message and "reshape" in res.message


def test_right_shape_wrong_values():
    J, grad, W = least_squares(2, 3)
    g = grad(W)
    wrong = g.copy()
    wrong[1, 0] += 1.0
    res = F.check_proposed_gradient(J, wrong, W, name="W")
    assert not res.passed and res.verdict == "wrong values"
    assert res.worst_index == (1, 0)
    assert "index (1, 0)" in res.message
    assert res.rel_error > 1e-3
    assert "Shapes match" in res.message


def test_transposed_square_is_caught():
    J, grad, W = least_squares(3, 3, seed=2)
    res = F.check_proposed_gradient(J, grad(W).T, W, name="W")
    assert not res.passed and res.verdict == "transposed"
    assert "square" in res.message and "transpose" in res.message
    assert res.rel_error > 1e-3


def test_symmetric_square_gradient_is_correct_either_way():
    # the gradient of ½ aᵀ W a is ½ a aᵀ, symmetric: its transpose is also right
    a = np.array([1.0, -2.0, 0.5])
    W = np.eye(3)
    res = F.check_proposed_gradient(lambda W: 0.5 * float(a @ W @ a), 0.5 * np.outer(a, a).T, W)
    assert res.passed


def test_scalar_variable():
    x = np.array(2.0)
    assert F.check_proposed_gradient(lambda x: float(x**2), 4.0, x).passed
    res = F.check_proposed_gradient(lambda x: float(x**2), 5.0, x)
    assert res.verdict == "wrong values" and "yours is 5" in res.message


def test_f_may_read_x_through_a_closure():
    layer = F.Dense(3, 2, rng=np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(4, 3))

    def J(_):
        return float(np.sum(np.tanh(layer.forward(X))))

    G = F.tanh_prime(layer.forward(X))
    res = F.check_proposed_gradient(J, G.T @ X, layer.params["W"], name="W")
    assert res.passed


def test_raise_on_failure():
    J, grad, W = least_squares(2, 3)
    with pytest.raises(GradientCheckFailed, match=r"\(3, 2\).*\(2, 3\)"):
        F.check_proposed_gradient(J, np.ones((3, 2)), W, name="W", raise_on_failure=True)
    # a passing check does not raise
    assert F.check_proposed_gradient(J, grad(W), W, raise_on_failure=True).passed


def test_bad_input_errors():
    J, grad, W = least_squares(2, 3)
    with pytest.raises(TypeError, match="f must be a function"):
        F.check_proposed_gradient("J", grad(W), W)
    with pytest.raises(TypeError, match="float64 numpy array"):
        F.check_proposed_gradient(J, grad(W), W.tolist())
    with pytest.raises(TypeError, match="int64"):
        F.check_proposed_gradient(J, grad(W), np.ones((2, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="real numbers"):
        F.check_proposed_gradient(J, np.array([["a", "b", "c"]] * 2), W)
    nan = grad(W)
    nan[0, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf.*\(0, 1\)"):
        F.check_proposed_gradient(J, nan, W)
    with pytest.raises(ValueError, match=r"scalar J.*\(2, 3\)"):
        F.check_proposed_gradient(lambda W: W * 2, grad(W), W)
    with pytest.raises(TypeError, match="real number J"):
        F.check_proposed_gradient(lambda W: "J", grad(W), W)
    with pytest.raises(ValueError, match="tol must be a positive number"):
        F.check_proposed_gradient(J, grad(W), W, tol=0.0)
    with pytest.raises(TypeError, match="h must be a positive number"):
        F.check_proposed_gradient(J, grad(W), W, h="small")


@settings(max_examples=25, deadline=None)
@given(
    n_out=st.integers(1, 4),
    n_in=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_true_gradient_always_passes_and_transpose_never_does(n_out, n_in, seed):
    J, grad, W = least_squares(n_out, n_in, seed)
    g = grad(W)
    assert F.check_proposed_gradient(J, g, W, name="W").passed
    if g.shape != g.T.shape or not np.allclose(g, g.T, rtol=1e-3, atol=1e-6):
        res = F.check_proposed_gradient(J, g.T, W, name="W")
        assert not res.passed
        if n_out != n_in and min(n_out, n_in) > 1:
            assert res.verdict == "transposed"


# ---------------------------------------------------------------- the element-wise case
def elementwise_problem(n=4, seed=3):
    """J(z) = Σᵢ cᵢ tanh(zᵢ): a = tanh(z) element-wise, g = ∂J/∂a = c, ∂J/∂z = g ⊙ tanh′(z)."""
    rng = np.random.default_rng(seed)
    z, c = rng.normal(size=n), rng.normal(size=n)
    return (lambda z: float(c @ np.tanh(z))), c, F.tanh_prime(z), z


def test_elementwise_product_passes():
    J, g, fprime, z = elementwise_problem()
    res = F.check_proposed_gradient(J, g * fprime, z, name="z")
    assert res.passed and res.verdict == "correct"
    # the same numbers as the diagonal Jacobian times g (chapter 3's product)
    assert F.check_proposed_gradient(J, np.diag(fprime) @ g, z, name="z").passed


def test_outer_product_for_an_elementwise_gradient_is_named():
    J, g, fprime, z = elementwise_problem()
    res = F.check_proposed_gradient(J, np.outer(g, fprime), z, name="z")
    assert not res.passed and res.verdict == "element-wise"
    assert "(4, 4)" in res.message and "(4,)" in res.message
    assert "diagonal" in res.message and "g ⊙ f′(z)" in res.message
    # as a column too: z of shape (4, 1)
    zc = z.reshape(4, 1).copy()
    res = F.check_proposed_gradient(lambda v: J(v.ravel()), np.outer(g, fprime), zc, name="z")
    assert res.verdict == "element-wise"


def test_inner_product_for_an_elementwise_gradient_is_named():
    J, g, fprime, z = elementwise_problem()
    res = F.check_proposed_gradient(J, g @ fprime, z, name="z")
    assert not res.passed and res.verdict == "element-wise"
    assert "sum of the 4 entries" in res.message and "inner product" in res.message


def test_wrong_matrix_of_the_right_size_is_not_called_elementwise():
    J, g, fprime, z = elementwise_problem()
    res = F.check_proposed_gradient(J, np.outer(g, g), z, name="z")
    assert res.verdict == "wrong shape"
    res = F.check_proposed_gradient(J, float(g @ g), z, name="z")
    assert res.verdict == "wrong shape"


def test_elementwise_with_a_wrong_derivative_is_wrong_values():
    J, g, fprime, z = elementwise_problem()
    res = F.check_proposed_gradient(J, g * np.tanh(z), z, name="z")  # f instead of f′
    assert res.verdict == "wrong values"


# ---------------------------------------------------------------- step 2 as a search
def test_candidate_products_non_square_has_one_fit():
    cands = F.shapecheck.candidate_products((2, 3), [("g", (2, 1)), ("a", (3, 1))])
    assert len(cands) == 8
    assert [c.expression for c in cands if c.fits] == ["g aᵀ"]
    by_name = {c.expression: c for c in cands}
    assert by_name["a gᵀ"].shape == (3, 2) and not by_name["a gᵀ"].fits
    assert by_name["g a"].shape is None and by_name["g a"].left == (2, 1)


def test_candidate_products_square_has_two_fits_and_elementwise_none():
    cands = F.shapecheck.candidate_products((3, 1), [("g", (3, 1)), ("W", (3, 3))])
    assert [c.expression for c in cands if c.fits] == ["W g", "Wᵀ g"]
    none = F.shapecheck.candidate_products((4, 1), [("g", (4, 1)), ("f′(z)", (4, 1))])
    assert not any(c.fits for c in none)
    assert sorted({c.shape for c in none if c.shape}) == [(1, 1), (4, 4)]


def test_candidate_products_bad_input():
    with pytest.raises(ValueError, match=r"target must be a 2-D shape .* got \(2,\)"):
        F.shapecheck.candidate_products((2,), [("g", (2, 1)), ("a", (3, 1))])
    with pytest.raises(ValueError, match="two \\(name, shape\\) pairs, got 1"):
        F.shapecheck.candidate_products((2, 3), [("g", (2, 1))])
    with pytest.raises(ValueError, match=r"factor 'a'.s shape .* got \(3, 0\)"):
        F.shapecheck.candidate_products((2, 3), [("g", (2, 1)), ("a", (3, 0))])
    with pytest.raises(TypeError, match="name must be a string, got 7"):
        F.shapecheck.candidate_products((2, 3), [("g", (2, 1)), (7, (3, 1))])


# ---------------------------------------------------------------- entry by entry
def test_a_wrong_small_entry_is_not_hidden_by_the_norm():
    # J = ½‖tanh(z) − y‖² with one saturated unit: its gradient entry (about 7e-9) is
    # tiny next to the others, so setting it to 0 leaves the relative error near 1e-8
    z = np.array([0.3, -0.5, 1.0, 10.0])
    y = np.random.default_rng(0).normal(size=4)

    def J(z):
        return 0.5 * float(np.sum((np.tanh(z) - y) ** 2))

    e = np.exp(-2 * np.abs(z))
    g = (np.tanh(z) - y) * 4 * e / (1 + e) ** 2  # tanh′ without cancellation
    wrong = g.copy()
    wrong[3] = 0.0
    assert F.relative_error(wrong, g) < 1e-7  # the norm alone would pass it
    res = F.check_proposed_gradient(J, wrong, z, name="z")
    assert not res.passed and res.verdict == "wrong values"
    assert res.worst_index == (3,) and "entry (3,) is wrong" in res.message
    assert res.rel_error < 1e-7 and abs(g[3]) > 5 * res.noise
    assert F.check_proposed_gradient(J, g, z, name="z").passed


def test_noise_floor_accepts_true_gradients_with_tiny_entries_and_cancellation():
    rng = np.random.default_rng(1)
    for _ in range(30):
        n = int(rng.integers(2, 6))
        c = rng.normal(size=n) * 10 ** rng.uniform(0, 4)
        x = rng.normal(size=n) * 10 ** rng.uniform(-2, 1)
        x[-1] = -(c[:-1] @ x[:-1]) / c[-1]  # J near 0 although its terms are large

        def J(v):
            return float(np.sum(c * v)) + float(np.sum(np.sin(v)))

        assert F.check_proposed_gradient(J, c + np.cos(x), x).passed
    z = np.array([0.5, 25.0, -30.0])  # true entries 1e-21 and 1e-26, far below the noise
    e = np.exp(-2 * np.abs(z))
    assert F.check_proposed_gradient(lambda v: float(np.sum(np.tanh(v))), 4 * e / (1 + e) ** 2, z).passed


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), scale=st.sampled_from([0.1, 1.0, 5.0]))
def test_true_network_gradients_pass_entry_by_entry(seed, scale):
    rng = np.random.default_rng(seed)
    net = F.mlp([3, 4, 2], activation="tanh", loss="softmax_cross_entropy", rng=rng)
    X, Y = scale * rng.normal(size=(5, 3)), F.one_hot(rng.integers(0, 2, size=5), 2)
    _, grads = net.gradients(X, Y)
    grads = {k: v.copy() for k, v in grads.items()}
    for name, param in net.params().items():
        res = F.check_proposed_gradient(lambda _: net.loss(X, Y), grads[name], param, name=name)
        assert res.passed, res.message


# ---------------------------------------------------------------- the element-wise case, batches
def batch_problem(m, n, seed=4):
    """J(Z) = Σ C ⊙ tanh(Z) for a batch Z (m, n): G = C, ∂J/∂Z = G ⊙ tanh′(Z)."""
    rng = np.random.default_rng(seed)
    Z, C = rng.normal(size=(m, n)), rng.normal(size=(m, n))
    return (lambda Z: float(np.sum(C * np.tanh(Z)))), C, F.tanh_prime(Z), Z


@pytest.mark.parametrize("m, n", [(5, 3), (3, 5), (4, 2)])
def test_batch_matrix_products_are_named_elementwise(m, n):
    J, G, fprime, Z = batch_problem(m, n)
    rows = F.check_proposed_gradient(J, G @ fprime.T, Z, name="Z")  # (m, m)
    assert rows.verdict == "element-wise" and f"({m}, {m})" in rows.message
    assert "sums of the rows" in rows.message and "G ⊙ f′(Z)" in rows.message
    cols = F.check_proposed_gradient(J, G.T @ fprime, Z, name="Z")  # (n, n)
    assert cols.verdict == "element-wise" and "sums of the columns" in cols.message
    inner = F.check_proposed_gradient(J, np.vdot(G, fprime), Z, name="Z")
    assert inner.verdict == "element-wise" and f"sum of the {m * n} entries" in inner.message
    assert F.check_proposed_gradient(J, G * fprime, Z, name="Z").passed


def test_square_batch_product_has_the_right_shape_but_is_named():
    J, G, fprime, Z = batch_problem(4, 4)
    res = F.check_proposed_gradient(J, G @ fprime.T, Z, name="Z")
    assert not res.passed and res.verdict == "element-wise"
    assert "square (4, 4)" in res.message and "sums of the rows" in res.message


def test_column_vectors_get_the_vector_message():
    J, G, fprime, Z = batch_problem(4, 1)
    res = F.check_proposed_gradient(J, G @ fprime.T, Z, name="z")
    assert res.verdict == "element-wise" and "diagonal agrees" in res.message
    res = F.check_proposed_gradient(J, G.T @ fprime, Z, name="z")
    assert res.verdict == "element-wise" and "inner product" in res.message
