"""Static checks of the chapter notebooks: the conventions of AUTHORING.md.

- The first cell is the Colab install cell generated from ``_config.yml``.
- Every figure is shown with ``F.book.show`` (a digest nbval compares) and carries a
  caption, a chapter-prefixed name and real alt text in its cell metadata.
- Cells ran top to bottom in one fresh kernel; no stored error; only a timing cell is
  exempt from nbval, and it says why.
- One idiom: ``import fcnn_lib as F``; glue only through ``F.book.glue``.
"""

from __future__ import annotations

import importlib.util
import json
import re

import pytest

from book_sources import REPO, notebooks

_spec = importlib.util.spec_from_file_location("colab_cell", REPO / "scripts" / "colab_cell.py")
colab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(colab)

NOTEBOOKS = notebooks()


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _code(path):
    return [(i, c) for i, c in enumerate(_cells(path)) if c["cell_type"] == "code"]


def _src(cell):
    return "".join(cell["source"])


def _chapter(path):
    """The label prefix of a notebook: ``ch05`` for a chapter, else its name (``errata``)."""
    m = re.match(r"(ch\d\d)_", path.name)
    return m.group(1) if m else path.stem


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_installs_fcnn_lib_on_colab_only(path):
    first = _cells(path)[0]
    assert colab.is_colab_cell(first), f"{path.name}: first cell is not the Colab cell; run scripts/colab_cell.py --write"
    assert _src(first) == colab.colab_cell_source(), f"{path.name}: Colab cell is stale; run scripts/colab_cell.py --write"
    assert first["metadata"].get("tags") == ["remove-cell"]
    assert not first.get("outputs"), f"{path.name}: the Colab cell printed something outside Colab"


def _has_image(cell):
    return any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_have_digest_caption_name_and_alt(path):
    problems = []
    chapter = _chapter(path)
    names = set()
    for i, cell in _code(path):
        if not _has_image(cell):
            continue
        for out in cell["outputs"]:
            data = out.get("data", {})
            if "image/png" in data and not "".join(data.get("text/plain", "")).startswith("figure "):
                problems.append(f"cell {i}: an image not shown with F.book.show (no digest)")
        meta = cell["metadata"].get("mystnb", {})
        fig, image = meta.get("figure", {}), meta.get("image", {})
        caption, name, alt = fig.get("caption", ""), fig.get("name", ""), image.get("alt", "")
        if len(caption.split()) < 4:
            problems.append(f"cell {i}: figure caption missing or too short: {caption!r}")
        if not re.fullmatch(rf"fig-{chapter}-[a-z0-9-]+", name):
            problems.append(f"cell {i}: figure name {name!r} should look like 'fig-{chapter}-what'")
        elif name in names:
            problems.append(f"cell {i}: figure name {name!r} used twice")
        names.add(name)
        if len(alt.split()) < 8 or re.search(r"\.(png|svg|jpe?g)\b|/", alt):
            problems.append(f"cell {i}: alt text must describe the figure in words (8+), got {alt!r}")
        n_images = sum("image/png" in out.get("data", {}) for out in cell["outputs"])
        if n_images != 1:
            problems.append(f"cell {i}: {n_images} images in one cell; one figure per cell")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_once_top_to_bottom_without_errors(path):
    counts = [c.get("execution_count") for _, c in _code(path) if _src(c).strip()]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts[:8]}… are not 1..N; "
        "run it with scripts/run_notebook.py"
    )
    for i, cell in _code(path):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name} cell {i}: stored error output"
            if out["output_type"] == "stream" and out["name"] == "stderr":
                pytest.fail(f"{path.name} cell {i}: writes to stderr: {''.join(out['text'])[:200]}")
            assert "execution" not in cell["metadata"], f"{path.name} cell {i}: timing metadata stored"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stray_result_from_a_last_glue(path):
    """F.book.glue returns its value, so a cell ending with a glue call prints it."""
    for i, cell in _code(path):
        lines = [ln for ln in _src(cell).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if lines and lines[-1].startswith("F.book.glue("):
            results = [o for o in cell.get("outputs", []) if o["output_type"] == "execute_result"]
            assert not results, (
                f"{path.name} cell {i}: ends with a glue call whose value is shown as the cell's "
                "result; glue before the cell's last line (a ';' does not help: nbval runs cells "
                "without IPython's history, which ignores it)"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_timing_cells_are_exempt_from_nbval(path):
    for i, cell in _code(path):
        tags = set(cell["metadata"].get("tags", []))
        src = _src(cell)
        if tags & {"nbval-skip", "raises-exception"} or re.search(r"NBVAL_(SKIP|IGNORE_OUTPUT)", src):
            pytest.fail(f"{path.name} cell {i}: skipped by nbval; only an output may be exempt (a timing)")
        if "nbval-ignore-output" in tags:
            first = src.splitlines()[0] if src else ""
            assert first.startswith("# Timing") and "nbval" in first.lower(), (
                f"{path.name} cell {i}: exempt from nbval; its first line must say why, "
                f"e.g. '# Timing: wall-clock times differ from run to run, so nbval ignores the output'"
            )


FORBIDDEN = [
    (r"^\s*from fcnn_lib(\.\w+)* import|^\s*import fcnn_lib\.|^\s*import fcnn_lib\s*$",
     "import the library one way: import fcnn_lib as F"),
    (r"from myst_nb import|import myst_nb", "glue through F.book.glue"),
    (r"plt\.show\(|\.savefig\(", "show figures with F.book.show(fig)"),
    (r"sys\.path\.(insert|append)", "fcnn_lib is installed, never found through sys.path"),
    (r"np\.random\.(seed|rand|randn|normal|uniform|randint|choice|permutation|shuffle)\(",
     "randomness only through an explicit seeded numpy.random.Generator"),
]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_idiom(path):
    problems = []
    for i, cell in _code(path)[1:]:
        src = _src(cell)
        for pattern, advice in FORBIDDEN:
            if re.search(pattern, src, flags=re.M):
                problems.append(f"cell {i}: /{pattern}/: {advice}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
