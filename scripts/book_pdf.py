"""The whole course as one PDF, printed by Chromium page by page from the built site.

Every page of the table of contents (the intro, the chapters, the reference pages) is
printed with the site's print CSS (``book/_static/custom.css``: solutions of the
exercises shown, every equation in full, navigation hidden), in light mode, and the
pages are merged in the order of ``_toc.yml`` (pypdf). Links stay links: a reference
within a page jumps within the PDF as on the site; a reference to another page ("Chapter
5", an equation of another chapter) jumps to that place in the PDF too. Chromium writes a
PDF destination only for a target that a link *in the same printed page* points to, so
before printing, every id of the page gets a prefix naming its page plus an invisible
link, and links to other pages are written as ``https://pdf.invalid/<page>--<id>``; after
merging, those links become jumps to the merged destinations.

The test command prints the PDF from the pages its browser test has already loaded
(tests/test_site.py: ``print_page`` then ``merge``), so no page is laid out twice. By hand,
after a build:

    .venv/bin/python scripts/book_pdf.py            # -> _build/html/backprop-course.pdf
    .venv/bin/python scripts/book_pdf.py --path-output /tmp/build-x   # a build made with --path-output
    .venv/bin/python scripts/book_pdf.py --edition zh_CN   # the Chinese edition (fonts-noto-cjk)

It needs Debian's Chromium (``apt-get install -y chromium``) and the ``playwright``
package (never ``playwright install``). Every page of the website links the PDF (the
download menu and the sidebar).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from site_helpers import CHROMIUM, CHROMIUM_ARGS, PAGE_PROBE_JS, serve, toc_documents  # noqa: E402

sys.path.insert(0, str(REPO / "book" / "_ext"))
from site_fixes import COURSE_PDF  # noqa: E402

#: Footer of every printed page: the page's title and its page number within it (the
#: parts are printed one by one, so Chromium's totalPages would count one part only).
FOOTER = (
    '<div style="font-size:8px;width:100%;padding:0 12mm;color:#555;display:flex;'
    'justify-content:space-between;font-family:sans-serif">'
    '<span class="title"></span><span class="pageNumber"></span></div>'
)
PDF_OPTIONS = dict(
    format="A4",
    print_background=True,
    margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
    display_header_footer=True,
    header_template="<span></span>",
    footer_template=FOOTER,
    scale=0.8,  # about 10 pt body text
    # no tagged PDF (and so no bookmark outline, which Chromium derives from the tags):
    # it makes the file 2.5 times larger
    tagged=False,
)
#: Scheme of the links between pages until the merge turns them into jumps.
CROSS = "https://pdf.invalid/"

# Run in the page before printing: ids get the page's prefix, local links follow, links
# to other pages of the PDF become CROSS links, other site links (index, search, the
# PDF itself) lose their target, and every id gets an invisible link so that Chromium
# writes its destination.
PREPARE_JS = r"""
([doc, docs, cross, root]) => {
  const prefix = d => d.replace(/[^A-Za-z0-9_-]/g, '_') + '--';
  const here = prefix(doc);
  document.documentElement.dataset.theme = 'light';
  document.documentElement.dataset.mode = 'light';
  const article = document.querySelector('article.bd-article') || document.body;
  for (const el of document.querySelectorAll('[id]')) el.id = here + el.id;
  const top = document.createElement('span');
  top.id = here + 'top';
  article.prepend(top);
  for (const a of document.querySelectorAll('a[href]')) {
    const url = new URL(a.getAttribute('href'), location.href);
    if (url.origin !== location.origin) continue;
    let path = decodeURIComponent(url.pathname).replace(/^\//, '').replace(/\.html$/, '');
    if (root && path.startsWith(root)) path = path.slice(root.length);
    const id = url.hash ? decodeURIComponent(url.hash.slice(1)) : 'top';
    if (path === doc) a.setAttribute('href', '#' + here + id);
    else if (docs.includes(path)) a.setAttribute('href', cross + prefix(path) + id);
    else a.removeAttribute('href');
  }
  const keep = document.createElement('div');
  for (const el of document.querySelectorAll('[id]')) {
    const a = document.createElement('a');
    a.href = '#' + el.id;
    a.style.fontSize = '0';
    keep.appendChild(a);
  }
  article.appendChild(keep);
}
"""


async def print_page(page, doc: str, out: Path, root: str = "") -> None:
    """Print the loaded page of document ``doc`` (e.g. "book/ch05_delta_recursion") to
    ``out``, ready for :func:`merge`; ``root`` is the edition's directory under the site
    root ("" for English, "zh_CN/"). The page is changed (ids, links, light mode):
    print it last."""
    await page.evaluate(PREPARE_JS, [doc, toc_documents(), CROSS, root])
    await page.emulate_media(media="print")
    await page.pdf(path=str(out), **PDF_OPTIONS)
    await page.emulate_media(media=None)


def merge(parts: list[Path], out: Path) -> dict:
    """Merge the printed pages in order into ``out`` and turn the links between them
    into jumps within the PDF. Returns counts of pages, destinations and links."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject

    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    # Chromium writes destinations as names in the catalog's /Dests ("/<id>"); pypdf
    # keeps them when it appends
    names = {str(name).lstrip("/") for name in writer.named_destinations}
    linked = unresolved = 0
    for page in writer.pages:
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            action = annot.get("/A")
            uri = action.get("/URI") if action is not None else None
            if not uri or not str(uri).startswith(CROSS):
                continue
            target = str(uri)[len(CROSS):]
            if target not in names:  # an id the target page does not print: its top
                target = target.split("--", 1)[0] + "--top"
            if target not in names:
                unresolved += 1
                continue
            annot[NameObject("/A")] = DictionaryObject({
                NameObject("/S"): NameObject("/GoTo"), NameObject("/D"): NameObject("/" + target)})
            linked += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as handle:
        writer.write(handle)
    return {"pages": len(writer.pages), "destinations": len(names), "links_between_pages": linked,
            "unresolved": unresolved}


async def _print_site(html: Path, out: Path, timeout_ms: int, root: str = "") -> dict:
    from playwright.async_api import async_playwright

    docs = toc_documents()
    parts = [out.parent / "pdf-parts" / f"{i:02d}.pdf" for i in range(len(docs))]
    parts[0].parent.mkdir(parents=True, exist_ok=True)
    with serve(html) as base:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                context = await browser.new_context(viewport={"width": 1280, "height": 900})
                page = await context.new_page()
                page.set_default_timeout(timeout_ms)
                for doc, part in zip(docs, parts):
                    await page.goto(f"{base}{root}{doc}.html", wait_until="load")
                    await page.evaluate(PAGE_PROBE_JS)  # loads every image and font
                    await print_page(page, doc, part, root)
            finally:
                await browser.close()
    return merge(parts, out)


def print_pdf(html: Path, out: Path, timeout_s: float = 600, root: str = "") -> dict:
    """Print every page of the built site ``html`` (of the edition in ``root``) into
    ``out`` (see the module docstring)."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} not found: apt-get install -y chromium")
    return asyncio.run(_print_site(html, out, int(timeout_s * 1000), root))


def pdf_summary(path: Path) -> dict:
    """Pages, size and named destinations of a PDF."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return {"pages": len(reader.pages), "bytes": path.stat().st_size,
            "destinations": {str(name).lstrip("/") for name in reader.named_destinations}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path-output", type=Path, default=REPO,
                        help="the --path-output the website was built with (default: the repository)")
    parser.add_argument("--edition", choices=["en", "zh_CN"], default="en",
                        help="zh_CN: the Chinese edition, into <html>/zh_CN/backprop-course.pdf "
                             "(needs Debian's fonts-noto-cjk for the Chinese text)")
    args = parser.parse_args(argv)
    root = "" if args.edition == "en" else "zh_CN/"
    html = args.path_output / "_build" / "html"
    try:
        import playwright  # noqa: F401
    except ImportError:
        playwright = None
    if not CHROMIUM.exists() or playwright is None:
        print(f"PDF skipped: needs {CHROMIUM} (apt-get install -y chromium) and the playwright package")
        return 0
    if not (html / "index.html").exists():
        print(f"no built site in {html}: build it first (README)")
        return 1
    start = time.monotonic()
    out = html / root / COURSE_PDF
    counts = print_pdf(html, out, root=root)
    summary = pdf_summary(out)
    print(f"{out}: {summary['pages']} pages, {summary['bytes'] / 1e6:.1f} MB, "
          f"{counts['links_between_pages']} links between pages, printed in {time.monotonic() - start:.1f} s")
    return 0 if not counts["unresolved"] else 1


if __name__ == "__main__":
    sys.exit(main())
