"""The package as pip installs it from the repository (e.g. the Colab install cell).

A subpackage missing from pyproject.toml's list is left out of the wheel, and
``import fcnn_lib`` then fails everywhere but in the editable install the tests use.
"""

import pathlib
import tomllib

import fcnn_lib as F

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "fcnn_lib").rglob("__init__.py")}
    assert listed == on_disk
    data = config["tool"]["setuptools"]["package-data"]["fcnn_lib"]
    assert all(list((ROOT / "fcnn_lib").glob(pattern)) for pattern in data)


def test_version_agrees():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["version"] == F.__version__
