"""Figures in the book: one plot style, sharp images, and a digest that tests can read.

``use_style()`` sets matplotlib's rcParams once per notebook. ``show(fig)`` displays a
figure as a PNG drawn at twice the resolution it is shown at (sharp on high-resolution
screens), together with a plain-text **digest** of what the figure plots: every line,
point set, image, bar, text label and colour, with its data rounded to
:data:`DIGEST_DIGITS` significant digits and summarised by a short hash. nbval ignores
images but compares text, so a changed curve, label or colour fails the tests while
re-rendering noise (fonts, anti-aliasing) cannot.

``show`` also refuses a figure whose smallest text would be illegible on a phone: the
page column of a 390 px wide phone is :data:`PHONE_COLUMN_PX` px wide, and a figure is
scaled down to it, so its fonts must be at least :data:`MIN_PHONE_TEXT_PX` px there.

Nothing here is imported by the library proper; matplotlib is imported when used.
"""

from __future__ import annotations

import hashlib
import io
import os

import numpy as np

#: The book's matplotlib rcParams, which give 6.4 in wide figures with 11–12 pt text
#: (legible on a phone), white backgrounds (readable in the site's dark mode) and
#: deterministic files.
BOOK_STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    # Deterministic output: no date or version stamps that change between runs.
    "svg.hashsalt": "fcnn-course",
}

#: Width of the page column on a 390 px wide phone (CSS px); a wider figure is scaled
#: down to it.
PHONE_COLUMN_PX = 358
#: Smallest legible text size on that phone, in CSS px.
MIN_PHONE_TEXT_PX = 8.5
#: CSS px per inch at which a figure is shown (its ``figure.dpi``).
SHOWN_DPI = 100
#: The PNG holds this many image pixels per CSS px.
PIXEL_RATIO = 2
#: Significant digits of the plotted data that the digest keeps.
DIGEST_DIGITS = 6
#: White margin kept around the drawn area of a figure, in inches.
_PAD_INCHES = 0.05
#: Environment variable that switches :func:`show` to digest-only output ("digest").
FIGURES_ENV = "FCNN_BOOK_FIGURES"


