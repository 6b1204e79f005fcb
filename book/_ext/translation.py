"""The Chinese edition: built from the same notebooks through Sphinx's gettext workflow.

What this extension does (each part is small and says why it exists):

1. **What is translated.** Prose, headings, captions, alt texts and admonitions are
   messages; code, cell outputs (printed text and tables that code made), math and the
   API page's docstrings are not: the outputs are the same bytes in both editions, and
   the docstrings are the library's, in English (the API page says so). A transform marks
   those nodes untranslatable before Sphinx extracts or replaces messages.

2. **Glue roles in translated notebook text** (MyST-NB #587). Sphinx parses each
   translated message again with the document's parser; for a notebook MyST-NB then
   parses it as Markdown (the "<translated>" check in ``myst_nb.sphinx_``) but the
   snippet's document lacks the notebook's element renderer, so every ``{glue}`` role in
   a translated paragraph fails with "No key ... found in glue data". The parser below
   keeps the renderer of the notebook being read and lends it to its translated
   snippets. ``tests/test_translation.py`` shows the failure without this fix, so the fix
   can go once upstream fixes it.

3. **Both editions from one build command.** When the English HTML build starts, a
   second Sphinx build of the same sources with ``language = zh_CN`` starts beside it
   (its own doctrees, output in ``<html>/zh_CN/``, the same -W/-n/--keep-going) and
   the English build waits for it at the end and fails if it failed. Notebooks are never
   executed (``execute_notebooks: off``): both editions show the stored outputs.

4. **A language switch** on every page, to the same page in the other edition.

5. **Search in Chinese.** Sphinx's Chinese search splits Chinese text into words with
   jieba (installed from requirements.txt; without it only Latin words are found), and
   keeps the Latin words it has seen in a list that grows with every paragraph and is
   searched for every word (18 s of a 60 s build here); the subclass below keeps them
   in a set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: The editions: Sphinx language code -> (directory under the HTML output, switch label,
#: HTML lang attribute). English is the source language, at the root.
EDITIONS = {"en": ("", "English", "en"), "zh_CN": ("zh_CN", "中文", "zh-CN")}
#: The switch's tooltip, in the language of the page it is on.
SWITCH_TOOLTIPS = {"en": "This page in Chinese (中文版)", "zh_CN": "本页的英文版（English）"}
#: Set to "0" to build only the English edition (e.g. while writing a chapter).
ENV_SWITCH = "FCNN_BOOK_ZH"
_DOCSTRING = ":docstring of "


# ------------------------------------------------------------ 1. what is translated
class KeepCodeOutputsAndDocstrings(SphinxTransform):
    """Decide what is a message, before Sphinx's Locale transform (priority 20) replaces
    messages; the gettext builder extracts from the same doctree.

    - Cell outputs and the API page's autodoc entries (docstrings, their field labels,
      attribute comments) are marked untranslatable: they stay as the code wrote them;
      a figure's caption and alt text (from the cell's metadata) are translated.
    - Text that an extension parsed without recording its file (table cells inside an
      admonition, the titles of sphinx-exercise's exercises) gets the file of the
      nearest element that has one: Sphinx skips text without a source file, so these
      would silently stay English in the translated edition.
    """

    default_priority = 10

    def apply(self, **kwargs):
        for node in self.document.findall(nodes.Element):
            if not isinstance(node, (nodes.TextElement, nodes.image)):
                continue
            if _is_figure_text(node):  # a figure's caption and alt text are prose
                if node.source is None and isinstance(node, nodes.TextElement):
                    node.source = _nearest_source(node)
            elif (_DOCSTRING in (node.source or "") or _inside(node, _is_cell_output)
                    or _inside(node, lambda n: isinstance(n, addnodes.desc))):
                node["translatable"] = False
            elif node.source is None and node.rawsource and isinstance(node, nodes.TextElement):
                node.source = _nearest_source(node)


def _is_figure_text(node):
    """A figure's caption (or legend) or an image's alt text, also when a cell output
    holds the figure (its words come from the cell's metadata, not from the code)."""
    if isinstance(node, nodes.image):
        return bool(node.get("alt"))
    return _inside(node, lambda n: isinstance(n, (nodes.caption, nodes.legend)))


def _is_cell_output(node):
    return isinstance(node, nodes.container) and "cell_output" in node.get("classes", [])


def _inside(node, predicate):
    parent = node
    while parent is not None:
        if predicate(parent):
            return True
        parent = parent.parent
    return False


def _nearest_source(node):
    parent = node.parent
    while parent is not None:
        if getattr(parent, "source", None):
            return parent.source
        parent = parent.parent
    return None


class TranslateTocCaptions(SphinxTransform):
    """The part captions of the table of contents ("Foundations", ...): sphinx-external-
    toc inserts the toctrees from _toc.yml at priority 100, after Sphinx's Locale
    transform (20), so their captions, which the gettext builder does extract (into
    the root page's catalog), would stay English. Translate them from that catalog."""

    default_priority = 101

    def apply(self, **kwargs):
        if self.config.language == "en":
            return
        from os import path

        from sphinx.locale import init as init_locale
        from sphinx.util.i18n import docname_to_domain

        textdomain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [path.join(self.env.srcdir, d) for d in self.config.locale_dirs]
        catalog, has_catalog = init_locale(dirs, self.config.language, textdomain)
        if not has_catalog:
            return
        for toctree in self.document.findall(addnodes.toctree):
            caption = toctree.get("caption")
            if caption and catalog.gettext(caption) != caption:
                toctree["rawcaption"] = caption
                toctree["caption"] = catalog.gettext(caption)


class ExtractMovedMessages(SphinxPostTransform):
    """gettext builder only: two kinds of text are moved into new nodes by post-transforms
    before Sphinx extracts messages from the resolved doctree, so their messages would
    vanish: an exercise's title (sphinx-exercise, priority 20) and the alt text of a
    figure in a cell output (MyST-NB picks one output of each mime bundle, priority 4). Copy each into
    a paragraph the extraction sees; the translated build replaces the text itself in the
    read phase, before those post-transforms."""

    default_priority = 3  # before MyST-NB's SelectMimeType (4), which for the gettext
    builders = ("gettext",)  # builder keeps a figure's text/plain and drops its image

    def run(self, **kwargs):
        for node in list(self.document.findall(nodes.Element)):
            if type(node).__name__ == "exercise_subtitle" and node.rawsource:
                text = node.rawsource
            elif isinstance(node, nodes.image) and node.get("alt") and _inside(node, _is_cell_output):
                text = node["alt"]
            else:
                continue
            copy = nodes.paragraph(text, text)
            copy.source, copy.line = node.source or _nearest_source(node), node.line
            copy.uid = getattr(node, "uid", "moved")  # gettext skips nodes without one
            self.document += copy


# ------------------------------------------------------- 2. glue in translated text
def _notebook_parser():
    from myst_nb.sphinx_ import Parser

    class TranslatableNotebookParser(Parser):
        """MyST-NB's notebook parser, lending a notebook's element renderer to the
        translated messages of that notebook (MyST-NB #587; see the module docstring)."""

        def parse(self, inputstring, document):
            env = document.settings.env
            if document.current_source.endswith("<translated>"):
                renderer = env.temp_data.get("fcnn_nb_renderer")
                if renderer is not None:
                    document.attributes["nb_renderer"] = renderer
                try:
                    return super().parse(inputstring, document)
                finally:
                    document.attributes.pop("nb_renderer", None)
            # MyST-NB removes the renderer from the document at the end of parse();
            # keep it for this document's Locale transform (temp_data is per document)
            document.attributes = _Keeper(document.attributes, env.temp_data)
            try:
                return super().parse(inputstring, document)
            finally:
                document.attributes = dict(document.attributes)

    return TranslatableNotebookParser


class _Keeper(dict):
    def __init__(self, attributes, temp_data):
        super().__init__(attributes)
        self._temp_data = temp_data

    def pop(self, key, *default):
        value = super().pop(key, *default)
        if key == "nb_renderer":
            self._temp_data["fcnn_nb_renderer"] = value
        return value


def _forget_message_documents(app, doctree):
    """Nodes parsed from a translated message keep a reference to the small document
    they were parsed in, and through its settings to the whole build environment, which
    was then pickled into every translated doctree (4 MB for the 38 kB intro page, and
    a second per reference to unpickle). Point them back at the page's document."""
    for node in doctree.findall(nodes.Node):
        if getattr(node, "_document", None) not in (None, doctree):
            node._document = None


# ------------------------------------------------------------- 3. both editions
def edition_command(srcdir: Path, outdir: Path, doctreedir: Path, language: str,
                    warningiserror: bool, nitpicky: bool, keep_going: bool) -> list[str]:
    """The command that builds one more edition of the book (see :func:`build_edition`)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--src", str(srcdir), "--out", str(outdir),
           "--doctrees", str(doctreedir), "--language", language]
    cmd += ["-W"] * warningiserror + ["-n"] * nitpicky + ["--keep-going"] * keep_going
    return cmd


def build_edition(srcdir: Path, outdir: Path, doctreedir: Path, language: str,
                  warningiserror: bool, nitpicky: bool, keep_going: bool) -> int:
    """Build the book in ``language`` into ``outdir`` with Jupyter Book's own Sphinx
    configuration (read from ``_config.yml`` and ``_toc.yml``)."""
    from jupyter_book.sphinx import build_sphinx

    overrides = {"language": language, "external_toc_path": str(srcdir / "_toc.yml"),
                 "latex_individualpages": False}
    if nitpicky:
        overrides["nitpicky"] = True
    result = build_sphinx(
        str(srcdir), str(outdir), noconfig=True, path_config=str(srcdir / "_config.yml"),
        confoverrides=overrides, doctreedir=str(doctreedir), builder="html",
        warningiserror=warningiserror, keep_going=keep_going, freshenv=True, force_all=True,
    )
    if isinstance(result, Exception):
        print(f"ERROR: {result!r}")
        return 1
    return result


def _start_other_edition(app):
    if (app.builder.name != "html" or app.config.language != "en"
            or os.environ.get(ENV_SWITCH, "1") == "0"):
        return
    outdir = Path(app.outdir)
    cmd = edition_command(Path(app.srcdir), outdir / EDITIONS["zh_CN"][0],
                          Path(app.doctreedir).with_name(".doctrees-zh_CN"), "zh_CN",
                          app.warningiserror, app.config.nitpicky, app.keep_going)
    log = outdir.parent / "zh_CN-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = open(log, "w", encoding="utf-8")
    app._fcnn_edition = (subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT,
                                          cwd=app.srcdir), handle, log, time.monotonic())


def _finish_other_edition(app, exception):
    job = getattr(app, "_fcnn_edition", None)
    if job is None:
        return
    proc, handle, log, start = job
    code = proc.wait()
    handle.close()
    text = log.read_text(encoding="utf-8", errors="replace")
    problems = [line for line in text.splitlines() if "WARNING" in line or "ERROR" in line]
    for line in problems:
        logger.warning("[zh_CN edition] %s", line, type="fcnn", subtype="edition")
    if code != 0 and not problems:
        logger.warning("[zh_CN edition] the build failed (exit code %s); log: %s\n%s",
                       code, log, text[-3000:], type="fcnn", subtype="edition")
    logger.info(f"zh_CN edition built in {time.monotonic() - start:.1f} s (log: {log})")


# ------------------------------------------------------------ 5. Chinese search
def _chinese_search():
    from sphinx.search import zh

    class SearchChinese(zh.SearchChinese):
        """Sphinx's Chinese search with its seen Latin words in a set (see 5. above)."""

        def init(self, options):
            super().init(options)
            self.latin_terms = set()

        def split(self, input):  # noqa: A002 - Sphinx's signature
            chinese = list(zh.jieba.cut_for_search(input)) if zh.JIEBA else []
            latin = [term.strip() for term in self.latin1_letters.findall(input)]
            self.latin_terms.update(latin)
            return chinese + latin

    return SearchChinese


def _translate_site_title(app):
    """The site's title (``title`` in _config.yml, shown in the sidebar and the browser
    tab) in the edition's language: the root page's catalog translates it (the root
    page's heading is the same words)."""
    if app.config.language == "en" or not app.config.html_title:
        return
    from os import path

    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain

    root = app.config.root_doc
    dirs = [path.join(app.srcdir, d) for d in app.config.locale_dirs]
    catalog, has_catalog = init_locale(dirs, app.config.language,
                                       docname_to_domain(root, app.config.gettext_compact))
    if has_catalog:
        app.config.html_title = catalog.gettext(app.config.html_title)
        app.config.project = catalog.gettext(app.config.project)


# ----------------------------------------------------------- 4. language switch
def _language_switch(app, pagename, templatename, context, doctree):
    depth = pagename.count("/")
    here = app.config.language
    other = "zh_CN" if here == "en" else "en"
    up = "../" * depth
    if here == "en":
        href = f"{up}{EDITIONS[other][0]}/{pagename}.html"
    else:
        href = f"{up}../{pagename}.html"
    context["edition_switch"] = {"href": href, "label": EDITIONS[other][1],
                                 "lang": EDITIONS[other][2], "here": EDITIONS[here][2],
                                 "tooltip": SWITCH_TOOLTIPS[here]}


def setup(app):
    from sphinx.search import languages

    languages["zh"] = _chinese_search()
    app.add_transform(KeepCodeOutputsAndDocstrings)
    app.add_transform(TranslateTocCaptions)
    app.add_post_transform(ExtractMovedMessages)
    app.add_source_parser(_notebook_parser(), override=True)
    app.connect("doctree-read", _forget_message_documents)
    app.connect("builder-inited", _start_other_edition)
    app.connect("builder-inited", _translate_site_title)
    app.connect("build-finished", _finish_other_edition)
    app.connect("html-page-context", _language_switch, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Build one more edition of the book.")
    parser.add_argument("--src", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--doctrees", type=Path, required=True)
    parser.add_argument("--language", required=True)
    parser.add_argument("-W", dest="warningiserror", action="store_true")
    parser.add_argument("-n", dest="nitpicky", action="store_true")
    parser.add_argument("--keep-going", action="store_true")
    a = parser.parse_args()
    sys.exit(build_edition(a.src, a.out, a.doctrees, a.language, a.warningiserror, a.nitpicky, a.keep_going))
