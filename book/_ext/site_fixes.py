"""Small local Sphinx fixes for the course site (loaded via `_config.yml`).

1. De-duplicate the page's script list. Upstream bug sphinx-doc/sphinx#13402 (fixed in
   Sphinx 8.2; this project pins Sphinx 7.4, which Jupyter Book 1 requires):
   ``Sphinx.add_js_file(None, body=...)`` called after the builder is initialised (as
   sphinx-thebe and sphinx-togglebutton do) registers the inline script twice, once
   with filename None and once with "", and the browser then raises
   "Identifier 'THEBE_JS_URL' has already been declared". We keep the first
   occurrence of every script (same filename/body and attributes, any priority).
   tests/test_site.py::test_upstream_still_duplicates_inline_scripts fails once the
   installed Sphinx no longer has the bug; then remove ``_dedupe``.

2. The role ``{src}`...``` marks a quotation of a source's printed numbers or given
   inputs, e.g. ``{src}`$y = 0.1775$``` (its content is parsed as ordinary inline
   Markdown, math included). It renders as a span of class ``source-quote``; the prose
   test (tests/test_prose_numbers.py) allows numbers only inside it, math, code and
   roles such as glue, so a number typed into the prose by mistake fails the tests.

3. "Book equation ``eq-...``" in fcnn_lib's docstrings becomes a link to the numbered
   equation: every inline literal ``eq-label`` in a docstring is turned into the
   reference :eq:`eq-label` (rendered "(5.3)"); a label that does not exist fails the
   -n build like any broken reference.

4. Page weight and the whole-book PDF (with book/_templates/layout.html and
   course-pdf.html): pydata-sphinx-theme's 1.5 MB Font Awesome script, which only
   re-draws the icons that its CSS web fonts already draw, is dropped from every page;
   the header's download menu and the sidebar link the whole-course PDF
   (``course_pdf``, written by scripts/book_pdf.py).

5. The role ``{chapter}`Chapter %s <ch05>``` links to the chapter whose first heading
   carries the label ``ch05`` and writes its number in place of ``%s`` ("Chapter 5").
   It does what ``{numref}`` does for a chapter, without its cost: Sphinx's numref
   unpickles the target document's whole doctree for every reference (about 0.1 s
   each for a notebook chapter, 9 s per build for the book's cross-references), while
   the chapter number is already in the table of contents' numbering.

6. A pybtex style "authoryear": pybtex's "plain" formatting with labels such as
   [Nielsen 2015], [Glorot & Bengio 2010], [He et al. 2015], so that the reference
   list matches the author-year citations in the text (bibtex_reference_style).
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.errors import NoUri
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _script_key(script):
    """Identity of a Sphinx ``_JavaScript``/``_CascadingStyleSheet`` entry (or a plain
    string). The duplicates differ only in priority and in a filename of None versus
    "" (both mean an inline script), so neither is part of the identity."""
    filename = str(getattr(script, "filename", script) or "")
    attributes = getattr(script, "attributes", {}) or {}
    body = attributes.get("body", "")
    others = tuple(sorted((k, str(v)) for k, v in attributes.items() if k != "body"))
    return filename, body, others


def _dedupe(app, pagename, templatename, context, doctree):
    for key in ("script_files", "css_files"):
        files = context.get(key)
        if not files:
            continue
        seen = set()
        unique = []
        for entry in files:
            ident = _script_key(entry)
            if ident in seen:
                continue
            seen.add(ident)
            unique.append(entry)
        if len(unique) != len(files):
            # keep the same list object type the templates expect
            files[:] = unique


def source_quote_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{src}`text``` : a quotation of a source, rendered as inline Markdown."""
    from docutils import nodes

    node = nodes.inline(rawtext, "", classes=["source-quote"])
    children, messages = inliner.parse(text, lineno, inliner, node)
    node += children
    return [node], messages


class chapter_reference(nodes.Inline, nodes.Element):
    """A ``{chapter}`` reference, resolved by :class:`ResolveChapterReferences`."""


_CHAPTER_ROLE = re.compile(r"^(?P<title>.*?)\s*<(?P<label>[^<>]+)>$", re.S)


