"""Reading the book's sources for the static checks: pages, cells and prose.

The book is the notebooks and Markdown pages listed in ``_toc.yml``. These helpers
list them, yield their Markdown (notebook markdown cells, or a page's text) and strip
everything that is not running prose, so that tests can look at what a reader reads
as text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOC = REPO / "_toc.yml"

#: Directives whose body is not prose (code, math, generated content).
NON_PROSE_DIRECTIVES = {
    "code-cell", "code-block", "code", "sourcecode", "math", "eval-rst", "raw",
    "automodule", "autoclass", "autofunction", "automethod", "autodata",
    "bibliography", "toctree", "tableofcontents", "mermaid", "literalinclude",
    "include", "glue:math",
}


def toc_files(toc_path: Path = TOC) -> list[Path]:
    """The source file of every document in the table of contents, in order (read
    with sphinx_external_toc, the parser Jupyter Book itself uses)."""
    from sphinx_external_toc.parsing import FileItem, parse_toc_yaml

    site_map = parse_toc_yaml(toc_path)
    names: list[str] = []

    def walk(docname):
        if docname in names:
            return
        names.append(docname)
        for subtree in site_map[docname].subtrees:
            for item in subtree.items:
                if isinstance(item, FileItem):
                    walk(str(item))

    walk(site_map.root.docname)
    paths = []
    for name in names:
        for suffix in (".ipynb", ".md"):
            candidate = REPO / f"{name}{suffix}"
            if candidate.exists():
                paths.append(candidate)
                break
        else:
            raise FileNotFoundError(f"_toc.yml lists {name!r}, but neither .ipynb nor .md exists")
    return paths


def notebooks() -> list[Path]:
    """The notebooks of the book, in table-of-contents order."""
    return [p for p in toc_files() if p.suffix == ".ipynb"]


@dataclass
class Block:
    """A piece of Markdown: its file, notebook cell index (None for a page) and text."""

    path: Path
    cell: int | None
    text: str

    @property
    def where(self) -> str:
        rel = self.path.relative_to(REPO)
        return f"{rel} cell {self.cell}" if self.cell is not None else str(rel)


def markdown_blocks(path: Path):
    """Yield the Markdown of a page (one block) or of each markdown cell of a notebook."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "markdown":
                yield Block(path, i, "".join(cell["source"]))
    else:
        text = path.read_text(encoding="utf-8")
        if text.startswith("---\n"):  # front matter
            end = text.find("\n---", 4)
            text = "\n" * text[: end + 4].count("\n") + text[end + 4:]
        yield Block(path, None, text)


_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,}|~{3,})\s*(?:\{(?P<name>[^}]*)\})?\s*(?P<arg>.*)$")
_OPTION = re.compile(r"^\s*:[\w-]+:")
_LABEL = re.compile(r"^\s*\([\w:.-]+\)=\s*$")
_ENV = re.compile(r"^\s*\\begin\{(\w+\*?)\}")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of the prose lines: fenced code, display math, directive
    options and targets removed; a prose directive's title and body kept."""
    out: list[tuple[int, str]] = []
    stack: list[tuple[str, bool]] = []  # (fence, is_prose)
    in_math = False
    env = None
    for n, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if in_math:
            if "$$" in s:
                in_math = False
            continue
        if env:
            if re.search(rf"\\end\{{{re.escape(env)}\}}", s):
                env = None
            continue
        if stack:
            fence, prose = stack[-1]
            if s.startswith(fence[0] * 3) and s.strip(fence[0]) == "" and len(s) >= len(fence):
                stack.pop()
                continue
            if not prose:
                continue
        m = _FENCE.match(s)
        if m:
            name = (m.group("name") or "").strip()
            is_directive = m.group("name") is not None
            prose = is_directive and name.split()[0] not in NON_PROSE_DIRECTIVES if name else False
            if stack and not stack[-1][1]:
                prose = False
            stack.append((m.group("fence"), prose))
            if prose and m.group("arg"):
                out.append((n, m.group("arg")))
            continue
        if stack and _OPTION.match(line):
            continue
        if _LABEL.match(line):
            continue
        if s.startswith("$$"):
            rest = s[2:]
            if "$$" not in rest:
                in_math = True
            continue
        em = _ENV.match(s)
        if em:
            if not re.search(rf"\\end\{{{re.escape(em.group(1))}\}}", s):
                env = em.group(1)
            continue
        out.append((n, line))
    return out


_ROLE = re.compile(r"\{[\w:.+-]+\}(`+)(?:(?!\1).)*?\1")
_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_MATH = re.compile(r"\$\$.+?\$\$|(?<!\\)\$(?:\\\$|[^$])+?\$")


def scrub(line: str) -> str:
    """A prose line with roles, inline code, inline math, link targets, URLs, HTML
    comments and tags and list markers replaced by placeholders."""
    line = re.sub(r"<!--.*?-->", " ", line)
    line = _ROLE.sub(" ‹role› ", line)
    line = _CODE.sub(" ‹code› ", line)
    line = _MATH.sub(" ‹math› ", line)
    line = re.sub(r"\]\([^)]*\)", "]", line)  # [text](target)
    line = re.sub(r"<[^>\s]+://[^>]*>|https?://\S+", " ‹url› ", line)
    line = re.sub(r"</?[a-zA-Z][^>]*>", " ", line)  # inline HTML tags
    line = re.sub(r"^\s*(\d+)[.)]\s", " ", line)  # ordered-list marker
    line = re.sub(r"\[\^[\w-]+\]", " ", line)  # footnote reference
    return line


#: A number typed as digits: not part of an identifier such as BP1, float64 or x1.
NUMBER = re.compile(r"(?<![\w.])[−+-]?\d+(?:[.,]\d+)*(?:[eE][−+-]?\d+)?(?![\w])")


def prose_numbers(block: Block):
    """Yield (line number, literal, context) for every number typed into the prose."""
    for n, line in prose_lines(block.text):
        clean = scrub(line)
        for m in NUMBER.finditer(clean):
            context = clean[max(0, m.start() - 40): m.end() + 30].strip()
            yield n, m.group(0), re.sub(r"\s+", " ", context)