def use_style():
    """Apply :data:`BOOK_STYLE` to matplotlib (call once at the top of a notebook)."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(BOOK_STYLE)


# ---------------------------------------------------------------------- digest
def _num(x, digits=4):
    x = float(x)
    if not np.isfinite(x):
        return str(x)
    return f"{x + 0.0:.{digits}g}"


def _hash(*arrays):
    h = hashlib.sha1()
    for a in arrays:
        a = np.ma.filled(np.ma.asarray(a, dtype=float), np.nan).ravel() + 0.0
        h.update(str(a.shape).encode())
        h.update(" ".join(f"{v:.{DIGEST_DIGITS}g}" for v in a).encode())
    return h.hexdigest()[:10]


def _range(a):
    a = np.ma.filled(np.ma.asarray(a, dtype=float), np.nan).ravel()
    a = a[np.isfinite(a)]
    if a.size == 0:
        return "[]"
    return f"[{_num(a.min())}, {_num(a.max())}]"


def _color(c):
    from matplotlib.colors import to_hex

    try:
        return to_hex(c, keep_alpha=True)
    except (ValueError, TypeError):
        return str(c)


def _colors(array):
    array = np.asarray(array)
    if array.size == 0:
        return "none"
    rows = array.reshape(-1, array.shape[-1]) if array.ndim > 1 else array.reshape(1, -1)
    unique = []
    for row in rows:
        hexed = _color(row)
        if hexed not in unique:
            unique.append(hexed)
    shown = " ".join(unique[:4])
    return shown + (f" (+{len(unique) - 4} more)" if len(unique) > 4 else "")


def _text(s):
    return repr(s.replace("\n", " / "))


def _axis(ax, which):
    axis = ax.xaxis if which == "x" else ax.yaxis
    label = axis.get_label().get_text()
    lo, hi = ax.get_xlim() if which == "x" else ax.get_ylim()
    lo_v, hi_v = sorted((lo, hi))
    ticks = [
        tick.label1.get_text()
        for tick in axis.get_major_ticks()
        if tick.label1.get_visible() and tick.label1.get_text()
        and lo_v - 1e-9 * (hi_v - lo_v) <= tick.get_loc() <= hi_v + 1e-9 * (hi_v - lo_v)
    ]
    scale = ax.get_xscale() if which == "x" else ax.get_yscale()
    return f"{which} {_text(label)} {scale} [{_num(lo)}, {_num(hi)}] ticks {' '.join(ticks) or '-'}"


def _artist_lines(ax):
    from matplotlib.collections import Collection
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    out = []
    skip = {id(a) for a in (ax.patch, ax.title, ax._left_title, ax._right_title, *ax.spines.values())}
    for child in ax.get_children():
        if not child.get_visible() or id(child) in skip:
            continue
        if not isinstance(child, (Line2D, AxesImage, Collection, Patch, Text)):
            continue  # axis objects, the legend (below), offset boxes
        label = child.get_label()
        label = "" if label.startswith("_") else f" {_text(label)}"
        if isinstance(child, Line2D):
            x, y = child.get_xdata(orig=False), child.get_ydata(orig=False)
            out.append(
                f"line{label} {_color(child.get_color())} {child.get_linestyle()}"
                f"{'' if child.get_marker() in ('None', None, '') else ' marker ' + str(child.get_marker())}"
                f" {len(np.atleast_1d(x))} pts x{_range(x)} y{_range(y)} #{_hash(x, y)}"
            )
        elif isinstance(child, AxesImage):
            arr = child.get_array()
            cmap = child.get_cmap().name if arr is not None and np.ndim(arr) == 2 else "rgb"
            lo, hi = child.get_clim()
            out.append(
                f"image{label} {np.shape(arr)} cmap {cmap} clim [{_num(lo)}, {_num(hi)}] "
                f"extent {[_num(e) for e in child.get_extent()]} #{_hash(arr)}"
            )
        elif isinstance(child, Collection):
            kind = type(child).__name__
            offsets = child.get_offsets()
            paths = child.get_paths()
            verts = [p.vertices for p in paths]
            arr = child.get_array()
            data = [np.asarray(offsets)] + verts + ([arr] if arr is not None else [])
            n = len(offsets) if len(offsets) > 1 else len(paths)
            extra = ""
            if arr is not None:
                extra = f" values{_range(arr)} cmap {child.get_cmap().name}"
            if hasattr(child, "levels"):
                extra += f" levels {[_num(v) for v in child.levels]}"
            out.append(
                f"{kind}{label} n={n} face {_colors(child.get_facecolor())} "
                f"edge {_colors(child.get_edgecolor())}{extra} #{_hash(*data)}"
            )
        elif isinstance(child, Patch):
            verts = child.get_patch_transform().transform(child.get_path().vertices)
            out.append(
                f"{type(child).__name__}{label} face {_color(child.get_facecolor())} "
                f"edge {_color(child.get_edgecolor())} x{_range(verts[:, 0])} y{_range(verts[:, 1])} "
                f"#{_hash(verts)}"
            )
        elif isinstance(child, Text):
            if not child.get_text():
                continue
            x, y = child.get_position()
            out.append(
                f"text {_text(child.get_text())} at ({_num(x)}, {_num(y)}) {_color(child.get_color())}"
            )
    legend = ax.get_legend()
    if legend is not None and legend.get_visible():
        entries = []
        for text, handle in zip(legend.get_texts(), legend.legend_handles):
            color = ""
            if handle is not None:
                getter = getattr(handle, "get_color", None) or getattr(handle, "get_facecolor", None)
                if getter is not None:
                    c = getter()
                    color = " " + (_colors(c) if np.ndim(c) > 1 else _color(c))
            entries.append(f"{_text(text.get_text())}{color}")
        out.append("legend " + "; ".join(entries))
    return out


def _text_sizes(fig):
    """Font sizes (pt) of every visible, non-empty text in the figure."""
    from matplotlib.text import Text

    return [
        t.get_fontsize()
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_figure() is fig
    ]


def phone_text_px(fig, width_px=None):
    """The smallest text of ``fig`` in CSS px when the figure is shown on a phone.

    A figure is shown :data:`SHOWN_DPI` px per inch (``width_px`` wide, by default its
    full width), scaled down to :data:`PHONE_COLUMN_PX` when wider.
    """
    sizes = _text_sizes(fig)
    if not sizes:
        return float("inf")
    if width_px is None:
        width_px = fig.get_figwidth() * SHOWN_DPI
    scale = min(1.0, PHONE_COLUMN_PX / width_px)
    return min(sizes) * SHOWN_DPI / 72.0 * scale


def figure_digest(fig, *, draw=True):
    """A plain-text summary of everything ``fig`` plots (see the module docstring).

    One line for the figure, then per axes one line with the title, one per axis (label,
    scale, limits, tick labels) and one per artist (lines, collections, images, patches,
    texts, legend), each with its colours and a hash of its data rounded to
    :data:`DIGEST_DIGITS` significant digits. Tick labels exist only after a draw, so
    the figure is drawn first unless ``draw=False`` (it was just saved).
    """
    if draw:
        fig.canvas.draw()
    w, h = fig.get_size_inches()
    lines = [
        f"figure {_num(w, 3)} x {_num(h, 3)} in, {len(fig.axes)} axes, "
        f"smallest text {_num(min(_text_sizes(fig) or [0]), 3)} pt "
        f"({_num(phone_text_px(fig), 3)} px on a phone)"
    ]
    if fig._suptitle is not None and fig._suptitle.get_text():
        lines.append(f"suptitle {_text(fig._suptitle.get_text())}")
    for t in fig.texts:
        if t.get_visible() and t.get_text():
            lines.append(f"figure text {_text(t.get_text())}")
    for i, ax in enumerate(fig.axes, start=1):
        if not ax.get_visible():
            continue
        titles = [t.get_text() for t in (ax._left_title, ax.title, ax._right_title) if t.get_text()]
        lines.append(f"axes {i}: title {_text(' | '.join(titles))}")
        if ax.axison:
            lines.append("  " + _axis(ax, "x"))
            lines.append("  " + _axis(ax, "y"))
        lines.extend("  " + line for line in _artist_lines(ax))
    return "\n".join(lines)


class BookFigure:
    """What :func:`show` displays: a 2× PNG for the eye, the digest for the tests."""

    def __init__(self, png: bytes, width_px: int, height_px: int, digest: str):
        self.png = png
        self.width_px = width_px
        self.height_px = height_px
        self.digest = digest

    def _repr_png_(self):
        if self.png is None:  # digest-only mode: no image
            return None
        # width/height in the metadata: the page shows the image at half its pixels
        return self.png, {"width": self.width_px, "height": self.height_px}

    def __repr__(self):
        return self.digest


def _png_size(png):
    """(width, height) in pixels, read from the PNG header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _palette_png(png):
    """Re-encode a figure's PNG with a 256-colour palette.

    A plot has few colours, so the 2× image then weighs about what a 1× RGBA image did.
    """
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    small.save(out, format="png", optimize=True)
    return out.getvalue()


