"""F.book.show and its digest: what nbval compares for every figure (issue 12.2).

The digest must change with anything a reader sees (a plotted value, a label, a colour)
and must not change when the same figure is drawn again; the digest-only mode the test
suite uses must print exactly the digest the stored notebooks carry.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fcnn_lib.book import figures  # noqa: E402


def _figure(y_scale=1.0, label="cost J", color="C0"):
    figures.use_style()
    fig, ax = plt.subplots(figsize=(4, 2.5))
    x = np.linspace(0, 1, 11)
    ax.plot(x, y_scale * x**2, color=color)
    ax.set_xlabel("epoch")
    ax.set_ylabel(label)
    return fig


def _digest(**kwargs):
    fig = _figure(**kwargs)
    try:
        return figures.figure_digest(fig)
    finally:
        plt.close(fig)


def test_digest_is_stable_under_redrawing():
    assert _digest() == _digest()


@pytest.mark.parametrize("change", [{"y_scale": 1.0001}, {"label": "cost"}, {"color": "C1"}])
def test_digest_changes_with_what_a_reader_sees(change):
    assert _digest(**change) != _digest()


def _shown(monkeypatch, mode):
    if mode is None:
        monkeypatch.delenv(figures.FIGURES_ENV, raising=False)
    else:
        monkeypatch.setenv(figures.FIGURES_ENV, mode)
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", shown.append)
    figures.show(_figure())
    (obj,) = shown
    return obj


def test_digest_only_mode_shows_the_same_digest_and_no_image(monkeypatch):
    full = _shown(monkeypatch, None)
    digest_only = _shown(monkeypatch, "digest")
    assert full.png is not None and full._repr_png_()[0].startswith(b"\x89PNG")
    assert digest_only._repr_png_() is None
    assert digest_only.digest == full.digest
    assert full.width_px > 0 and full.height_px > 0


def test_show_refuses_text_too_small_for_a_phone():
    figures.use_style()
    fig, ax = plt.subplots(figsize=(14, 3))
    ax.plot([0, 1], [0, 1])
    with pytest.raises(ValueError, match="px on a phone"):
        figures.show(fig)
    plt.close(fig)


def test_show_refuses_what_is_not_a_figure():
    with pytest.raises(TypeError, match="matplotlib Figure"):
        figures.show(object())
