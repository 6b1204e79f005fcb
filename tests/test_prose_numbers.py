"""No number is typed into the prose: what a reader reads as a result is computed.

Every number in a chapter's or page's text must come from code, through a glue role
(``{glue:text}`key:.4f```), or sit in math (``$x_1$``, ``$\\tfrac12$``), inline code, or
another role (a ``{numref}`` chapter number, a citation). A quotation of what a source
prints, or of an input it gives, is marked with the ``{src}`...``` role. Anything else
fails here, naming the file, the notebook cell, the line and the literal.
"""

from __future__ import annotations

import pytest

from book_sources import Block, markdown_blocks, prose_numbers, toc_files


def _found(text):
    return [literal for _, literal, _ in prose_numbers(Block(toc_files()[0], None, text))]


@pytest.mark.parametrize("path", toc_files(), ids=lambda p: p.name)
def test_no_number_typed_into_prose(path):
    found = []
    for block in markdown_blocks(path):
        for line, literal, context in prose_numbers(block):
            found.append(f"{block.where} line {line}: {literal!r} in “…{context}…”")
    assert not found, (
        f"{len(found)} number(s) typed into the prose of {path.name}; glue them from the "
        "code ({glue:text}`key:.4f`), write them as math, or mark a source's own "
        "numbers with {src}`...`:\n" + "\n".join(found)
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The loss falls to 0.245 here.", ["0.245"]),
        ("after 40 epochs, 3×3 kernels", ["40", "3", "3"]),
        ("a step of −0.052895 and 1e-7", ["−0.052895", "1e-7"]),
        ("## Step 4\n", ["4"]),
        ("```{exercise} Take 5\n:label: ex-x-1\nUse 12 units.\n```\n", ["5", "12"]),
        ("::::{note}\nabout 4 times\n::::\n", ["4"]),
        ("| eta | 0.1 |", ["0.1"]),
    ],
)
def test_scanner_finds_typed_numbers(text, expected):
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The loss falls to {glue:text}`ch01-J:.4f`.",
        "between $0$ and $1$, with $x_1 = 0.5$ and $$J = 2$$ inline",
        "BP1, float64, im2col, x1, the 2D case",  # identifiers, not numbers
        "the source prints {src}`$y = 0.1775$ and 0.052895` here",
        "see {numref}`Chapter %s <ch-delta>` and {eq}`eq-bp1` {cite:p}`seed_001`",
        "`np.eye(10)[y]` in code",
        "```python\nx = 3\n```\n",
        "$$\nJ = 0.5\n$$ (eq-x)\n",
        "\\begin{align}\na &= 2\n\\end{align}\n",
        "(ch01-label)=\n# Title\n",
        "1. First item\n2. Second item\n",
        "```{exercise} Title\n:label: ex-ch01-2\n```\n",
        "[the notes](https://example.org/page-2.html)",
        "<!-- 42 -->",
    ],
)
def test_scanner_allows_glue_math_code_roles_and_quotes(text):
    assert _found(text) == []
