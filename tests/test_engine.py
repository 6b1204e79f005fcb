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
    a, b = Value(1.0), Value(1.0)  # a tie routes to the first input (a subgradient)
    a.max(b).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)


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
    (lambda v: v.tanh(), sp.tanh(t), [-3.0, 0.0, 0.7]),
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
    d = sp.diff(expr, t)
    for p in points:
        v = Value(p)
        out = op(v)
        out.backward()
        assert out.data == pytest.approx(float(expr.subs(t, p)), rel=1e-14, abs=1e-300)
        assert v.grad == pytest.approx(float(d.subs(t, p)), rel=1e-13, abs=1e-300)


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
def engine_network(net, X, Y):
    """The same sigmoid network as Values: the MSE cost J and the parameter Values."""
    params = {k: [[Value(w) for w in row] for row in np.atleast_2d(v)] if v.ndim == 2
              else [Value(b) for b in v] for k, v in net.params().items()}
    L = len(net.param_layers)
    J = 0.0
    for x, y in zip(X, Y):
        a = [Value(v) for v in x]
        for l in range(1, L + 1):
            W, b = params[f"W{l}"], params[f"b{l}"]
            a = [(sum(W[i][j] * a[j] for j in range(len(a))) + b[i]).sigmoid() for i in range(len(W))]
        J = J + sum((a_i - y_i) ** 2 for a_i, y_i in zip(a, y)) * (0.5 / len(X))
    return J, params


@pytest.mark.parametrize("sizes, m", [([3, 1], 1), ([3, 1], 4), ([2, 2, 1], 1), ([2, 2, 1], 3),
                                      ([3, 4, 2], 5)])
def test_engine_equals_dense_backprop(sizes, m):
    rng = np.random.default_rng(sum(sizes) + m)
    net = F.mlp(sizes, activation="sigmoid", output="sigmoid", loss="mse", rng=rng)
    X, Y = rng.normal(size=(m, sizes[0])), rng.uniform(size=(m, sizes[-1]))
    value, grads = net.gradients(X, Y)
    J, params = engine_network(net, X, Y)
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
