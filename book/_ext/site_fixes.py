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
   (``course_pdf_href``; the PDF is written by scripts/book_pdf.py).

5. The role ``{chapter}`Chapter %s <ch05>``` links to the chapter whose first heading
   carries the label ``ch05`` and writes its number in place of ``%s`` ("Chapter 5").
   It does what ``{numref}`` does for a chapter, without its cost: Sphinx's numref
   unpickles the target document's whole doctree for every reference (about 0.1 s
   each for a notebook chapter, 9 s per build for the book's cross-references), while
   the chapter number is already in the table of contents' numbering.

7. KaTeX (sphinxcontrib-katex 0.9.11, math rendered when the pages are written):
   - a formula KaTeX cannot typeset fails the build: the extension turns a TeX error
     into a red ``katex-error`` span (its default; when prerendering it ignores
     ``katex_options``, sphinxcontrib-katex #145), and every such span becomes a build
     warning, which -W turns into an error;
   - its Node.js server is started reliably: the extension connects as soon as the
     server's socket file exists, which on a busy machine can be before the server
     listens (ConnectionRefusedError; seen here under load), so the connection is
     retried for up to the extension's own startup timeout;
   - the server is stopped when the build ends (the extension leaves that to an atexit
     handler; a server that outlives the build keeps the build's output pipe open, and
     a caller reading that pipe, the PDF script or the tests, would wait for ever).

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


#: The PDF link's words in each edition (the PDF itself is the English course).
PDF_LABELS = {
    "en": ("The whole course as one PDF", "whole course (.pdf)", "Download the whole course as one PDF"),
    "zh_CN": ("整本课程的 PDF（英文版）", "整本课程（英文 PDF）", "下载整本课程的 PDF（英文版）"),
}


def _course_pdf_href(app, context):
    """The PDF lies at the root of the English site; the Chinese edition is one
    directory further down (translation.py builds it into <html>/zh_CN)."""
    href = context["pathto"](COURSE_PDF, 1)
    return href if app.config.language == "en" else "../" + href


def _template_helpers(app, pagename, templatename, context, doctree):
    context["without_icon_script"] = without_icon_script
    context["course_pdf_href"] = _course_pdf_href(app, context)
    context["course_pdf_label"] = PDF_LABELS.get(app.config.language, PDF_LABELS["en"])[0]


def _header_buttons(app, pagename, templatename, context, doctree):
    """The whole-course PDF in the header's download menu, and the language switch
    (translation.py's ``edition_switch``) as a header button, visible on a phone too."""
    if context.get("pathto") is None:
        return
    _, text, tooltip = PDF_LABELS.get(app.config.language, PDF_LABELS["en"])
    groups = context.get("header_buttons", [])
    for group in groups:
        if group.get("label") == "download-buttons":
            group["buttons"].append(
                {
                    "type": "link",
                    "url": _course_pdf_href(app, context),
                    "text": text,
                    "tooltip": tooltip,
                    "icon": "fas fa-book",
                    "label": "download-course-pdf-button",
                }
            )
    switch = context.get("edition_switch")
    if switch:
        groups.insert(0, {
            "type": "link",
            "url": switch["href"],
            "text": switch["label"],
            "tooltip": switch["tooltip"],
            "icon": "fas fa-language",
            "label": "edition-switch-button",
        })


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


_KATEX_ERROR = re.compile(r'<span class="katex-error" title="([^"]*)"[^>]*>(.*?)</span>', re.S)


def _katex_errors(app, pagename, templatename, context, doctree):
    """Report every formula KaTeX could not typeset (see 7. above)."""
    for title, tex in _KATEX_ERROR.findall(context.get("body", "")):
        logger.warning(f"KaTeX cannot typeset {tex[:80]!r}: {title[:200]}", location=pagename,
                       type="fcnn", subtype="katex")


def _start_katex_server(app):
    """Start the KaTeX server, retrying a refused connection (see 7. above)."""
    if not getattr(app.config, "katex_prerender", False) or app.builder.format != "html":
        return
    import socket
    import time

    from sphinxcontrib import katex

    class ReliableKaTeXServer(katex.KaTeXServer):
        @classmethod
        def start_server_process(cls, rundir, timeout):
            socket_path = rundir / "katex.sock"
            process = katex.Popen(cls.build_command(socket=socket_path), stdin=katex.PIPE,
                                  stdout=katex.PIPE, cwd=rundir)
            deadline = time.monotonic() + timeout
            while True:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.connect(str(socket_path))
                    return process, sock
                except (FileNotFoundError, ConnectionRefusedError):
                    sock.close()
                    if time.monotonic() > deadline or process.poll() is not None:
                        process.kill()
                        raise cls.timeout_error(timeout) from None
                    time.sleep(0.01)

    if katex.KaTeXServer.katex_server is None:
        katex.KaTeXServer.katex_server = ReliableKaTeXServer.start()


def _stop_katex_server(app, exception):
    """Stop the build's KaTeX server (see 7. above)."""
    try:
        from sphinxcontrib.katex import KaTeXServer
    except ImportError:
        return
    import atexit

    server, KaTeXServer.katex_server = KaTeXServer.katex_server, None
    if server is not None:
        atexit.unregister(KaTeXServer.terminate)  # it would clean up a second time
        server.terminate()


def setup(app):
    _register_bibliography_style()
    app.connect("html-page-context", _katex_errors)
    app.connect("builder-inited", _start_katex_server, priority=900)  # after the extension's own
    app.connect("build-finished", _stop_katex_server)
    app.add_role("src", source_quote_role)
    app.add_node(chapter_reference)
    app.add_role("chapter", chapter_role)
    app.add_post_transform(ResolveChapterReferences)
    app.connect("autodoc-process-docstring", link_equation_labels)
    # before the themes render their sidebar templates (priority 500) ...
    app.connect("html-page-context", _template_helpers, priority=100)
    # ... and after sphinx-book-theme has built its header buttons (priority 501)
    app.connect("html-page-context", _header_buttons, priority=800)
    # run late, after the theme and extensions have added their files
    app.connect("html-page-context", _dedupe, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
