"""The website: it builds cleanly, is self-contained, and renders in a real browser.

The session fixture runs the README's build command once
(``jupyter-book build --all . -W -n --keep-going`` into ``_build/html``); set
``FCNN_SITE_PREBUILT=1`` to test an existing ``_build/html`` without rebuilding.
The browser test needs Debian's chromium (``apt-get install -y chromium``) and the
``playwright`` Python package; it is skipped, saying so, when either is missing.
"""

from __future__ import annotations

import asyncio
import os
import re
from urllib.parse import urlsplit

import pytest

from site_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HTML_DIR,
    LOCAL_HOSTS,
    PAGE_PROBE_JS,
    build_site,
    css_urls,
    is_external,
    jupyter_book_executable,
    page_assets,
    serve,
    site_pages,
    toc_documents,
    warning_lines,
)


def _report(capsys, line):
    """Show a summary line on the terminal whatever the capture settings."""
    with capsys.disabled():
        print(f"\n{line}")


@pytest.fixture(scope="session")
def built_site():
    """Build the site once per session; return (exit code, log, seconds)."""
    if os.environ.get("FCNN_SITE_PREBUILT") == "1":
        if not (HTML_DIR / "index.html").exists():
            pytest.fail(f"FCNN_SITE_PREBUILT=1 but {HTML_DIR} holds no built site")
        return 0, "", 0.0
    exe = jupyter_book_executable()
    if not exe.exists():
        pytest.fail(f"{exe} not found: install the requirements into this Python's environment")
    return build_site()


@pytest.fixture(scope="session")
def html_dir(built_site):
    code, log, _ = built_site
    if code != 0:
        pytest.fail("the site build failed; see test_build_is_clean")
    return HTML_DIR


def test_build_is_clean(built_site, record_property, capsys, timings):
    code, log, seconds = built_site
    record_property("build_seconds", round(seconds, 1))
    problems = warning_lines(log)
    counted = re.search(r"build finished with problems, (\d+) warnings?", log)
    assert code == 0, (
        f"jupyter-book build -W -n --keep-going exited with {code}; "
        f"Sphinx counted {counted.group(1) if counted else '?'} warnings; "
        f"{len(problems)} warning/error lines:\n" + "\n".join(problems) + "\n--- log tail ---\n" + log[-4000:]
    )
    assert not problems, "build passed but logged:\n" + "\n".join(problems)
    if seconds:
        timings("site_build_s", seconds)
        _report(capsys, f"site build: {seconds:.1f} s, clean (-W -n)")


def test_every_toc_page_is_built(html_dir):
    missing = [page for page in site_pages() if not (html_dir / page).is_file()]
    assert not missing, f"pages listed in _toc.yml (or standard pages) not built: {missing}"


def test_no_external_assets(html_dir):
    """No page loads scripts, styles, fonts or images from another host."""
    offenders = []
    for page in sorted(html_dir.rglob("*.html")):
        if "_static" in page.relative_to(html_dir).parts or "_sources" in page.parts:
            continue
        for what, url in page_assets(page).assets:
            if is_external(url):
                offenders.append(f"{page.relative_to(html_dir)}: {what} {url}")
    for css in sorted(html_dir.rglob("*.css")):
        for url in css_urls(css.read_text(encoding="utf-8", errors="replace")):
            if is_external(url):
                offenders.append(f"{css.relative_to(html_dir)}: url({url})")
    assert not offenders, "external assets:\n" + "\n".join(offenders)


