"""Tests for fcnn_lib.engine.Value, the scalar reverse-mode engine of book chapter 3.

Every gradient is compared with an independent reference: sympy's exact derivative,
central finite differences, or the dense layers' matrix formulas (fcnn_lib's backprop).
"""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import fcnn_lib as F
from fcnn_lib.engine import Value


# ---------------------------------------------------------------- gate patterns
def test_add_distributes_the_gradient_unchanged():
    x, y = Value(2.0), Value(-3.0)
    f = (x + y) * 5.0
    f.backward()
    assert x.grad == y.grad == 5.0


def test_multiply_swaps_the_inputs():
    x, y = Value(2.0), Value(-3.0)
    f = x * y
    f.backward()
    assert (x.grad, y.grad) == (-3.0, 2.0)


def test_max_routes_the_gradient_to_the_larger_input():
    x, y = Value(2.0), Value(-3.0)
    f = x.max(y) * 7.0
    f.backward()
    assert (x.grad, y.grad) == (7.0, 0.0)
    y.max(x).backward()
    assert (x.grad, y.grad) == (1.0, 0.0)


def test_max_splits_a_tie_equally_whatever_the_order():
    a, b = Value(1.0), Value(1.0)
    a.max(b).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)
    b.max(a).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)
    u = Value(1.0)  # max(u, u) = u: the two halves add up to its true derivative 1
    u.max(u).backward()
    assert u.grad == 1.0


def test_relu_and_max_with_zero_at_the_tie():
    # relu follows fcnn_lib (derivative 0 at 0); max(z, 0) splits the tie. Both are
    # subgradients of max(z, 0) at z = 0, where any number in [0, 1] is one.
    z = Value(0.0)
    z.relu().backward()
    assert z.grad == 0.0
    z.max(0.0).backward()
    assert z.grad == 0.5
    Value(0.0).max(z).backward()
    assert z.grad == 0.5
    for value, slope in [(-1e-300, 0.0), (1e-300, 1.0)]:  # off the tie the two agree
        v = Value(value)
        v.relu().backward()
        first = v.grad
        v.max(0.0).backward()
        assert first == v.grad == slope


def test_relu_derivative_is_zero_at_zero_like_the_library():
    for z in (-1.5, 0.0, 2.5):
        v = Value(z)
        v.relu().backward()
        assert v.grad == float(F.relu_prime(np.array(z)))


def test_a_value_used_twice_receives_the_sum_of_both_paths():
    x = Value(1.5)
    f = x * x * x  # three uses: ∂f/∂x = 3x²
    f.backward()
    assert x.grad == pytest.approx(3 * 1.5**2, rel=1e-15)


# ---------------------------------------------------------------- against sympy
t = sp.Symbol("t")
UNARY = [  # (engine op, sympy expression of t, points)
    (lambda v: v.exp(), sp.exp(t), [-2.0, 0.0, 3.0]),
    (lambda v: v.log(), sp.log(t), [0.1, 1.0, 7.5]),
    (lambda v: v.tanh(), sp.tanh(t), [-20.0, -10.0, -3.0, 0.0, 0.7, 10.0, 12.0, 19.5, 20.0, 30.0]),
    (lambda v: v.sigmoid(), 1 / (1 + sp.exp(-t)), [-40.0, -1.0, 0.0, 2.0, 40.0]),
    (lambda v: v ** 3, t**3, [-2.0, 0.0, 1.5]),
    (lambda v: v ** -2, t**-2, [-2.0, 0.5]),
    (lambda v: v ** 0.5, sp.sqrt(t), [0.25, 4.0]),
    (lambda v: 1.0 / v, 1 / t, [-4.0, 0.5]),
    (lambda v: 2.0 - v, 2 - t, [3.0]),
    (lambda v: -v, -t, [3.0]),
    (lambda v: (v - 1.0) / 4.0, (t - 1) / 4, [3.0]),
]


@pytest.mark.parametrize("op, expr, points", UNARY)
def test_each_operation_matches_sympy(op, expr, points):
    # sympy evaluates at the exact binary value of p with 30 digits: a reference free of
    # float64 cancellation (1 − tanh²(20) is 1.7e-17, which 1 − t·t in float64 gives as 0)
    d = sp.diff(expr, t)
    for p in points:
        v = Value(p)
        out = op(v)
        out.backward()
        exact = sp.Rational(p)
        assert out.data == pytest.approx(float(expr.subs(t, exact).evalf(30)), rel=1e-14, abs=1e-300)
        assert v.grad == pytest.approx(float(d.subs(t, exact).evalf(30)), rel=1e-13, abs=1e-300)


def composite(x, y):
    """f(x, y) with shared subexpressions and every kind of node."""
    s = x * y
    return (s + x.exp() / (1 + y**2)).tanh() * x.sigmoid() - s.max(y) + (x * x + 1).log()


