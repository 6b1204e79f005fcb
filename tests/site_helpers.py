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

import yaml

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


def toc_documents(toc_path: Path = TOC) -> list[str]:
    """Document names (e.g. ``book/intro``) in _toc.yml order, root first."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    # strip any suffix, keep order, drop duplicates
    docs = [re.sub(r"\.(md|ipynb|rst)$", "", d) for d in docs]
    return list(dict.fromkeys(docs))


def site_pages() -> list[str]:
    """HTML paths (relative to the site root) of every toc page plus EXTRA_PAGES."""
    return [f"{doc}.html" for doc in toc_documents()] + EXTRA_PAGES


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


# JavaScript run in each page after load: wait for MathJax, force lazy images to load,
# then report what the page contains. Returns a plain object.
PAGE_PROBE_JS = r"""
async () => {
  const out = {theme: document.documentElement.dataset.theme || null,
               mode: document.documentElement.dataset.mode || null};
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    await window.MathJax.startup.promise;
  }
  out.mathjax = !!(window.MathJax && window.MathJax.version);
  out.mathjaxVersion = out.mathjax ? window.MathJax.version : null;
  const mathNodes = Array.from(document.querySelectorAll('span.math, div.math'))
      .filter(el => !el.parentElement.closest('span.math, div.math'));
  out.mathNodes = mathNodes.length;
  out.mjx = document.querySelectorAll('mjx-container').length;
  out.mathErrors = document.querySelectorAll('mjx-merror, [data-mjx-error]').length;
  out.untypeset = mathNodes.filter(el => !el.querySelector('mjx-container'))
      .map(el => el.textContent.trim().slice(0, 80));
  // leftover TeX delimiters in prose (outside code, scripts and typeset math)
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest(
        'pre, code, script, style, textarea, mjx-container, .highlight, .cell_input, .cell_output .output.stream, .bibtex, .citation, #search-results')
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
  // computed colours, to check dark mode really applies
  const body = getComputedStyle(document.body);
  out.bodyBackground = body.backgroundColor;
  const firstMath = document.querySelector('mjx-container');
  out.mathColor = firstMath ? getComputedStyle(firstMath).color : null;
  out.bodyColor = getComputedStyle(root).color;
  return out;
}
"""
