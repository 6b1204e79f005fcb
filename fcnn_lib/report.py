"""Stating computed numbers in the book: stable rounding, gluing and bounds.

The chapters print and glue numbers that nbval compares from run to run and from
machine to machine. Values that differ only in their last bits (a different BLAS or
``exp``) must not change the stored output, so they are rounded before being shown.
"""

from __future__ import annotations

import math

#: Significant digits kept by :func:`stable`: far more than any prose shows, far fewer
#: than float64's ~16, so last-bit differences between machines disappear.
DIGITS = 10


def stable(value, digits=DIGITS):
    """``value`` as a Python float rounded to ``digits`` significant digits."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot state a non-finite number: {value}")
    return float(f"{value:.{digits}g}")


def glue_num(key, value, digits=DIGITS):
    """Glue a number for the prose (myst-nb), rounded by :func:`stable`.

    Use it in a notebook cell, then write {glue:text}`key:.4f` in the text.
    """
    from myst_nb import glue  # imported here: only notebooks need myst-nb

    glue(key, stable(value, digits), display=False)


def at_most(x):
    """The power of ten at or above a round-off-sized, non-negative number, as text.

    ``at_most(3.2e-11)`` is ``"1e-10"``; printing it instead of the exact value keeps a
    cell's output identical across runs. ``at_most(0)`` is ``"0"``.
    """
    x = float(x)
    if x < 0 or not math.isfinite(x):
        raise ValueError(f"at_most expects a finite number >= 0, got {x}")
    return "0" if x == 0 else f"{10.0 ** math.ceil(math.log10(x)):.0e}"
