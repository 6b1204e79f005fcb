"""Check a proposed gradient: first its shape, then its values (book chapter 4).

By the dimension-compatibility rule (book equation ``eq-dim-rule``), the gradient of
a scalar J with respect to an array X has the shape of X: (∂J/∂X)_{ij} = ∂J/∂X_{ij}.
:func:`check_proposed_gradient` takes a gradient a learner has derived by hand and
says, in words, whether it is right:

1. its shape must equal the shape of the variable (the rule);
2. its values must agree with central finite differences
   (:func:`fcnn_lib.gradcheck.numerical_gradient`): as a whole, by
   :func:`fcnn_lib.gradcheck.relative_error`, and entry by entry, so that a wrong entry
   cannot hide behind larger right ones (a norm-based error alone would pass a gradient
   whose only wrong entry is small next to the others).

A check holds at the point it is given, for the entries finite differences can resolve:
an entry smaller than their noise (estimated from a second difference with step 2h and
from the size of J; about 1e-9 for J of order one with h = 1e-5) cannot be told from 0.

It also recognises the most common mistake the rule cannot catch by itself: a
proposal that is the *transpose* of the true gradient. For a non-square variable the
shape test already fails; for a square one (W of shape (n, n)) the shapes match and
only the values can tell. And it recognises the mistakes of the element-wise case, where
the gradient is g ⊙ f′(z) (book equation ``eq-ch04-elementwise``) and no matrix product fits:
an (n, n) outer product whose diagonal is the gradient, or an inner product gᵀf′(z)
whose single number is the sum of the gradient's entries; for a batch Z of shape (m, n),
the (m, m) product G f′(Z)ᵀ whose diagonal holds the row sums of G ⊙ f′(Z), or the
(n, n) product Gᵀf′(Z) whose diagonal holds its column sums.

:func:`candidate_products` is step 2 of the two-step method as a search: every product of
two factors, in either order and each possibly transposed, with the shape it gives.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array
from .gradcheck import numerical_gradient, relative_error

#: Verdicts returned in :attr:`ProposedGradientCheck.verdict`.
VERDICTS = ("correct", "wrong shape", "transposed", "element-wise", "wrong values")


class GradientCheckFailed(AssertionError):
    """Raised by :func:`check_proposed_gradient` with ``raise_on_failure=True``."""


class ProposedGradientCheck(NamedTuple):
    """The outcome of :func:`check_proposed_gradient`; ``str(result)`` is its message.

    Fields: ``passed`` (True if the proposal has the right shape and values);
    ``verdict``, one of :data:`VERDICTS` (``"transposed"`` means the proposal is the
    transpose of the true gradient; ``"element-wise"`` that it is a matrix or inner
    product where the gradient is an element-wise product); ``message``, a sentence or two for the learner;
    ``proposed``, the proposal as a float64 array of its own shape; ``numeric``, the
    finite-difference gradient, of the shape of the variable; ``rel_error``, the
    relative error between the two (None if the shapes differ, since they cannot then
    be compared entry by entry); ``worst_index``, the index of the entry that disagrees
    most (None if the shapes differ); ``noise``, the estimated finite-difference error
    below which an entry's difference is not counted (see
    :func:`check_proposed_gradient`).
    """

    passed: bool
    verdict: str
    message: str
    proposed: np.ndarray
    numeric: np.ndarray
    rel_error: float | None
    worst_index: tuple | None
    noise: float | None = None

    def __str__(self):
        return self.message


def _sci(value, digits=1):
    """Format like 3.1e-11 (no zero-padded exponent)."""
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _fmt_index(index):
    return "(" + ", ".join(str(int(i)) for i in index) + ("," if len(index) == 1 else "") + ")"


def _scalar_value(f, x):
    value = f(x)
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"f(x) must return a real number J, got {type(value).__name__}")
    if arr.size != 1:
        raise ValueError(
            f"f(x) must return a scalar J (the rule is about the gradient of a scalar), "
            f"got an array of shape {arr.shape}"
        )
    return float(arr.reshape(()))


def _elementwise_hint(proposed, numeric, name, tol):
    """The element-wise mistakes (``eq-ch04-elementwise``): a sentence, or "" if none fits.

    The true gradient is G ⊙ f′(Z) with the shape of the variable: a vector of n > 1
    entries (shape (n,), read as a column (n, 1), or a column or row) or a batch (m, n).
    A square product of the two factors has on its diagonal the sums of the gradient's
    rows (G f′(Z)ᵀ, shape (m, m); for a column g f′(z)ᵀ, whose diagonal is the gradient)
    or of its columns (Gᵀ f′(Z), shape (n, n)); a single number equal to the sum of all
    entries is the inner product gᵀf′(z).
    """
    if numeric.size < 2 or numeric.ndim > 2:
        return ""
    N = numeric.reshape(-1, 1) if numeric.ndim == 1 else numeric
    rows, cols = N.shape
    fix = "For an element-wise function the gradient is the element-wise product {} (NumPy: {} * fprime)"
    if proposed.size == 1 and relative_error(proposed.reshape(1), np.array([N.sum()])) < tol:
        return (
            f" Its single value equals the sum of the {N.size} entries of the true gradient: you "
            f"took an inner product gᵀf′(z) where the element-wise product g ⊙ f′(z) is "
            f"needed (NumPy: g * fprime, not g @ fprime)."
        )
    if proposed.ndim != 2 or proposed.shape[0] != proposed.shape[1] or proposed.shape[0] < 2:
        return ""
    k, diagonal = proposed.shape[0], np.diag(proposed).copy()
    if (cols == 1 and k == rows) or (rows == 1 and k == cols):  # a vector of n entries
        if relative_error(diagonal, N.reshape(-1)) < tol:
            return (
                f" Its diagonal agrees with finite differences: you built a matrix of shape "
                f"({k}, {k}) (an outer product such as g f′(z)ᵀ) where each entry of {name} has "
                f"its own derivative. {fix.format('g ⊙ f′(z)', 'g')}, the diagonal of that matrix."
            )
        return ""
    for size, sums, product, over in ((rows, N.sum(axis=1), "G f′(Z)ᵀ", "row"),
                                      (cols, N.sum(axis=0), "Gᵀ f′(Z)", "column")):
        if k == size and relative_error(diagonal, sums) < tol:
            return (
                f" Its diagonal holds the sums of the {over}s of the true gradient: you multiplied "
                f"the two factors as matrices ({product}, shape ({k}, {k})), which adds up products "
                f"along each {over}, where each entry of {name} has its own derivative. "
                f"{fix.format('G ⊙ f′(Z)', 'G')}."
            )
    return ""


class Candidate(NamedTuple):
    """One arrangement of two factors in :func:`candidate_products`.

    ``expression`` names it (e.g. ``"g aᵀ"``); ``left`` and ``right`` are the shapes
    multiplied; ``shape`` is the product's shape, or None if the inner sizes differ;
    ``fits`` is True if that shape is the target.
    """

    expression: str
    left: tuple
    right: tuple
    shape: tuple | None
    fits: bool


def _shape2(shape, what):
    if (not isinstance(shape, tuple) or len(shape) != 2
            or not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k > 0
                       for k in shape)):
        raise ValueError(f"{what} must be a 2-D shape (rows, columns) of positive integers, got {shape!r}")
    return tuple(int(k) for k in shape)


def candidate_products(target, factors):
    """Step 2 of the two-step method (book chapter 4) as a search over arrangements.

    Parameters
    ----------
    target : tuple (rows, columns)
        The shape the dimension-compatibility rule demands (``eq-dim-rule``).
    factors : two pairs (name, shape)
        The factors that step 1 produced, each a 2-D shape, e.g.
        ``[("g", (2, 1)), ("a", (3, 1))]``.

    Returns
    -------
    list of Candidate
        All eight products: both orders, each factor transposed or not. A candidate
        ``fits`` when it is a valid product of the target shape. The rule can leave
        no candidate (the element-wise case, ``eq-ch04-elementwise``) or several (square
        shapes); only a derivation or a check decides between them.

    Raises
    ------
    ValueError
        If ``target`` or a factor's shape is not a pair of positive integers, or there
        are not exactly two factors.
    TypeError
        If a factor's name is not a string.
    """
    target = _shape2(target, "target")
    factors = list(factors)
    if len(factors) != 2:
        raise ValueError(f"factors must be two (name, shape) pairs, got {len(factors)}: {factors!r}")
    checked = []
    for k, pair in enumerate(factors):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ValueError(f"factor {k} must be a (name, shape) pair, got {pair!r}")
        if not isinstance(pair[0], str):
            raise TypeError(f"factor {k}'s name must be a string, got {pair[0]!r}")
        checked.append((pair[0], _shape2(pair[1], f"factor {pair[0]!r}'s shape")))
    out = []
    for (na, sa), (nb, sb) in (checked, checked[::-1]):
        for ta in (False, True):
            for tb in (False, True):
                pa, pb = (sa[::-1] if ta else sa), (sb[::-1] if tb else sb)
                shape = (pa[0], pb[1]) if pa[1] == pb[0] else None
                expression = f"{na}{'ᵀ' if ta else ''} {nb}{'ᵀ' if tb else ''}"
                out.append(Candidate(expression, pa, pb, shape, shape == target))
    return out


def check_proposed_gradient(f, proposed, x, *, name="x", tol=1e-7, h=1e-5, raise_on_failure=False):
    """Check a hand-derived gradient ∂J/∂x: shape first (``eq-dim-rule``), then values.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns the scalar J. As in :func:`~fcnn_lib.gradcheck.numerical_gradient`,
        ``x`` is perturbed in place and restored exactly, so ``f`` may also read it
        through a closure (e.g. a layer's weight array).
    proposed : array_like
        The proposed gradient ∂J/∂x. By the rule it must have the shape of ``x``.
    x : array of any shape (float64)
        The variable, at the point where the gradient is checked.
    name : str
        How the variable is called in the messages (e.g. ``"W"``).
    tol : float
        The proposal g passes if its relative error to the finite-difference gradient
        ĝ is below ``tol`` (default 1e-7, see ``eq-rel-error``) *and* every entry
        agrees: ``abs(g_i - ĝ_i) <= tol * max(abs(g_i), abs(ĝ_i)) + noise``. The noise
        is ten times an estimate of the finite-difference error: the largest
        ``abs(ĝ(2h)_j - ĝ(h)_j)`` over the entries (truncation and round-off) plus
        ``ε * (abs(J) + max_j abs(x_j * ĝ_j)) / h`` (the round-off of J), with ε the
        float64 machine epsilon. An entry smaller than the noise cannot be told from 0.
    h : float
        Finite-difference step (the noise estimate also uses 2h).
    raise_on_failure : bool
        If True, raise :class:`GradientCheckFailed` with the message instead of
        returning a failed result.

    Returns
    -------
    ProposedGradientCheck
        ``passed``, ``verdict``, a readable ``message`` and the numbers behind it.

    Raises
    ------
    TypeError
        If ``f`` is not callable, ``x`` is not a float64 numpy array, or ``proposed``
        or ``f(x)`` does not hold real numbers.
    ValueError
        If ``proposed`` holds NaN or inf, ``f(x)`` is not a scalar, or ``tol`` or ``h``
        is not a positive number.

    Examples
    --------
    For J = ½‖W a − y‖², with W of shape (2, 3) and a of shape (3,), the true gradient
    (W a − y) aᵀ has shape (2, 3); its transpose a (W a − y)ᵀ, of shape (3, 2), fails
    with the verdict ``"transposed"`` and a message naming both shapes.

    For J = Σᵢ tanh(zᵢ) with z of shape (n,), the gradient is the element-wise
    1 − tanh²(z); the outer product ``np.outer(g, fprime)`` or the inner product
    ``g @ fprime`` (with g the ones vector, fprime = 1 − tanh²(z)) fails with the verdict
    ``"element-wise"``, while ``g * fprime`` passes. For a batch Z of shape (m, n) the
    same holds for ``G @ fprime.T`` (shape (m, m)) and ``G.T @ fprime`` (shape (n, n)).

    For J = ½‖tanh(z) − y‖² with z = (0.3, −0.5, 1, 10), a proposal whose entry for the
    saturated unit is 0 instead of about 7e-9 has a relative error near 1e-8, below
    ``tol``; it fails all the same (verdict ``"wrong values"``), because that entry
    differs from finite differences by more than their noise.
    """
    if not callable(f):
        raise TypeError(f"f must be a function returning the scalar J, got {type(f).__name__}")
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            f"x must be a float64 numpy array (it is perturbed in place), got "
            f"{type(x).__name__}{' of dtype ' + str(x.dtype) if isinstance(x, np.ndarray) else ''}; "
            f"convert it with np.asarray(x, dtype=float)"
        )
    proposed = as_float_array(proposed, f"proposed gradient ∂J/∂{name}")
    for label, value in (("tol", tol), ("h", h)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise TypeError(f"{label} must be a positive number, got {value!r}")
        if not value > 0 or not np.isfinite(value):
            raise ValueError(f"{label} must be a positive number, got {value!r}")
    J0 = _scalar_value(f, x)  # J must be a scalar before anything else is said

    numeric = numerical_gradient(lambda v: _scalar_value(f, v), x, h)
    numeric_2h = numerical_gradient(lambda v: _scalar_value(f, v), x, 2 * h)
    eps = np.finfo(np.float64).eps
    noise = 10 * float(np.max(np.abs(numeric_2h - numeric), initial=0.0)
                       + eps * (abs(J0) + float(np.max(np.abs(x * numeric), initial=0.0))) / h)
    want, got = x.shape, proposed.shape

    def done(passed, verdict, message, rel=None, worst=None):
        if not passed and raise_on_failure:
            raise GradientCheckFailed(message)
        return ProposedGradientCheck(passed, verdict, message, proposed, numeric, rel, worst,
                                     noise)

    if got != want:
        message = (
            f"Your gradient has shape {got} but {name} has shape {want}: by the "
            f"dimension-compatibility rule ∂J/∂{name} must have the shape of {name}."
        )
        hint = _elementwise_hint(proposed, numeric, name, tol)
        if hint:
            return done(False, "element-wise", message + hint)
        if proposed.ndim == 2 and proposed.T.shape == want:
            rel_t = relative_error(proposed.T, numeric)
            if rel_t < tol:
                message += (
                    f" Its transpose matches finite differences (relative error "
                    f"{_sci(rel_t)}): you transposed the result, or multiplied the "
                    f"factors in the wrong order."
                )
                return done(False, "transposed", message)
            message += " Did you transpose, or multiply the factors in the wrong order?"
        elif proposed.size == numeric.size:
            rel_r = relative_error(proposed.reshape(want), numeric)
            if rel_r < tol:
                message += (
                    f" Its values are right but arranged as {got}: reshape it to {want} "
                    f"(e.g. a column (n, 1) where a 1-D (n,) array is wanted)."
                )
            else:
                message += " Check which factors you multiplied and in what order."
        else:
            message += " Check which factors you multiplied and in what order."
        return done(False, "wrong shape", message)

    rel = relative_error(proposed, numeric)
    diff = np.abs(proposed - numeric)
    allowed = tol * np.maximum(np.abs(proposed), np.abs(numeric)) + noise
    excess = diff / allowed  # an entry agrees if its excess is at most 1
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), want)) if diff.size else ()
    if rel < tol and not np.any(excess > 1):
        message = (
            f"Correct: ∂J/∂{name} has the shape {want} of {name} and agrees with finite "
            f"differences, as a whole (relative error {_sci(rel)} < {_sci(tol, 0)}) and "
            f"entry by entry."
        )
        return done(True, "correct", message, rel, worst)
    if rel < tol:  # small overall, but one entry is wrong: a norm hides it
        message = (
            f"Shapes match and the relative error over all entries is small ({_sci(rel)} < "
            f"{_sci(tol, 0)}), but entry {_fmt_index(worst)} is wrong: yours is "
            f"{proposed[worst]:.6g} and finite differences give {numeric[worst]:.6g}, a "
            f"difference of {_sci(diff[worst])}, more than their noise ({_sci(noise)}) allows. "
            f"The entry is small next to the others, so the norm hides it; check its derivative."
        )
        return done(False, "wrong values", message, rel, worst)

    if len(want) == 2 and want[0] == want[1] and relative_error(proposed.T, numeric) < tol:
        message = (
            f"Shapes match, but only because {name} is square {want}: your gradient is "
            f"the transpose of the true one (relative error {rel:.2g}; its transpose "
            f"agrees with finite differences). Shape-matching alone cannot catch this; "
            f"swap the order of the factors, or test with non-square dimensions."
        )
        return done(False, "transposed", message, rel, worst)

    hint = _elementwise_hint(proposed, numeric, name, tol) if proposed.ndim == 2 else ""
    if hint:  # a square batch: G f′(Z)ᵀ has the shape of Z
        message = f"Shapes match, but only because {name} is square {want}." + hint
        return done(False, "element-wise", message, rel, worst)

    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), want)) if diff.size else ()
    where = f"largest difference at index {_fmt_index(worst)}, where yours" if worst else "yours"
    message = (
        f"Shapes match, but the values differ from finite differences (relative error "
        f"{rel:.2g} > {_sci(tol, 0)}): {where} is {proposed[worst]:.6g} and finite "
        f"differences give {numeric[worst]:.6g}."
    )
    return done(False, "wrong values", message, rel, worst)
