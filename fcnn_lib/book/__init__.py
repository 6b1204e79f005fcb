"""Book support: what the chapters need to *show* the library's results.

Nothing in the library proper imports this package. It holds the helpers that the
notebooks share for presenting numbers and figures, so that no chapter carries its
own copy:

- :func:`~fcnn_lib.book.numbers.glue` hands a computed value to the prose (myst-nb glue), rounded by
  :func:`~fcnn_lib.book.numbers.stable` so that last-bit differences between machines never change the text;
  :func:`~fcnn_lib.book.numbers.at_most` states a round-off-sized error as a power of ten.
- :func:`~fcnn_lib.book.figures.show` displays a matplotlib figure as a sharp (2×) PNG together with a
  text digest of everything it plots, which nbval compares; :func:`~fcnn_lib.book.figures.use_style` sets the
  one plot style of the book.
- :func:`~fcnn_lib.book.running_example.running_example` returns the small network that runs through the course.
- ``one_blas_thread()`` (from ``fcnn_lib.book.experiments``) runs a block, or a whole
  page, with NumPy's OpenBLAS on one thread: far less CPU time on the book's small products.

Notebooks reach all of it as ``F.book.<name>`` after ``import fcnn_lib as F``.
"""

from .figures import figure_digest, show, use_style
from .numbers import at_most, glue, stable
from .running_example import running_example
from . import experiments  # chapter 8: seeds × folds trained together, mean ± sd tables
from .experiments import one_blas_thread

__all__ = ["at_most", "figure_digest", "glue", "one_blas_thread", "running_example", "show", "stable",
           "use_style"]