def test_composite_gradient_matches_sympy_everywhere_it_is_smooth():
    xs, ys = sp.symbols("x y", real=True)
    s = xs * ys
    f = (sp.tanh(s + sp.exp(xs) / (1 + ys**2)) / (1 + sp.exp(-xs))
         - sp.Max(s, ys) + sp.log(xs**2 + 1))
    rng = np.random.default_rng(0)
    for x0, y0 in rng.normal(size=(6, 2)):
        if abs(x0 * y0 - y0) < 1e-3:
            continue  # the kink of max(xy, y)
        x, y = Value(x0), Value(y0)
        composite(x, y).backward()
        exact = [float(sp.diff(f, v).subs({xs: x0, ys: y0})) for v in (xs, ys)]
        assert F.relative_error(np.array([x.grad, y.grad]), np.array(exact)) < 1e-14


# ---------------------------------------------------------------- against finite differences
@settings(max_examples=30, deadline=None)
@given(st.floats(-2, 2), st.floats(-2, 2))
def test_composite_gradient_matches_finite_differences(x0, y0):
    if abs(x0 * y0 - y0) < 1e-2:
        return  # too close to the kink of max for a central difference
    x, y = Value(x0), Value(y0)
    composite(x, y).backward()
    num = F.numerical_gradient(lambda v: composite(Value(v[0]), Value(v[1])).data, np.array([x0, y0]))
    assert F.relative_error(np.array([x.grad, y.grad]), num) < 1e-7


# ---------------------------------------------------------------- against dense backprop
UNIT = {"sigmoid": Value.sigmoid, "tanh": Value.tanh, "relu": Value.relu, "identity": lambda v: v}


def engine_network(net, X, Y, hidden="sigmoid", output="sigmoid"):
    """The same network as Values: the MSE cost J and the parameter Values."""
    params = {k: [[Value(w) for w in row] for row in np.atleast_2d(v)] if v.ndim == 2
              else [Value(b) for b in v] for k, v in net.params().items()}
    L = len(net.param_layers)
    J = 0.0
    for x, y in zip(X, Y):
        a = [Value(v) for v in x]
        for l in range(1, L + 1):
            W, b = params[f"W{l}"], params[f"b{l}"]
            f = UNIT[hidden if l < L else output]
            a = [f(sum(W[i][j] * a[j] for j in range(len(a))) + b[i]) for i in range(len(W))]
        J = J + sum((a_i - y_i) ** 2 for a_i, y_i in zip(a, y)) * (0.5 / len(X))
    return J, params


@pytest.mark.parametrize("sizes, m, hidden, output", [
    ([3, 1], 1, "sigmoid", "sigmoid"), ([3, 1], 4, "sigmoid", "sigmoid"),
    ([2, 2, 1], 1, "sigmoid", "sigmoid"), ([2, 2, 1], 3, "sigmoid", "sigmoid"),
    ([3, 4, 2], 5, "sigmoid", "sigmoid"),
    ([3, 4, 2], 5, "tanh", "identity"), ([2, 5, 3, 2], 4, "tanh", "tanh"),
    ([3, 6, 2], 5, "relu", "identity"), ([2, 5, 4, 1], 4, "relu", "sigmoid"),
])
def test_engine_equals_dense_backprop(sizes, m, hidden, output):
    rng = np.random.default_rng(sum(sizes) + m)
    net = F.mlp(sizes, activation=hidden, output=output, loss="mse", rng=rng)
    X, Y = rng.normal(size=(m, sizes[0])), rng.uniform(size=(m, sizes[-1]))
    value, grads = net.gradients(X, Y)
    if hidden == "relu":  # a unit exactly at the kink would test the convention, not the engine
        assert all(np.all(t.z != 0) for t in net.trace())
        assert any(np.any(t.z < 0) for t in net.trace()[:-1]), "no ReLU unit is off: pick another seed"
    J, params = engine_network(net, X, Y, hidden, output)
    J.backward()
    assert J.data == pytest.approx(value, rel=1e-13)
    for name, g in grads.items():
        mine = np.array([[v.grad for v in row] for row in params[name]]) if g.ndim == 2 \
            else np.array([v.grad for v in params[name]])
        assert F.relative_error(mine, g) < 1e-12, name


# ---------------------------------------------------------------- the graph itself
def test_topological_order_puts_parents_first_and_each_node_once():
    x, y = Value(1.0, "x"), Value(2.0, "y")
    s = x + y
    f = s * x + s
    order = f.topological_order()
    assert order[-1] is f and len(order) == len({id(n) for n in order})
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent, _ in node.parents:
            assert position[id(parent)] < position[id(node)]


def test_backward_twice_gives_the_same_gradients():
    x = Value(0.3)
    f = (x * 2.0).tanh() * x
    f.backward()
    first = x.grad
    f.backward()
    assert x.grad == first


