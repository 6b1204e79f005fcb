"""The first cell of every notebook: on Google Colab only, install fcnn_lib.

Colab has numpy, matplotlib, sympy and IPython, but not the course's library. The
cell below installs it from the repository named in ``_config.yml``
(``repository: url`` and ``branch``: the one place the address is written) and does
nothing anywhere else: locally, on Binder, under nbval and in the site build. The site
does not show it (tag ``remove-cell``).

Usage:
    python scripts/colab_cell.py          # check every notebook's first cell
    python scripts/colab_cell.py --write  # insert or update it in every notebook

``tests/test_notebook_sources.py`` fails when a notebook's first cell differs from
:func:`colab_cell_source`.
"""

from __future__ import annotations

import json
import pathlib
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
TAG = "remove-cell"


def repository(config=REPO / "_config.yml"):
    """(url, branch) of the course repository, from ``_config.yml``."""
    repo = yaml.safe_load(pathlib.Path(config).read_text(encoding="utf-8"))["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def colab_cell_source(config=REPO / "_config.yml"):
    """The source of the Colab cell, with the repository address from ``_config.yml``."""
    url, branch = repository(config)
    return (
        "# On Google Colab only: install the course's library, fcnn_lib, from its repository.\n"
        "# Anywhere else (your computer, Binder, the book's tests) this cell does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "fcnn_lib @ git+{url}@{branch}"'
    )


def colab_cell():
    """The whole cell (nbformat 4 JSON), without outputs."""
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": "colab-install",
        "metadata": {"tags": [TAG]},
        "outputs": [],
        "source": colab_cell_source().splitlines(keepends=True),
    }


def is_colab_cell(cell):
    return cell.get("cell_type") == "code" and cell.get("id") == "colab-install"


def main(argv):
    write = "--write" in argv
    notebooks = sorted((REPO / "book").glob("ch*.ipynb"))
    wrong = []
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = nb["cells"][0] if nb["cells"] else {}
        if is_colab_cell(first) and "".join(first["source"]) == colab_cell_source() \
                and first["metadata"].get("tags") == [TAG]:
            continue
        wrong.append(path.name)
        if write:
            cell = colab_cell()
            if is_colab_cell(first):
                cell["execution_count"] = first.get("execution_count")
                nb["cells"][0] = cell
            else:
                nb["cells"].insert(0, cell)
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    verb = "updated" if write else "differ"
    print(f"{len(wrong)} of {len(notebooks)} notebooks {verb}: {', '.join(wrong) or 'none'}")
    return 0 if write or not wrong else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