def chapter_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{chapter}`Chapter %s <label>``` (or just ``{chapter}`label``` for "Chapter N")."""
    m = _CHAPTER_ROLE.match(text.strip())
    title, label = (m.group("title"), m.group("label")) if m else ("Chapter %s", text.strip())
    if "%s" not in title:
        msg = inliner.reporter.error(
            f"{{chapter}} title {title!r} has no %s for the chapter number", line=lineno
        )
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    node = chapter_reference(rawtext, label=label.strip(), title=title)
    return [node], []


class ResolveChapterReferences(SphinxPostTransform):
    """Turn each :class:`chapter_reference` into a link reading "Chapter N"."""

    default_priority = 5

    def run(self, **kwargs):
        labels = self.env.domaindata["std"]["labels"]
        for node in list(self.document.findall(chapter_reference)):
            label = node["label"]
            if label not in labels:
                logger.warning(f"{{chapter}}: undefined label {label!r}", location=node)
                node.replace_self(nodes.Text(node["title"].replace("%s", "?")))
                continue
            docname, labelid, _ = labels[label]
            number = self.env.toc_secnumbers.get(docname, {}).get("")
            if not number:
                logger.warning(
                    f"{{chapter}}: {label!r} is not a numbered chapter ({docname})", location=node
                )
                node.replace_self(nodes.Text(node["title"].replace("%s", "?")))
                continue
            text = node["title"].replace("%s", ".".join(map(str, number)))
            ref = nodes.reference("", "", internal=True, classes=["chapter-reference"])
            try:
                ref["refuri"] = self.app.builder.get_relative_uri(self.env.docname, docname)
                if labelid and docname != self.env.docname:
                    ref["refuri"] += "#" + labelid
            except NoUri:
                ref = nodes.inline("", "")
            ref += nodes.inline(text, text)
            node.replace_self(ref)


def _author_year_label(entry):
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [
        " ".join(person.prelast_names + person.last_names).replace("{", "").replace("}", "")
        for person in persons
    ]
    if not names:
        who = entry.key
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} & {names[1]}"
    else:
        who = f"{names[0]} et al."
    year = entry.fields.get("year", "n.d.")
    return f"{who} {year}"


#: The whole-course PDF, relative to the site root (written by scripts/book_pdf.py).
COURSE_PDF = "backprop-course.pdf"

_EQ_LITERAL = re.compile(r"``(eq-[A-Za-z0-9][\w-]*)``")
_ICON_SCRIPT = re.compile(r"\s*<script[^>]*\b_static/scripts/fontawesome\.js[^>]*>\s*</script>")


def link_equation_labels(app, what, name, obj, options, lines):
    """autodoc-process-docstring: ``eq-label`` -> :eq:`eq-label` (a numbered link)."""
    for i, line in enumerate(lines):
        if "``eq-" in line:
            lines[i] = _EQ_LITERAL.sub(r":eq:`\1`", line)


def without_icon_script(html):
    """The theme's <head> assets without the Font Awesome script (see layout.html)."""
    from markupsafe import Markup

    return Markup(_ICON_SCRIPT.sub("", str(html)))


def _template_helpers(app, pagename, templatename, context, doctree):
    context["without_icon_script"] = without_icon_script
    context["course_pdf"] = COURSE_PDF


def _pdf_download_button(app, pagename, templatename, context, doctree):
    pathto = context.get("pathto")
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons" and pathto is not None:
            group["buttons"].append(
                {
                    "type": "link",
                    "url": pathto(COURSE_PDF, 1),
                    "text": "whole course (.pdf)",
                    "tooltip": "Download the whole course as one PDF",
                    "icon": "fas fa-book",
                    "label": "download-course-pdf-button",
                }
            )


def _singlehtml_handlers(app):
    """The single-page build (scripts/book_pdf.py prints it as the whole-course PDF)
    renders nodes the same way as the HTML build: Sphinx looks up node handlers by
    builder name first and by format ("html") only when no extension registered any
    for "singlehtml"; some do, which hides myst-nb's HTML-only handlers (e.g. for
    hidden code cells) from the single-page build."""
    handlers = app.registry.translation_handlers
    if app.builder.name == "singlehtml" and "singlehtml" in handlers:
        for node, visitors in handlers.get("html", {}).items():
            handlers["singlehtml"].setdefault(node, visitors)


def _register_bibliography_style():
    from collections import Counter

    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.plain import Style as PlainStyle
    from pybtex.style.labels import BaseLabelStyle

    class AuthorYearLabelStyle(BaseLabelStyle):
        def format_labels(self, sorted_entries):
            labels = [_author_year_label(entry) for entry in sorted_entries]
            total = Counter(labels)
            seen = Counter()
            for label in labels:
                if total[label] > 1:  # same authors, same year: 2010a, 2010b
                    seen[label] += 1
                    label = label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
                yield label

    class AuthorYearStyle(PlainStyle):
        default_label_style = AuthorYearLabelStyle

    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle, force=True)


def setup(app):
    _register_bibliography_style()
    app.add_role("src", source_quote_role)
    app.add_node(chapter_reference)
    app.add_role("chapter", chapter_role)
    app.add_post_transform(ResolveChapterReferences)
    app.connect("builder-inited", _singlehtml_handlers)
    app.connect("autodoc-process-docstring", link_equation_labels)
    # before the themes render their sidebar templates (priority 500) ...
    app.connect("html-page-context", _template_helpers, priority=100)
    # ... and after sphinx-book-theme has built its header buttons (priority 501)
    app.connect("html-page-context", _pdf_download_button, priority=800)
    # run late, after the theme and extensions have added their files
    app.connect("html-page-context", _dedupe, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
