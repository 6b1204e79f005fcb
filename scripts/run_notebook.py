"""Execute notebooks top to bottom in a fresh kernel and store their outputs.

Usage: python scripts/run_notebook.py book/ch02_activations.ipynb [more.ipynb ...]

Runs each notebook with ``book/`` as the working directory (as the site build and
nbval do), without timing metadata, so the stored outputs are exactly what the code
produces today and nbval can compare against them. Fails on the first error.
Figures are stored as PNG images plus their digest (the variable FCNN_BOOK_FIGURES,
which the test suite sets to "digest", is removed for the kernel).
"""

import os
import pathlib
import sys

import nbformat
from nbclient import NotebookClient


def _coalesce_streams(outputs):
    """Join consecutive stdout (or stderr) outputs into one: how the kernel chunks a
    cell's printing varies from run to run, the text does not."""
    joined = []
    for out in outputs:
        if (out.output_type == "stream" and joined and joined[-1].output_type == "stream"
                and joined[-1].name == out.name):
            joined[-1].text += out.text
        else:
            joined.append(out)
    return joined


def run(path):
    os.environ.pop("FCNN_BOOK_FIGURES", None)  # store the images, not only the digests
    path = pathlib.Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            record_timing=False)
    client.execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = _coalesce_streams(cell.outputs)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    print(f"executed {path.name}: {sum(c.cell_type == 'code' for c in nb.cells)} code cells")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        run(p)
