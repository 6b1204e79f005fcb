"""The whole course as one PDF, printed by Chromium from the single-page build.

The PDF is made from the same sources and stored outputs as the website: Sphinx's
single-page builder (``singlehtml``) writes every chapter and page of ``_toc.yml`` into
one HTML page, with the same chapter, equation and figure numbers; headless Chromium
opens it, waits for its fonts and images, and prints it with the site's
print CSS (``book/_static/custom.css``: solutions of the exercises shown, every equation
in full, navigation hidden). Its links (table of contents, "Chapter N", equation
references) jump within the PDF.

Usage (after the website build, whose doctrees it reuses):

    .venv/bin/python scripts/book_pdf.py            # -> _build/html/backprop-course.pdf
    .venv/bin/python scripts/book_pdf.py --path-output /tmp/build-x   # a build made with --path-output

It needs Debian's Chromium (``apt-get install -y chromium``) and the ``playwright``
package (never ``playwright install``). Every page of the website links the PDF (the
download menu and the sidebar); the test command (tests/test_site.py) produces it and
checks that it has every chapter.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from site_helpers import CHROMIUM, CHROMIUM_ARGS, PAGE_PROBE_JS, serve, toc_documents  # noqa: E402

sys.path.insert(0, str(REPO / "book" / "_ext"))
from site_fixes import COURSE_PDF  # noqa: E402

FOOTER = (
    '<div style="font-size:8px;width:100%;padding:0 12mm;color:#555;display:flex;'
    'justify-content:space-between;font-family:sans-serif">'
    '<span class="title"></span><span><span class="pageNumber"></span> / '
    '<span class="totalPages"></span></span></div>'
)


def build_singlehtml(build_root: Path, timeout: float = 1800) -> tuple[int, str, float]:
    """``jupyter-book build --builder singlehtml`` into ``build_root/_build/singlehtml``
    (warnings are errors, as for the website). Returns (exit code, log, seconds)."""
    exe = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(exe), "build", str(REPO), "--builder", "singlehtml", "-W", "-n", "--keep-going"]
    if build_root.resolve() != REPO.resolve():
        cmd += ["--path-output", str(build_root)]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    return proc.returncode, proc.stdout, time.monotonic() - start


async def _print(singlehtml: Path, out: Path, timeout_ms: int) -> dict:
    from playwright.async_api import async_playwright

    # The single page is written at the root document's path (book/intro.html) but its
    # links are relative to the site root; a copy at the root makes them resolve.
    root_doc = singlehtml / f"{toc_documents()[0]}.html"
    page_file = singlehtml / "course.html"
    page_file.write_bytes(root_doc.read_bytes())
    rel = page_file.name
    with serve(singlehtml) as base:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                context = await browser.new_context(viewport={"width": 1000, "height": 1400})
                await context.add_init_script(
                    "try { localStorage.setItem('mode', 'light'); localStorage.setItem('theme', 'light'); } catch (e) {}"
                )
                await context.route(
                    "**/*",
                    lambda route, request: route.abort()
                    if not request.url.startswith(base) and request.url.startswith("http")
                    else route.continue_(),
                )
                page = await context.new_page()
                page.set_default_timeout(timeout_ms)
                await page.goto(base + rel, wait_until="load", timeout=timeout_ms)
                info = await page.evaluate(PAGE_PROBE_JS)  # loads every image and font
                await page.emulate_media(media="print")
                await page.pdf(
                    path=str(out),
                    format="A4",
                    print_background=True,
                    margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER,
                    scale=0.8,  # about 10 pt body text
                    # no tagged PDF (and so no bookmark outline, which Chromium derives
                    # from the tags): it makes the file 2.5 times larger (21 MB)
                    tagged=False,
                )
            finally:
                await browser.close()
    return info


def print_pdf(singlehtml: Path, out: Path, timeout_s: float = 600) -> dict:
    """Print the single-page build to ``out``; return the page probe (math typeset, images)."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} not found: apt-get install -y chromium")
    out.parent.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_print(singlehtml, out, int(timeout_s * 1000)))


