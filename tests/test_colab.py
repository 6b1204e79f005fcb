"""A chapter runs where a reader clicks "Open in Colab", with nothing but its first cell.

Colab has numpy, matplotlib, sympy and ipykernel, but neither fcnn_lib nor anything of
the book's build (jupyter-book, myst-nb) or tests (pytest). This test builds such a
machine: a fresh virtual environment holding only numpy, matplotlib, sympy, ipykernel
(and what they need, by their own metadata), pip and setuptools, and a stub
``google.colab`` module imported at start-up as on Colab. Then a chapter notebook is
executed in a kernel running that environment's Python, exactly as stored, except
that the install cell's repository address is replaced by a copy of this checkout
(and pip is kept offline, so a missing dependency fails instead of being downloaded).
The cell must install fcnn_lib (not editable), the chapter must run top to bottom,
and fcnn_lib's data files must load from the installed package.

Installing numpy & co. from PyPI each time would take minutes, so their files are
linked from this test run's own environment into the new one.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from colab_cell import colab_cell_source, is_colab_cell, repository  # noqa: E402

#: What Colab provides that the chapters use, plus pip and the build backend.
COLAB_HAS = ["numpy", "matplotlib", "sympy", "ipykernel", "pip", "setuptools", "wheel"]
#: Must NOT be importable in the simulated Colab.
NOT_ON_COLAB = ["fcnn_lib", "myst_nb", "jupyter_book", "pytest", "nbval", "sphinx"]
#: The chapter executed (short, and it uses numpy, matplotlib, sympy and fcnn_lib).
NOTEBOOK = REPO / "book" / "ch01_neuron_to_network.ipynb"


def _closure(names):
    """The installed distributions ``names`` need, by their metadata (with markers)."""
    env = {"extra": ""}
    todo, seen = list(names), {}
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        dist = md.distribution(name)
        seen[key] = dist
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate(env):
                todo.append(req.name)
    return seen


def _link_distribution(dist, site_packages: Path):
    """Symlink a distribution's top-level files and folders (its packages, modules and
    .dist-info) into another site-packages."""
    base = Path(dist.locate_file(""))
    tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
    for top in tops:
        if top == "__pycache__":
            continue
        target = site_packages / top
        if not target.exists() and (base / top).exists():
            target.symlink_to(base / top)


@pytest.fixture(scope="module")
def colab_env(tmp_path_factory):
    """A fresh venv with only what Colab has, and a kernel spec that runs it."""
    root = tmp_path_factory.mktemp("colab")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = Path(subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    dists = _closure(COLAB_HAS)
    for dist in dists.values():
        _link_distribution(dist, site_packages)
    # google.colab, imported at start-up as on Colab
    (site_packages / "google" / "colab").mkdir(parents=True)
    (site_packages / "google" / "__init__.py").write_text("")
    (site_packages / "google" / "colab" / "__init__.py").write_text('"""Stub: this is not Colab."""\n')
    (site_packages / "zz_colab_simulation.pth").write_text("import google.colab\n")
    # a kernel spec for that python
    kernels = root / "jupyter" / "kernels" / "colab-sim"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab simulation", "language": "python"}))
    # the checkout, as pip would get it from the repository (sources only)
    checkout = root / "checkout"
    shutil.copytree(REPO / "fcnn_lib", checkout / "fcnn_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, checkout / name)
    return {"root": root, "python": python, "site_packages": site_packages,
            "kernels": root / "jupyter", "checkout": checkout, "dists": sorted(dists)}


def test_environment_is_colab_like(colab_env):
    """Only Colab's packages: nothing of the book build or the tests is importable."""
    code = ("import importlib.util, json, sys; print(json.dumps({n: importlib.util.find_spec(n) is not None "
            f"for n in {NOT_ON_COLAB + ['numpy', 'matplotlib', 'sympy', 'ipykernel']!r}}} | "
            "{'google.colab': 'google.colab' in sys.modules}))")
    found = json.loads(subprocess.check_output([str(colab_env["python"]), "-c", code], text=True,
                                               cwd=colab_env["root"], env=_clean_env()))
    assert found["google.colab"], "the stub google.colab module is not imported at start-up"
    assert all(found[n] for n in ("numpy", "matplotlib", "sympy", "ipykernel")), found
    present = [n for n in NOT_ON_COLAB if found[n]]
    assert not present, f"the simulated Colab has {present}; it must not"


