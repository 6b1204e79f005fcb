"""Stating computed numbers in the book: stable rounding, gluing and bounds.

The chapters print and glue numbers that nbval compares from run to run and from
machine to machine. Values that differ only in their last bits (a different BLAS or
``exp``) must not change the stored output, so they are rounded before being shown.
Every number the prose states goes through :func:`glue`.
"""

from __future__ import annotations

import math
import numbers
import re

#: Significant digits kept by :func:`stable`: far more than any prose shows, far fewer
#: than float64's ~16, so last-bit differences between machines disappear.
DIGITS = 10

_KEY = re.compile(r"[a-z][a-z0-9]*(-[A-Za-z0-9]+)+")


def stable(value, digits=DIGITS):
    """``value`` as a Python float rounded to ``digits`` significant digits.

    Raises ValueError for NaN or ±inf: a non-finite number is never stated.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"stable() expects a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot state a non-finite number: {value}")
    rounded = float(f"{value:.{digits}g}")
    # Near the largest float64, rounding up overflows to inf: keep the exact value.
    return rounded if math.isfinite(rounded) else value


def glue(key, value, *, digits=DIGITS, markdown=False):
    """Hand ``value`` to the prose under ``key`` (myst-nb glue, not displayed here).

    The one way a notebook states a computed value in its text: write
    ``{glue:text}`key:.4f``` (a number) or ``{glue:text}`key``` (a phrase) in a
    markdown cell, or ``{glue:md}`key:myst``` for a phrase glued with
    ``markdown=True`` (which may hold math).

    Parameters
    ----------
    key : str
        Words of letters and digits joined by hyphens, starting with the page's
        lower-case prefix (``"ch05-delta-norm"``); unique within the notebook.
    value : int, float, numpy scalar or str
        Integers are glued exactly; other real numbers are rounded by :func:`stable`
        (so ``{glue:text}`` shows the same digits on every machine); strings as they are.
    digits : int
        Significant digits kept for a non-integer number.
    markdown : bool
        Glue a string as Markdown (for ``{glue:md}``).

    Without myst-nb (a notebook run on Colab), nothing is glued and the value is only
    returned.

    Returns
    -------
    The glued value (after rounding), so a cell can assert on exactly what the text shows.
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(
            f"glue key must be words of letters and digits joined by hyphens, starting "
            f"with the page's lower-case prefix, e.g. 'ch05-delta-norm'; got {key!r}"
        )
    if isinstance(value, str):
        shown = value
    elif isinstance(value, bool):
        raise TypeError(f"glue {key!r}: a bool is not a number to state; got {value!r}")
    elif isinstance(value, numbers.Integral):
        shown = int(value)
    elif isinstance(value, numbers.Real):
        shown = stable(value, digits)
    else:
        raise TypeError(
            f"glue {key!r} expects a number or a string, got {type(value).__name__}; "
            f"convert arrays with float(...) or .item() first"
        )
    if markdown and not isinstance(shown, str):
        raise TypeError(f"glue {key!r}: markdown=True needs a string, got {type(value).__name__}")
    try:
        from myst_nb import glue as myst_glue  # imported here: only the book needs myst-nb
    except ImportError:  # e.g. on Colab: there is no text to paste into
        return shown

    if markdown:
        from IPython.display import Markdown

        myst_glue(key, Markdown(shown), display=False)
    else:
        myst_glue(key, shown, display=False)
    return shown


def at_most(x):
    """The power of ten at or above a round-off-sized, non-negative number, as text.

    ``at_most(3.2e-11)`` is ``"1e-10"``; printing it instead of the exact value keeps a
    cell's output identical across runs. ``at_most(0)`` is ``"0"``.
    """
    x = float(x)
    if x < 0 or not math.isfinite(x):
        raise ValueError(f"at_most expects a finite number >= 0, got {x}")
    return "0" if x == 0 else f"{10.0 ** math.ceil(math.log10(x)):.0e}"