def _shown_width(fig):
    """Width in CSS px of the figure's drawn area, padded as :func:`show` crops it."""
    bbox = fig.get_tightbbox(fig.canvas.get_renderer())
    return (bbox.width + 2 * _PAD_INCHES) * SHOWN_DPI


def show(fig=None):
    """Display ``fig`` (default: the current figure) as a sharp PNG plus its digest.

    The PNG is cropped to the drawn area (as Jupyter's inline backend does) and holds
    :data:`PIXEL_RATIO` image pixels per CSS px. Closes the figure afterwards, so it is
    not shown twice. Returns None (a returned object would be displayed a second time
    as the cell's result).

    With the environment variable :data:`FIGURES_ENV` set to ``"digest"`` (the test
    suite sets it for nbval, which compares the digest and never the image) only the
    digest is displayed and no PNG is made. The digest and the legibility check are
    the same in both modes: both come from one draw at :data:`SHOWN_DPI`.

    Raises
    ------
    ValueError
        If the figure's smallest text would be smaller than :data:`MIN_PHONE_TEXT_PX`
        on a phone (make the figure narrower or its fonts larger).
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    fig = plt.gcf() if fig is None else fig
    if not isinstance(fig, Figure):
        raise TypeError(f"show() expects a matplotlib Figure, got {type(fig).__name__}")
    fig.set_dpi(SHOWN_DPI)
    digest = figure_digest(fig)  # draws the figure at SHOWN_DPI
    width = _shown_width(fig)
    smallest = phone_text_px(fig, width)
    if smallest < MIN_PHONE_TEXT_PX:
        raise ValueError(
            f"figure text would be {smallest:.1f} px on a phone (minimum {MIN_PHONE_TEXT_PX}): "
            f"the figure is shown {width:.0f} px wide with smallest font "
            f"{min(_text_sizes(fig)):.1f} pt; make it narrower (stack panels) or its fonts larger"
        )
    if os.environ.get(FIGURES_ENV) == "digest":
        shown = BookFigure(None, 0, 0, digest)
    else:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=SHOWN_DPI * PIXEL_RATIO, bbox_inches="tight",
                    pad_inches=_PAD_INCHES, metadata={"Software": None})
        png = _palette_png(buf.getvalue())
        px_w, px_h = _png_size(png)
        shown = BookFigure(png, round(px_w / PIXEL_RATIO), round(px_h / PIXEL_RATIO), digest)
    plt.close(fig)
    try:
        from IPython.display import display
    except ImportError:  # plain Python: the digest is the display
        print(digest)
    else:
        display(shown)