def _clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "PIP_", "MPLBACKEND"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def test_chapter_runs_on_colab_with_only_its_first_cell(colab_env, monkeypatch, record_property, capsys):
    from nbclient import NotebookClient

    start = time.monotonic()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    first = nb.cells[0]
    assert is_colab_cell(first) and first.source == colab_cell_source(), \
        f"{NOTEBOOK.name}: the first cell is not the Colab cell of scripts/colab_cell.py"
    url, branch = repository()
    remote = f"git+{url}@{branch}"
    assert remote in first.source
    # same command, with a copy of this checkout for the repository and pip offline
    first.source = first.source.replace(
        f'"fcnn_lib @ {remote}"', f'"{colab_env["checkout"]}" --no-index --no-build-isolation')
    after = nbformat.v4.new_code_cell(
        "import fcnn_lib as F, importlib.util, sys\n"
        "print(F.__file__)\n"
        "X, y = F.load_digits()  # the data file shipped inside the installed package\n"
        "print('digits', getattr(X, 'shape', None))\n"
        "print('missing', [n for n in ('myst_nb', 'jupyter_book', 'pytest') if importlib.util.find_spec(n)])\n"
    )
    nb.cells.append(after)

    for key in list(os.environ):
        if key.startswith(("PYTHON", "VIRTUAL_ENV", "MPLBACKEND")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("JUPYTER_PATH", str(colab_env["kernels"]))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    workdir = colab_env["root"] / "content"  # Colab's working directory, not book/
    workdir.mkdir(exist_ok=True)
    client = NotebookClient(nb, kernel_name="colab-sim", timeout=300,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()

    # the install cell installed fcnn_lib (not editable) into the simulated Colab
    installed = list(colab_env["site_packages"].glob("fcnn_lib-*.dist-info"))
    assert installed, "the Colab cell did not install fcnn_lib"
    direct_url = installed[0] / "direct_url.json"
    if direct_url.exists():
        assert not json.loads(direct_url.read_text()).get("dir_info", {}).get("editable"), "editable install"
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    lines = out.splitlines()
    assert lines and str(colab_env["site_packages"]) in lines[0], f"fcnn_lib imported from elsewhere: {out}"
    assert re.search(r"digits \(\d+, \d+", out), f"F.load_digits() failed in the installed package: {out}"
    assert "missing []" in out, out
    seconds = time.monotonic() - start
    record_property("colab_seconds", round(seconds, 1))
    with capsys.disabled():
        print(f"\nColab simulation: {NOTEBOOK.name} ran in a fresh venv ({len(colab_env['dists'])} "
              f"distributions linked: Colab's numpy/matplotlib/sympy/ipykernel and their needs, pip, "
              f"setuptools) after its first cell installed fcnn_lib, in {seconds:.1f} s")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


def test_binder_is_lean_and_pinned_like_the_course():
    """binder/: Python 3.11 and only what the notebooks need, at the versions the
    course is tested with (no site build, test or browser packages)."""
    binder = REPO / "binder"
    assert (binder / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [ln.split("#", 1)[0].strip() for ln in (binder / "requirements.txt").read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    assert "." in lines, "binder/requirements.txt must install fcnn_lib from the repository ('.')"
    binder_pins, course_pins = _pins(binder / "requirements.txt"), _pins(REPO / "requirements.txt")
    assert set(binder_pins) == {"numpy", "matplotlib", "sympy", "ipykernel"}, binder_pins
    differ = {n: (v, course_pins.get(n)) for n, v in binder_pins.items() if course_pins.get(n) != v}
    assert not differ, f"binder pins differ from requirements.txt: {differ}"
