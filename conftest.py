"""Root pytest configuration.

- Points nbval at the repo's sanitizer wherever pytest runs from.
- Makes the notebooks' figures digest-only under nbval (see pytest_configure).
- Records wall times in ``_build/timings.json`` for the benchmarks page: the site
  build (written by tests/test_site.py) and the whole default test run (written here
  when pytest ran with no path arguments, i.e. the README's test command).
"""

import json
import os
import pathlib
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent
TIMINGS = ROOT / "_build" / "timings.json"


def record_timing(key, seconds):
    """Merge ``{key: seconds}`` into _build/timings.json (with the date of the run)."""
    TIMINGS.parent.mkdir(exist_ok=True)
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data[key] = round(float(seconds), 1)
    data[f"{key}_date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    TIMINGS.write_text(json.dumps(data, indent=2) + "\n")


@pytest.fixture(scope="session")
def timings():
    """The :func:`record_timing` function, for tests that measure a wall time."""
    return record_timing


def pytest_configure(config):
    # nbval compares each figure's text digest and never its image, so the kernels it
    # starts (they inherit this environment) make no PNG: F.book.show then only draws the
    # figure once for the digest (fcnn_lib.book.figures.FIGURES_ENV). The stored PNGs are
    # made by scripts/run_notebook.py, which does not set it.
    os.environ.setdefault("FCNN_BOOK_FIGURES", "digest")
    if getattr(config.option, "nbval_sanitize_with", "unset") is None:
        config.option.nbval_sanitize_with = str(ROOT / "tests" / "nbval_sanitize.cfg")
    config._fcnn_start = time.monotonic()


def pytest_collection_modifyitems(session, config, items):
    """The site tests first: with pytest-xdist (two processes, one file per process at a
    time) the longest chain (build both editions, then the browser test) starts at once
    on one process while the other runs nbval and the library tests."""
    items.sort(key=lambda item: 0 if item.nodeid.startswith("tests/test_site.py") else 1)


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller times the run
        return
    full_run = not config.option.file_or_dir and not config.option.keyword and not config.option.markexpr
    if full_run and exitstatus == 0 and session.testscollected:
        record_timing("test_run_s", time.monotonic() - config._fcnn_start)
