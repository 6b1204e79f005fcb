"""One plot style for every chapter (imported by notebooks, not by the library core).

``use_book_style()`` sets matplotlib's rcParams once: a size that reads well at the
site's width, a white background (so figures stay readable in the site's dark mode),
light grids and legible fonts.
"""

from __future__ import annotations

BOOK_STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 11,
    "axes.titlesize": 12,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
}


def use_book_style():
    """Apply ``BOOK_STYLE`` to matplotlib (call once at the top of a notebook)."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(BOOK_STYLE)