def test_a_deep_graph_needs_no_recursion():
    x = Value(1.0)
    f = x
    for _ in range(5000):  # far deeper than Python's recursion limit of 1000
        f = f + x * 0.5
    f.backward()
    assert x.grad == 1.0 + 5000 * 0.5


def test_repr_names_value_and_gradient():
    w = Value(0.5, "w")
    (w * 3.0).backward()
    assert repr(w) == "Value(w=0.5, grad=3)"


# ---------------------------------------------------------------- bad input
def test_bad_input_is_refused_with_what_was_received():
    with pytest.raises(TypeError, match=r"real number, got 'a' \(str\)"):
        Value("a")
    with pytest.raises(TypeError, match=r"got True \(bool\)"):
        Value(True)
    with pytest.raises(TypeError, match=r"got array"):
        Value(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="finite number, got nan"):
        Value(math.nan)
    with pytest.raises(ValueError, match="finite number, got inf"):
        Value(math.inf)
    with pytest.raises(TypeError, match="label must be a string, got 3"):
        Value(1.0, 3)
    x = Value(2.0)
    with pytest.raises(TypeError, match=r"\+ needs a Value or a real number, got '1' \(str\)"):
        x + "1"
    with pytest.raises(TypeError, match=r"\* needs a Value or a real number, got \[1\.0\] \(list\)"):
        x * [1.0]
    with pytest.raises(TypeError, match=r"constant real exponent, got Value"):
        x ** Value(2.0)
    with pytest.raises(ValueError, match="log needs a positive number, got 0.0"):
        Value(0.0).log()
    with pytest.raises(ValueError, match=r"exp\(1000.0\) overflows"):
        Value(1000.0).exp()
    with pytest.raises(ValueError, match=r"not differentiable .* at u = 0.0"):
        Value(0.0) ** -1
    with pytest.raises(ValueError, match=r"at u = -4.0"):
        Value(-4.0) ** 0.5
    with pytest.raises(ValueError, match=r"finite number, got inf \(from \*\)"):
        Value(1e200) * 1e200


def test_tanh_derivative_keeps_its_digits_where_tanh_saturates():
    # tanh'(u) = 4 e / (1 + e)^2 with e = exp(-2|u|): no cancellation. 1 - tanh(u)^2 in
    # float64 is off by 3e-7 (relative) at u = 12 and is exactly 0 from |u| = ~19.1 on.
    for u in (-20.0, -10.0, 10.0, 20.0):
        v = Value(u)
        v.tanh().backward()
        exact = float((1 / sp.cosh(sp.Rational(u)) ** 2).evalf(30))
        assert v.grad == pytest.approx(exact, rel=1e-15)
        assert v.grad > 0
    assert math.isclose(Value(20.0).tanh().parents[0][1], 1.6993417021166355e-17, rel_tol=1e-15)
    assert 1.0 - math.tanh(20.0) ** 2 == 0.0  # the formula it replaces


def test_power_zero_is_a_constant():
    for u in (0.0, -2.0, 3.5):
        x = Value(u)
        y = x ** 0
        y.backward()
        assert (y.data, x.grad) == (1.0, 0.0)


def test_overflow_is_a_value_error_naming_the_input():
    with pytest.raises(ValueError, match=r"u\*\*2 .*overflows float64 at u = 1e\+200"):
        Value(1e200) ** 2
    with pytest.raises(ValueError, match=r"u\*\*-1 .*overflows float64 at u = 1e-200"):
        Value(1e-200) ** -1  # the value 1e200 is finite, its derivative -1e400 is not
    with pytest.raises(ValueError, match=r"overflows float64 at u = 1e-200"):
        1.0 / Value(1e-200)
    with pytest.raises(ValueError, match=r"finite float64 number, got an integer of 401 digits"):
        Value(10**400)
    with pytest.raises(ValueError, match=r"log at u = 1e-310: the local derivative is inf"):
        Value(1e-310).log()
    with pytest.raises(ValueError, match=r"exp\(800.0\) overflows"):
        Value(800.0).exp()


def test_every_stored_local_derivative_is_finite():
    rng = np.random.default_rng(0)
    for u in rng.normal(scale=30, size=50):
        x = Value(float(u))
        for node in (x.tanh(), x.sigmoid(), x.relu(), x.max(0.0), x * x, x ** 3):
            assert all(math.isfinite(local) for _, local in node.parents)


def test_backward_refuses_a_gradient_that_overflows():
    x = Value(1e-300)
    f = x.log() * 1e100  # value -6.9e4 and finite local derivatives, but df/dx = 1e400
    with pytest.raises(ValueError, match=r"gradient overflows float64 at an input of log \(u = 1e-300\)"):
        f.backward()


def test_backward_resets_only_the_graph_of_its_output():
    x, y = Value(2.0), Value(3.0)
    (x * y).backward()
    assert (x.grad, y.grad) == (3.0, 2.0)
    (x * 5.0).backward()  # y is not in this graph: it keeps its gradient
    assert (x.grad, y.grad) == (5.0, 2.0)
