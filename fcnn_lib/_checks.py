"""Input validation shared by every fcnn_lib module.

Every check raises ``ValueError`` or ``TypeError`` with a message that names what was
received and what was expected. Nothing here broadcasts, and nothing here keeps state:
whether an array is scanned for NaN and inf is said by the caller, with
``as_float_array(..., finite=...)``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def as_float_array(x, name="input", *, ndim: int | None = None, finite: bool = True) -> np.ndarray:
    """Return ``x`` as a float64 array, checking type, rank and (if ``finite``) finiteness.

    Parameters
    ----------
    x : array_like
        Numbers (bool, int or float). Strings, objects and ragged lists are refused.
    name : str or callable
        How the array is called in error messages (a function returning the name is
        called only when there is an error to report).
    ndim : int, optional
        Required number of dimensions.
    finite : bool
        Scan every entry for NaN and inf (default). The layers pass False: inside a
        network the finiteness of what flows between layers is checked by the network
        (see :class:`fcnn_lib.network.Sequential`), which can name the layer at fault.

    Raises
    ------
    TypeError
        If ``x`` does not hold real numbers.
    ValueError
        If ``x`` is ragged, has the wrong number of dimensions or (if ``finite``)
        holds NaN or inf.
    """
    try:
        arr = np.asarray(x)
    except ValueError as exc:  # a ragged nested list
        raise ValueError(f"{_name(name)} must be a rectangular array of numbers: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{_name(name)} must hold real numbers, got an array of dtype {arr.dtype} "
            f"(shape {arr.shape})"
        )
    arr = arr.astype(np.float64, copy=False)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{_name(name)} must have {ndim} dimension(s), got shape {arr.shape} "
            f"({arr.ndim} dimension(s))"
        )
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{_name(name)} (shape {arr.shape}) contains NaN or inf, {first_non_finite(arr)}")
    return arr


def first_non_finite(arr: np.ndarray) -> str:
    """Where ``arr`` first holds NaN or inf, in words: "first at index (i, j): nan"."""
    bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
    return f"first at index {bad}: {arr[bad]}"


def _name(name):
    """The name for an error message: ``name`` itself, or what the function returns."""
    return name() if callable(name) else name


def check_same_shape(a: np.ndarray, y: np.ndarray, a_name: str, y_name: str) -> None:
    """Refuse two arrays whose shapes differ (no broadcasting, ever).

    Raises
    ------
    ValueError
        Naming both shapes, with a hint for the common (m,) versus (m, 1) mix-up.
    """
    if a.shape == y.shape:
        return
    if a.ndim >= 1 and y.ndim >= 1 and a.shape[0] != y.shape[0]:
        raise ValueError(
            f"batch sizes differ: {a_name} has {a.shape[0]} example(s) (shape "
            f"{a.shape}) but {y_name} has {y.shape[0]} (shape {y.shape})"
        )
    hint = ""
    if sorted((a.ndim, y.ndim)) == [1, 2]:
        hint = (
            "; a 1-D array of shape (m,) against (m, 1) would broadcast to (m, m) "
            "silently, so reshape the labels, e.g. y.reshape(-1, 1)"
        )
    raise ValueError(
        f"{y_name} has shape {y.shape} but {a_name} has shape {a.shape}; "
        f"they must be equal{hint}"
    )


def check_nonempty(arr: np.ndarray, name: str) -> None:
    """Refuse a batch with no examples (a mean over zero examples is not a number)."""
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise ValueError(
            f"{name} holds no examples (shape {arr.shape}); a batch needs at least one "
            f"example (one per row)"
        )


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int, refusing anything that is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_number(value, name: str, *, positive: bool = False) -> float:
    """Return ``value`` as a float: a finite real number, and ``> 0`` if ``positive``
    (else ``>= 0``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    bound = "> 0" if positive else ">= 0"
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def check_pair(value, name: str, *, allow_zero: bool = False) -> tuple[int, int]:
    """An int or an (h, w) pair of ints → (h, w); positive (or ``>= 0`` with ``allow_zero``)."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an int or an (h, w) pair of ints, got {value!r}")
    pair = (int(pair[0]), int(pair[1]))
    if allow_zero and min(pair) < 0:
        raise ValueError(f"{name} must be >= 0, got {pair[0]}×{pair[1]} (h×w)")
    if not allow_zero and min(pair) <= 0:
        raise ValueError(f"{name} must be positive, got {pair[0]}×{pair[1]} (h×w)")
    return pair


def check_perturbable(x, who: str) -> np.ndarray:
    """Refuse anything but a writable float64 numpy array, which ``who`` perturbs in place."""
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64):
        raise TypeError(
            f"{who} perturbs x in place, so x must be a float64 numpy array; got "
            f"{type(x).__name__} {getattr(x, 'dtype', '')}"
        )
    if not x.flags.writeable:
        raise ValueError(
            f"{who} perturbs x in place, but x (shape {x.shape}) is read-only; pass a writable "
            f"array, e.g. x.copy() (f must then read that copy)"
        )
    return x


def check_generator(rng, who: str) -> np.random.Generator:
    """Refuse anything but an explicit ``numpy.random.Generator``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{who} needs an explicit seeded numpy.random.Generator, e.g. "
            f"np.random.default_rng(0); got {type(rng).__name__}"
        )
    return rng


def lookup(name, table: dict, kind: str):
    """Return ``table[name]`` or raise ValueError listing the known names."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a string, got {name!r}")
    try:
        return table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise ValueError(f"unknown {kind} {name!r}; known: {known}") from None
