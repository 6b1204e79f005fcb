"""Root pytest configuration: point nbval at the repo's sanitizer wherever pytest runs."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parent


def pytest_configure(config):
    if getattr(config.option, "nbval_sanitize_with", "unset") is None:
        config.option.nbval_sanitize_with = str(ROOT / "tests" / "nbval_sanitize.cfg")