def _pdf_string(raw: bytes) -> str:
    """Decode a PDF string token: (literal) or <hex>, PDFDocEncoding or UTF-16BE."""
    if raw.startswith(b"<"):
        data = bytes.fromhex(raw[1:-1].decode("ascii"))
    else:
        body = raw[1:-1]
        data = re.sub(rb"\\([nrtbf()\\]|[0-7]{1,3})", lambda m: _unescape(m.group(1)), body)
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be", errors="replace")
    return data.decode("latin-1")


def _unescape(seq: bytes) -> bytes:
    table = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f",
             b"(": b"(", b")": b")", b"\\": b"\\"}
    return table.get(seq, bytes([int(seq, 8) & 0xFF]) if seq[:1].isdigit() else seq)


def pdf_summary(path: Path) -> dict:
    """Pages and bookmark titles of a PDF written by Chromium (no PDF library needed:
    Chromium writes plain objects; compressed object streams are inflated too)."""
    data = path.read_bytes()
    chunks = [data]
    for m in re.finditer(rb"/Type\s*/ObjStm.*?stream\r?\n", data, re.S):
        end = data.find(b"endstream", m.end())
        try:
            chunks.append(zlib.decompress(data[m.end():end]))
        except zlib.error:
            pass
    text = b"\n".join(chunks)
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", text))
    titles = [_pdf_string(m.group(1)) for m in
              re.finditer(rb"/Title\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>)", text)]
    # named destinations (/Dests): Chromium writes one per element id that a link in
    # the document points to, e.g. the table of contents' links to every chapter
    # ("document-book/ch01_..."), each mapped to the page where that element is printed
    destinations = set()
    catalog = re.search(rb"/Type\s*/Catalog.*?/Dests\s+(\d+)\s+0\s+R", text, re.S)
    if catalog:
        obj = re.search(rb"(?<!\d)" + catalog.group(1) + rb"\s+0\s+obj\s*<<(.*?)>>\s*endobj", text, re.S)
        if obj:
            for name in re.findall(rb"/([^\s/\[\]<>()]+)\s*\[\s*\d+\s+0\s+R", obj.group(1)):
                destinations.add(re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), name)
                                 .decode("utf-8", errors="replace"))
    return {"pages": pages, "bytes": len(data), "titles": titles, "destinations": destinations}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path-output", type=Path, default=REPO,
                        help="the --path-output the website was built with (default: the repository)")
    parser.add_argument("--skip-build", action="store_true", help="reuse an existing single-page build")
    args = parser.parse_args(argv)
    build = args.path_output / "_build"
    try:
        import playwright  # noqa: F401
    except ImportError:
        playwright = None
    if not CHROMIUM.exists() or playwright is None:
        print(f"PDF skipped: needs {CHROMIUM} (apt-get install -y chromium) and the playwright package")
        return 0
    build_code = 0
    if not args.skip_build:
        build_code, log, seconds = build_singlehtml(args.path_output)
        updating = next((ln for ln in log.splitlines() if "updating environment" in ln), "")
        print(f"single-page build: {seconds:.1f} s, exit code {build_code}; {re.sub(chr(27) + r'[^m]*m', '', updating)}")
        if build_code != 0:
            # with --keep-going the page is written all the same: print it, fail at the end
            print("\n".join(line for line in log.splitlines() if "WARNING" in line or "ERROR" in line)[-3000:])
            if not any((build / "singlehtml").glob("*/*.html")):
                print(log[-3000:])
                return build_code
    out = build / "html" / COURSE_PDF
    start = time.monotonic()
    info = print_pdf(build / "singlehtml", out)
    summary = pdf_summary(out)
    print(f"{out}: {summary['pages']} pages, {summary['bytes'] / 1e6:.1f} MB, "
          f"{info['typeset']} formulas typeset, {info['images']} images, printed in {time.monotonic() - start:.1f} s")
    if info["untypeset"] or info["mathErrors"] or info["brokenImages"]:
        print(f"problems: untypeset {info['untypeset'][:3]}, TeX errors {info['mathErrors']}, "
              f"broken images {info['brokenImages'][:3]}")
        return 1
    return build_code


if __name__ == "__main__":
    sys.exit(main())