def test_mathjax_is_local(html_dir):
    """Pages with math load MathJax 3 from _static/mathjax, and its files exist."""
    mathjax = html_dir / "_static" / "mathjax"
    assert (mathjax / "tex-chtml.js").is_file()
    assert any((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff")), "MathJax fonts missing"
    assert (mathjax / "input" / "tex" / "extensions" / "boldsymbol.js").is_file()
    pages_with_math = 0
    for page in site_pages():
        text = (html_dir / page).read_text(encoding="utf-8")
        scripts = page_assets(html_dir / page).scripts
        mathjax_scripts = [s for s in scripts if "mathjax" in s.lower() or "tex-" in s.lower()]
        has_math = re.search(r'class="math[ "]', text) is not None
        if has_math:
            pages_with_math += 1
            assert mathjax_scripts, f"{page} has math but loads no MathJax"
        for src in mathjax_scripts:
            assert not is_external(src), f"{page} loads MathJax from {src}"
            assert re.search(r"(^|/)_static/mathjax/tex-chtml\.js(\?|$)", src), f"{page}: unexpected {src}"
    assert pages_with_math > 0, "no page has math: is dollarmath enabled?"


def _playwright_or_skip():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found; enable the browser test with: apt-get install -y chromium")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("playwright is not installed; pip install playwright (never 'playwright install')")
    return async_playwright


async def _check_mode(browser, base, pages, mode, totals, external_urls, failures):
    """Open every page in one browser context with the theme in ``mode``."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    # pydata-sphinx-theme reads both keys from localStorage before first paint
    await context.add_init_script(
        f"try {{ localStorage.setItem('mode', '{mode}'); "
        f"localStorage.setItem('theme', '{mode}'); }} catch (e) {{}}"
    )

    async def route(route_, request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            totals["external"] += 1
            external_urls.add(request.url)
            await route_.abort()
        else:
            await route_.continue_()

    await context.route("**/*", route)
    page = await context.new_page()
    events: list[str] = []
    page.on("console", lambda m: events.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: events.append(f"pageerror: {e}"))
    page.on("response", lambda r: events.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    for rel in pages:
        events.clear()
        where = f"[{mode}] {rel}"
        url = base + rel + ("?q=backpropagation" if rel == "search.html" else "")
        response = await page.goto(url, wait_until="load", timeout=60_000)
        totals["visits"] += 1
        if response is None or response.status != 200:
            failures.append(f"{where}: status {response.status if response else None}")
            continue
        try:
            info = await page.evaluate(PAGE_PROBE_JS)
        except Exception as exc:  # noqa: BLE001 - e.g. MathJax failed to load a file
            failures.append(f"{where}: page probe failed: {str(exc).splitlines()[0]}")
            failures.extend(f"{where}: {e}" for e in events)
            continue
        if rel == "search.html":
            try:
                await page.wait_for_selector("#search-results li", timeout=15_000)
            except Exception:  # noqa: BLE001 - reported as a failure
                failures.append(f"{where}: the search for 'backpropagation' found nothing")
        await page.wait_for_timeout(50)  # let late console messages arrive
        if info["theme"] != mode:
            failures.append(f"{where}: html[data-theme] is {info['theme']!r}")
        if info["mathNodes"] and not info["mathjax"]:
            failures.append(f"{where}: {info['mathNodes']} math nodes but MathJax did not start")
        if info["untypeset"]:
            failures.append(f"{where}: math not typeset: {info['untypeset'][:3]}")
        if info["mjx"] < info["mathNodes"]:
            failures.append(f"{where}: {info['mjx']} mjx-container < {info['mathNodes']} math nodes")
        if info["mathErrors"]:
            failures.append(f"{where}: {info['mathErrors']} MathJax TeX errors")
        if info["leftoverTex"]:
            failures.append(f"{where}: raw TeX left in the text: {info['leftoverTex'][:3]}")
        if info["brokenImages"]:
            failures.append(f"{where}: images not loaded: {info['brokenImages']}")
        if mode == "dark" and info["mathColor"] and info["mathColor"] != info["bodyColor"]:
            failures.append(f"{where}: math colour {info['mathColor']} differs from text {info['bodyColor']}")
        failures.extend(f"{where}: {e}" for e in events)
        totals["math"] += info["mjx"]
        totals["images"] += info["images"] - len(info["brokenImages"])
    await context.close()


def test_pages_in_browser(html_dir, record_property, capsys):
    """Every page, light and dark: loads, math typeset, images load, no errors, no external requests.

    One headless chromium; the two modes run side by side, one context each.
    """
    async_playwright = _playwright_or_skip()
    pages = site_pages()
    failures: list[str] = []
    totals = {"math": 0, "images": 0, "external": 0, "visits": 0}
    external_urls: set[str] = set()

    async def run(base):
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                await asyncio.gather(
                    *(
                        _check_mode(browser, base, pages, mode, totals, external_urls, failures)
                        for mode in ("light", "dark")
                    )
                )
            finally:
                await browser.close()

    with serve(html_dir) as base:
        asyncio.run(run(base))

    summary = (
        f"browser check: {len(pages)} pages x 2 modes, {totals['math']} math elements typeset, "
        f"{totals['images']} images loaded, {totals['external']} external requests"
    )
    record_property("browser_summary", summary)
    _report(capsys, summary)
    assert totals["visits"] == 2 * len(pages), f"visited {totals['visits']} of {2 * len(pages)} pages"
    if external_urls:
        failures.append("external requests (aborted): " + ", ".join(sorted(external_urls)[:10]))
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(sorted(failures))


def test_toc_lists_root_first():
    docs = toc_documents()
    assert docs[0] == "book/intro"
    assert "book/bibliography" in docs and "book/api" in docs
