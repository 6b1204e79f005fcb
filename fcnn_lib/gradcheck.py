"""Gradient checking by central finite differences (book chapter 5).

``numerical_gradient`` estimates ∂f/∂θ entry by entry with
(f(θ + h e_r) − f(θ − h e_r)) / (2h), e_r the r-th unit vector (book equation
``eq-central-diff``); ``relative_error`` compares two gradients as
‖g − g̃‖ / (‖g‖ + ‖g̃‖) (book equation ``eq-rel-error``). Below about 1e-7 in float64
the analytic gradient is right; around 1e-2 or above it is wrong.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_number, check_perturbable


#: The central-difference stencils. Each order maps to a list of pairs (offset in
#: steps h, weight), and the estimate is Σ weight·f(x + offset·h) / h. Order 2 is
#: (f(x+h) − f(x−h)) / 2h; order 4 is (−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)) / 12h,
#: whose truncation error is O(h⁴).
STENCILS = {
    2: [(1, 0.5), (-1, -0.5)],
    4: [(2, -1 / 12), (1, 8 / 12), (-1, -8 / 12), (-2, 1 / 12)],
}


def numerical_gradient(f, x, h=1e-5, order=2):
    """Central-difference gradient of a scalar function ``f`` at the array ``x``.

    Entry r of the result is (f(x + h e_r) − f(x − h e_r)) / (2h) for ``order=2``
    (book equation ``eq-central-diff``), with e_r the r-th unit vector.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a real number (a Python float or a float64 NumPy number; a
        float32 or float16 value is refused, its round-off swamps the differences).
        It is called 2·x.size times (4·x.size with ``order=4``).
    x : float64 array of any shape
        Perturbed in place, one entry at a time, and restored exactly; so ``f`` may
        read ``x`` through a closure (this is how network parameters are checked). A
        view (e.g. a slice of a parameter) is fine; a read-only array is refused.
    h : float
        Step size, finite and > 0, large enough that every x_r ± k·h differs from x_r
        in float64 (k = 1, and 2 for ``order=4``).
    order : {2, 4}
        2 is the book's two-point formula; 4 uses four points and allows a larger
        h, which keeps round-off small where gradients are tiny (deep sigmoid stacks).

    Returns
    -------
    array of the shape of ``x``
        Empty if ``x`` is (``f`` is not called).
    """
    if not callable(f):
        raise TypeError(f"f must be a function f(x) returning a number, got {type(f).__name__}")
    x = check_perturbable(x, "numerical_gradient")
    h = check_number(h, "step size h", positive=True)
    if isinstance(order, bool) or order not in STENCILS:
        raise ValueError(f"order must be one of {sorted(STENCILS)}, got {order!r}")
    grad = np.zeros_like(x)
    for r in np.ndindex(x.shape):
        old = float(x[r])
        total = 0.0
        for k, weight in STENCILS[order]:
            moved = old + k * h  # Python floats: an overflow gives inf, refused below
            _check_step(moved, old, k, h, r)
            x[r] = moved
            try:
                total += weight * _number(f(x))
            finally:
                x[r] = old
        grad[r] = total / h
    return grad


def _check_step(moved, old, k, h, r):
    """Refuse a step that float64 cannot take at x_r (rounds back to x_r, or overflows)."""
    if moved == old:
        raise ValueError(
            f"step size h = {h:g} is too small for x{list(r)} = {old:g}: x + {k}·h rounds back to x "
            f"in float64 (steps below about |x|·1.1e-16 vanish), so the difference quotient would "
            f"be 0/h; use a larger h (e.g. 1e-5 for |x| near 1)"
        )
    if not math.isfinite(moved):
        raise ValueError(f"step size h = {h:g} moves x{list(r)} = {old:g} to {moved}: not finite; use a smaller h")


def _number(value):
    """The value f returned, as a float: a finite real number (or an array of one), not
    of a lower precision than float64."""
    if isinstance(value, (np.ndarray, np.floating)) and value.dtype in (np.float32, np.float16):
        raise TypeError(
            f"f returned a {value.dtype} value; finite differences need float64 (in "
            f"{value.dtype} the round-off of f is far larger than f(x + h) − f(x − h)); compute f "
            f"in float64, e.g. return float(np.sum(x.astype(np.float64) ...))"
        )
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"f must return one real number (e.g. a loss's .value), got "
            f"{type(value).__name__}{getattr(value, 'shape', '')}"
        )
    if not np.isfinite(value):
        raise ValueError(f"f returned {value} at a perturbed point; it must be finite")
    return float(value)


def relative_error(a, b):
    """‖a − b‖ / max(‖a‖ + ‖b‖, 1e-300) over all entries (Frobenius norms).

    Book equation ``eq-rel-error``, rel(g, g̃) = ‖g − g̃‖ / (‖g‖ + ‖g̃‖), with the
    denominator kept away from 0 so that two zero arrays give 0. ``a`` and ``b`` are
    arrays of the same shape exactly (any shape); the result is a float.
    """
    a = as_float_array(a, "first gradient")
    b = as_float_array(b, "second gradient")
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {a.shape} and {b.shape}")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


class GradCheck(NamedTuple):
    """Result of a gradient check: both gradients and their relative error."""

    analytic: np.ndarray
    numeric: np.ndarray
    rel_error: float

    def passed(self, tol=1e-7):
        """True if the relative error is below ``tol`` (finite and > 0)."""
        return self.rel_error < check_number(tol, "tolerance tol", positive=True)


def check_gradient(f, grad, x, h=1e-5):
    """Compare an analytic gradient with central differences (``eq-central-diff``).

    Parameters
    ----------
    f : callable
        Scalar function of the array ``x``.
    grad : callable or array
        The analytic gradient: an array of the shape of ``x``, or ``grad(x)``
        returning one.
    x : float64 array
        Point at which to check (perturbed in place and restored).
    h : float
        Step size, finite and > 0.

    Returns
    -------
    GradCheck
        Both gradients (arrays of the shape of ``x``) and their relative error
        (``eq-rel-error``).
    """
    x = check_perturbable(x, "check_gradient")
    analytic = as_float_array(grad(x) if callable(grad) else grad, "analytic gradient")
    if analytic.shape != x.shape:
        raise ValueError(f"analytic gradient has shape {analytic.shape} but x has shape {x.shape}")
    numeric = numerical_gradient(f, x, h)
    return GradCheck(analytic, numeric, relative_error(analytic, numeric))


def check_network(net, X, Y, weight_decay=0.0, h=1e-5, order=2):
    """Gradient-check every parameter of a :class:`~fcnn_lib.network.Sequential`.

    The analytic gradients come from one forward and backward pass; each numeric
    gradient perturbs one parameter entry at a time and re-evaluates
    ``net.loss(X, Y, weight_decay)`` (``eq-central-diff``, with the stencil ``order``
    and step ``h`` of :func:`numerical_gradient`). Afterwards the network is left as
    after ``net.gradients(X, Y, weight_decay)``, so its trace and gradients are those
    of the unperturbed parameters.

    Parameters
    ----------
    net : Sequential
    X, Y : arrays of shapes (m, n_in) and (m, n_out)
    weight_decay, h, order
        As for :meth:`~fcnn_lib.network.Sequential.loss` and :func:`numerical_gradient`.

    Returns
    -------
    dict
        Parameter name (``W1``, ``b1``, …) → :class:`GradCheck`, whose ``rel_error``
        is ``eq-rel-error`` between the analytic and the numeric gradient.
    """
    for method in ("gradients", "params", "loss"):
        if not callable(getattr(net, method, None)):
            raise TypeError(f"check_network needs a fcnn_lib network (Sequential), got {type(net).__name__}")
    _, grads = net.gradients(X, Y, weight_decay)
    analytic = {k: v.copy() for k, v in grads.items()}
    results = {}
    for name, param in net.params().items():
        numeric = numerical_gradient(lambda _: net.loss(X, Y, weight_decay), param, h, order)
        results[name] = GradCheck(analytic[name], numeric, relative_error(analytic[name], numeric))
    net.gradients(X, Y, weight_decay)  # the stored pass: at the unperturbed parameters again
    return results


def max_rel_error(results):
    """The largest relative error in a dict returned by :func:`check_network`."""
    if not isinstance(results, dict) or not all(isinstance(r, GradCheck) for r in results.values()):
        raise TypeError(f"max_rel_error expects the dict that check_network returns, got {type(results).__name__}")
    if not results:
        raise ValueError("max_rel_error got no results: the network has no parameters to check")
    return max(r.rel_error for r in results.values())
