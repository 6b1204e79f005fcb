"""Helpers for tests/test_site.py: build the book, list its pages, scan and serve them."""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
HTML_DIR = REPO / "_build" / "html"
TOC = REPO / "_toc.yml"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Extra generated pages worth opening besides the table of contents.
EXTRA_PAGES = ["genindex.html", "py-modindex.html", "search.html"]


def jupyter_book_executable() -> Path:
    """The ``jupyter-book`` script installed next to the running Python."""
    return Path(sys.executable).parent / "jupyter-book"


def build_site(timeout: float = 3600) -> tuple[int, str, float]:
    """Run the README's build command; return (exit code, combined output, seconds)."""
    cmd = [
        str(jupyter_book_executable()),
        "build",
        "--all",
        str(REPO),
        "-W",
        "-n",
        "--keep-going",
    ]
    start = time.monotonic()
    proc = subprocess.run(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, time.monotonic() - start


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def warning_lines(output: str) -> list[str]:
    """Lines of a Sphinx log that are warnings or errors (ANSI colours removed)."""
    lines = (_ANSI.sub("", line) for line in output.splitlines())
    return [
        line
        for line in lines
        if re.search(r"\b(WARNING|ERROR|CRITICAL|SEVERE)\b", line)
        and "Kernel is running over TCP" not in line
    ]


def _toc_walk(toc_path: Path = TOC):
    """Yield (docname, numbered) for every document of _toc.yml in reading order, as
    Jupyter Book reads it (sphinx_external_toc); ``numbered`` is True for documents in
    a numbered part."""
    from sphinx_external_toc.parsing import FileItem, parse_toc_yaml

    site_map = parse_toc_yaml(toc_path)
    seen = set()

    def walk(docname, numbered):
        if docname in seen:
            return
        seen.add(docname)
        yield docname, numbered
        for subtree in site_map[docname].subtrees:
            for item in subtree.items:
                if isinstance(item, FileItem):
                    yield from walk(str(item), numbered or bool(subtree.numbered))

    yield from walk(site_map.root.docname, False)


def toc_documents(toc_path: Path = TOC) -> list[str]:
    """Document names (e.g. ``book/intro``) in _toc.yml order, root first."""
    return [doc for doc, _ in _toc_walk(toc_path)]


def chapter_numbers(toc_path: Path = TOC) -> dict[str, int]:
    """{docname: chapter number} for the numbered chapters (numbering runs on across
    parts: ``use_multitoc_numbering``)."""
    numbered = [doc for doc, is_numbered in _toc_walk(toc_path) if is_numbered]
    return {doc: i for i, doc in enumerate(numbered, start=1)}


#: The editions and where each lies under the site root (book/_ext/translation.py).
EDITIONS = {"en": "", "zh_CN": "zh_CN/"}
#: The ``lang`` attribute of each edition's pages.
LANG_ATTRIBUTES = {"en": "en", "zh_CN": "zh-CN"}


def site_pages(edition: str | None = "en") -> list[str]:
    """HTML paths (relative to the site root) of every toc page plus EXTRA_PAGES, in
    one edition, or in every edition (``edition=None``: English first)."""
    if edition is None:
        return [page for ed in EDITIONS for page in site_pages(ed)]
    prefix = EDITIONS[edition]
    return [f"{prefix}{doc}.html" for doc in toc_documents()] + [prefix + p for p in EXTRA_PAGES]


def edition_of(rel: str) -> str:
    """The edition a page path (relative to the site root) belongs to."""
    return next((ed for ed, prefix in EDITIONS.items() if prefix and rel.startswith(prefix)), "en")


class _AssetParser(HTMLParser):
    """Collects the URLs a page loads: scripts, stylesheets, icons, images, media."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.assets: list[tuple[str, str]] = []  # (what, url)
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        rel = a.get("rel", "").lower()
        if tag == "script" and a.get("src"):
            self.assets.append(("script", a["src"]))
            self.scripts.append(a["src"])
        elif tag == "link" and a.get("href") and re.search(
            r"stylesheet|icon|preload|modulepreload|manifest|prefetch", rel
        ):
            self.assets.append((f"link[{rel}]", a["href"]))
        elif tag in ("img", "source", "audio", "video", "iframe", "embed", "track") and a.get("src"):
            self.assets.append((tag, a["src"]))
        elif tag == "object" and a.get("data"):
            self.assets.append((tag, a["data"]))
        if tag in ("img", "source") and a.get("srcset"):
            for part in a["srcset"].split(","):
                if part.strip():
                    self.assets.append((f"{tag}[srcset]", part.strip().split()[0]))
        if a.get("style"):
            for url in css_urls(a["style"]):
                self.assets.append((f"{tag}[style]", url))


_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.I)


def css_urls(css: str) -> list[str]:
    """Every url(...) and @import "..." target in a piece of CSS."""
    urls = []
    for m in _CSS_URL.finditer(css):
        url = m.group(2) if m.group(2) is not None else m.group(4)
        if url:
            urls.append(url)
    return urls


def is_external(url: str) -> bool:
    """True for URLs that would make the browser contact another host."""
    url = url.strip()
    if url.startswith("//"):
        return True
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "ws", "wss", "ftp"):
        return (parts.hostname or "") not in LOCAL_HOSTS
    return False


def page_assets(path: Path) -> _AssetParser:
    parser = _AssetParser()
    parser.feed(path.read_text(encoding="utf-8"))
    # inline <style> blocks
    for block in re.findall(r"<style[^>]*>(.*?)</style>", path.read_text(encoding="utf-8"), re.S | re.I):
        for url in css_urls(block):
            parser.assets.append(("style", url))
    return parser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


@contextmanager
def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 at a free port; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# JavaScript run in each page after load: force lazy images to load, wait for the web
# fonts, then report what the page contains. Returns a plain object. Math is typeset
# when the site is built (KaTeX): every math node must hold KaTeX's output, with its
# MathML for screen readers, no KaTeX error, and KaTeX's fonts loaded from the site.
PAGE_PROBE_JS = r"""
async () => {
  const out = {theme: document.documentElement.dataset.theme || null,
               mode: document.documentElement.dataset.mode || null};
  const mathNodes = Array.from(document.querySelectorAll('span.math, div.math'))
      .filter(el => !el.parentElement.closest('span.math, div.math'));
  out.mathNodes = mathNodes.length;
  const typeset = [...document.querySelectorAll('.katex')].filter(k => !k.parentElement.closest('.katex'));
  out.typeset = typeset.length;
  out.withoutMathml = typeset.filter(k => !k.querySelector(':scope > .katex-mathml math')).length;
  out.mathErrors = document.querySelectorAll('.katex-error').length;
  out.untypeset = mathNodes.filter(el => !el.querySelector('.katex'))
      .map(el => el.textContent.trim().slice(0, 80));
  // leftover TeX delimiters in prose (outside code, scripts and typeset math)
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest(
        'pre, code, script, style, textarea, .katex, .highlight, .cell_input, .cell_output .output.stream, .bibtex, .citation, #search-results')
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const leftovers = [];
  const tex = /\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\s][^$]*?[^$\s\\]\$|\$[^$\s]\$/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (tex.test(n.textContent)) leftovers.push(n.textContent.trim().slice(0, 80));
  }
  out.leftoverTex = leftovers;
  // images: load lazy ones now, then wait for every image to settle
  const imgs = Array.from(document.images);
  imgs.forEach(img => { if (img.loading === 'lazy') img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null :
      new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r);
                         setTimeout(r, 5000); })));
  out.images = imgs.length;
  out.brokenImages = imgs.filter(img => !(img.naturalWidth > 0)).map(img => img.currentSrc || img.src);
  // KaTeX's fonts: every one the page asked for has loaded
  await document.fonts.ready;
  out.fontErrors = [...document.fonts].filter(f => f.family.replace(/"/g, '').startsWith('KaTeX')
      && f.status === 'error').map(f => f.family);
  // computed colours, to check dark mode really applies
  const body = getComputedStyle(document.body);
  out.bodyBackground = body.backgroundColor;
  const firstMath = document.querySelector('.katex');
  out.mathColor = firstMath ? getComputedStyle(firstMath).color : null;
  out.bodyColor = getComputedStyle(root).color;
  return out;
}
"""


# Viewports of the browser test: a phone (iPhone 12-15 size) and a desktop.
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


# Layout at the current viewport: page width, display equations that need horizontal
# scrolling (with their label and number), content images (alt text, caption, displayed
# width against the text column). Shared with scripts/overflowing_equations.py.
LAYOUT_PROBE_JS = r"""
(screenWidth) => {
  // screenWidth: the device width the page must fit (a phone browser widens its
  // layout viewport, innerWidth, to fit content that is too wide)
  const out = {viewport: screenWidth || window.innerWidth,
               pageWidth: document.documentElement.scrollWidth,
               theme: document.documentElement.dataset.theme || null};
  // colours, to check that dark mode really applies to the math
  const firstMath = document.querySelector('.katex');
  out.mathColor = firstMath ? getComputedStyle(firstMath).color : null;
  out.bodyColor = getComputedStyle(document.querySelector('main') || document.body).color;
  // what sticks out of the viewport (for the failure message)
  out.wideElements = [];
  if (out.pageWidth > out.viewport) {
    const clipsX = el => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
    const insideScroller = el => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) if (clipsX(p)) return true;
      return false;
    };
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right <= out.viewport + 1 || r.width === 0) continue;
      // the innermost offenders that are not inside a box that scrolls or clips
      if ([...el.children].some(c => c.getBoundingClientRect().right > out.viewport + 1 && !clipsX(el))) continue;
      if (insideScroller(el) || el.closest('.skip-link, .bd-sidebar-primary, .bd-sidebar-secondary, dialog')) continue;
      out.wideElements.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ` +
                            `"${(el.textContent || '').trim().slice(0, 40)}" right=${Math.round(r.right)}`);
      if (out.wideElements.length >= 5) break;
    }
  }
  // display equations: the scrolling box is div.math (custom.css)
  out.equations = [];
  for (const div of document.querySelectorAll('.bd-article div.math')) {
    if (!div.offsetParent) continue;  // inside a folded solution or hidden cell
    const eqno = div.querySelector('.eqno');
    const number = eqno ? eqno.textContent.replace('#', '').trim() : '';
    const label = div.id ? div.id.replace(/^equation-/, '') : '';
    // content width: the widest typeset descendant against the box
    const box = div.getBoundingClientRect();
    let needed = div.scrollWidth;
    for (const m of div.querySelectorAll('.katex-display, .katex-html')) {
      needed = Math.max(needed, m.scrollWidth, m.getBoundingClientRect().width);
    }
    const overflow = Math.round(needed - div.clientWidth);
    if (overflow > 1) {
      const style = getComputedStyle(div);
      const section = div.closest('section[id]');
      out.equations.push({
        label, number, overflow,
        section: section ? section.id : '',
        tex: ((div.querySelector('annotation[encoding="application/x-tex"]') || {}).textContent || '')
             .trim().replace(/\s+/g, ' ').slice(0, 100),
        scrolls: ['auto', 'scroll'].includes(style.overflowX) && div.scrollWidth > div.clientWidth,
        hinted: style.backgroundImage.includes('gradient') && style.scrollbarWidth !== 'none',
        // the box's scroll range must reach the end of the typeset equation
        // (and none of it may lie left of the box, where scrolling cannot reach)
        clipped: div.scrollLeft === 0 && [...div.querySelectorAll('.katex-html')].some(m =>
          m.getBoundingClientRect().width > div.scrollWidth + 1 ||
          m.getBoundingClientRect().left < box.left - 1),
      });
    }
  }
  // content images: figures and images in cell outputs
  out.images = [];
  for (const img of document.querySelectorAll('.bd-article img')) {
    if (img.closest('.headerlink, .navbar-brand, .bd-header-article') || img.classList.contains('toggler')) continue;
    const column = img.closest('.bd-article');
    const fig = img.closest('figure');
    const cap = fig ? fig.querySelector('figcaption') : null;
    const r = img.getBoundingClientRect();
    out.images.push({
      src: (img.getAttribute('src') || '').split('/').pop(),
      alt: img.getAttribute('alt') || '',
      caption: cap ? cap.textContent.replace('#', '').trim() : '',
      number: cap && cap.querySelector('.caption-number') ? cap.querySelector('.caption-number').textContent.trim() : '',
      width: Math.round(r.width), natural: img.naturalWidth,
      column: column ? Math.round(column.clientWidth) : null,
    });
  }
  return out;
}
"""

# Performance entries of the current page: bytes transferred and when it had loaded
# (the load event: HTML, CSS, fonts and images; the math is in the HTML).
WEIGHT_PROBE_JS = r"""
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const size = e => e.transferSize || e.encodedBodySize || 0;
  const byUrl = res.map(e => [e.name.split('?')[0].replace(location.origin, ''), size(e)])
                   .sort((a, b) => b[1] - a[1]);
  return {bytes: size(nav) + res.reduce((s, e) => s + size(e), 0),
          largest: byUrl.slice(0, 5), requests: res.length + 1,
          loadedAt: nav ? nav.loadEventEnd : null};
}
"""

# Icons: the header buttons' Font Awesome glyphs are drawn by the web font.
ICON_PROBE_JS = r"""
async () => {
  await document.fonts.ready;
  const icons = [...document.querySelectorAll('.bd-header-article i[class*="fa-"]')];
  const drawn = icons.filter(i => {
    const before = getComputedStyle(i, '::before');
    return before.content && before.content !== 'none' && before.content !== 'normal'
           && /Font Awesome/.test(before.fontFamily || getComputedStyle(i).fontFamily);
  });
  return {icons: icons.length, drawn: drawn.length,
          fontLoaded: document.fonts.check('900 16px "Font Awesome 6 Free"')};
}
"""
