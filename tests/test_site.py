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
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from book_pdf import COURSE_PDF, merge, pdf_summary, print_page  # noqa: E402
from site_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    HTML_DIR,
    ICON_PROBE_JS,
    LAYOUT_PROBE_JS,
    LOCAL_HOSTS,
    PAGE_PROBE_JS,
    PHONE,
    WEIGHT_PROBE_JS,
    EDITIONS,
    EXTRA_PAGES,
    LANG_ATTRIBUTES,
    REPO,
    build_site,
    chapter_numbers,
    css_urls,
    edition_of,
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


def _prebuilt():
    """FCNN_SITE_PREBUILT=1 (test _build/html) or =<directory> (test that built site)."""
    value = os.environ.get("FCNN_SITE_PREBUILT", "")
    if not value:
        return None
    return HTML_DIR if value == "1" else Path(value)


@pytest.fixture(scope="session")
def built_site():
    """Build the site once per session; return (exit code, log, seconds)."""
    prebuilt = _prebuilt()
    if prebuilt is not None:
        if not (prebuilt / "index.html").exists():
            pytest.fail(f"FCNN_SITE_PREBUILT: {prebuilt} holds no built site")
        return 0, "", 0.0
    exe = jupyter_book_executable()
    if not exe.exists():
        pytest.fail(f"{exe} not found: install the requirements into this Python's environment")
    return build_site()


@pytest.fixture(scope="session")
def html_dir(built_site):
    # The build runs with --keep-going: with warnings (test_build_is_clean fails) it
    # still writes every page, and the pages are tested all the same.
    html = _prebuilt() or HTML_DIR
    if not (html / "index.html").exists():
        pytest.fail("the site build wrote no pages; see test_build_is_clean")
    return html


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
    missing = [page for page in site_pages(None) if not (html_dir / page).is_file()]
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


def test_every_page_has_its_language_and_a_switch_to_its_twin(html_dir):
    """Each edition's pages say their language (<html lang>) and link the same page in
    the other edition (the header button and the sidebar link), which exists."""
    problems = []
    for rel in site_pages(None):
        text = (html_dir / rel).read_text(encoding="utf-8")
        lang = re.search(r'<html[^>]*\blang="([^"]+)"', text)
        if not lang or lang.group(1) != LANG_ATTRIBUTES[edition_of(rel)]:
            problems.append(f"{rel}: <html lang={lang.group(1) if lang else None!r}>")
        hrefs = re.findall(r'<a href="([^"]+)"[^>]*class="[^"]*btn-edition-switch-button', text)
        hrefs += re.findall(r'<div class="edition-switch">\s*<a href="([^"]+)"', text)
        if len(hrefs) != 2:
            problems.append(f"{rel}: {len(hrefs)} language-switch links (expected the header button and the sidebar link)")
        for href in hrefs:
            target = (html_dir / rel).parent / href
            if target.resolve() != (html_dir / twin(rel)).resolve():
                problems.append(f"{rel}: the language switch points to {href}, not to {twin(rel)}")
    assert not problems, "\n".join(problems)


def test_chinese_figures_have_chinese_captions_and_alt_text(html_dir):
    """On the Chinese pages every figure's caption and alt text are Chinese (they come
    from the cells' metadata, inside cell outputs, which are otherwise not translated)."""
    cjk = re.compile(r"[\u4e00-\u9fff]")
    problems, figures = [], 0
    for rel in site_pages("zh_CN"):
        text = (html_dir / rel).read_text(encoding="utf-8")
        for fig in re.findall(r"<figure[^>]*>.*?</figure>", text, re.S):
            figures += 1
            alt = re.search(r'<img[^>]*\balt="([^"]*)"', fig)
            caption = re.search(r"<figcaption>(.*?)</figcaption>", fig, re.S)
            for what, value in (("alt text", alt.group(1) if alt else ""),
                                ("caption", re.sub(r"<[^>]+>", "", caption.group(1)) if caption else "")):
                if not cjk.search(value):
                    problems.append(f"{rel}: {what} not translated: {value.strip()[:70]!r}")
    assert figures >= 20, f"only {figures} figures on the Chinese pages"
    assert not problems, "\n".join(problems)


def test_math_is_typeset_in_the_html(html_dir):
    """Math is typeset when the site is built (KaTeX): every page with math holds KaTeX's
    output and loads KaTeX's CSS from _static/katex, whose fonts exist; no page loads a
    math script (MathJax or KaTeX's JavaScript) or shows a KaTeX error."""
    katex = html_dir / "_static" / "katex"
    assert (katex / "katex.min.css").is_file()
    fonts = {url.split("/")[-1] for url in css_urls((katex / "katex.min.css").read_text(encoding="utf-8"))}
    missing = sorted(f for f in fonts if not (katex / "fonts" / f).is_file())
    assert fonts and not missing, f"KaTeX fonts named by its CSS but not served: {missing}"
    pages_with_math = 0
    for page in site_pages(None):
        text = (html_dir / page).read_text(encoding="utf-8")
        assets = page_assets(html_dir / page)
        math_scripts = [s for s in assets.scripts if re.search(r"mathjax|katex|tex-", s, re.I)]
        assert not math_scripts, f"{page} loads a math script: {math_scripts}"
        assert "katex-error" not in text, f"{page} shows a KaTeX error"
        nodes = len(re.findall(r'<(?:span|div) class="math[ "]', text))
        if nodes:
            pages_with_math += 1
            typeset = text.count('<span class="katex">')
            assert typeset >= nodes, f"{page}: {nodes} math nodes, {typeset} typeset by KaTeX"
            css = [u for what, u in assets.assets if u.split("?")[0].endswith("katex/katex.min.css")]
            assert css and not any(is_external(u) for u in css), f"{page} does not load _static/katex/katex.min.css"
    assert pages_with_math > 0, "no page has math: is dollarmath enabled?"


def _playwright_or_skip():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found; enable the browser test with: apt-get install -y chromium")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("playwright is not installed; pip install playwright (never 'playwright install')")
    return async_playwright


#: The ways the browser test looks at every page. Each page is loaded once (light,
#: desktop size, empty cache: the cold load that is timed), then looked at again on a
#: phone-sized screen, and switched to dark mode there with the theme's own button
#: (each change of screen size lays the page out again, which is most of the test's
#: time; the colours do not depend on the screen size). The English pages of the table
#: of contents are then printed for the whole-course PDF (scripts/book_pdf.py).
VIEWS = [("light", "desktop"), ("light", "phone"), ("dark", "phone")]
#: The Chinese pages: the same CSS and the same formulas as the English ones, so they are
#: loaded straight at phone size (what issue 15 asks of them: math typeset, nothing wider
#: than a phone, no other host), light and dark.
VIEWS_ZH = [("light", "phone"), ("dark", "phone")]


def views_for(rel: str) -> list[tuple[str, str]]:
    return VIEWS if edition_of(rel) == "en" else VIEWS_ZH
#: Pages also loaded in a real phone emulation (touch, 2x screen, mobile viewport),
#: dark from the first paint: the home page, a chapter, the two widest reference pages.
PHONE_PAGES = ["book/intro.html", "book/ch08_capstone.html", "book/errata.html", "book/api.html",
               "zh_CN/book/intro.html", "zh_CN/book/ch05_delta_recursion.html"]
#: Pages on which the phone navigation buttons are clicked.
NAV_PAGES = {"book/intro.html", "book/ch08_capstone.html", "book/api.html", "zh_CN/book/intro.html"}
#: Pages whose language switch is clicked, there and back (desktop and phone).
SWITCH_PAGES = ["book/ch05_delta_recursion.html", "zh_CN/book/errata.html"]
#: Search query, per edition, whose results include pages full of math (their summaries
#: must not show TeX); the Chinese one needs the Chinese word segmentation (jieba).
SEARCH_QUERY = {"en": "gradient", "zh_CN": "梯度"}
_TEX_IN_TEXT = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\(frac|partial|delta|mathbf|sum|begin)\b")


async def _phone_navigation(page):
    """Click the visible site-navigation and page-contents buttons; return problems."""
    problems = []
    checks = (
        ("primary", "site navigation", "#pst-primary-sidebar-modal", "nav.bd-docs-nav a.reference"),
        ("secondary", "page contents", "#pst-secondary-sidebar-modal", "#pst-page-toc-nav a"),
    )
    for which, name, modal, links in checks:
        button = page.locator(f".{which}-toggle").filter(visible=True)
        if await button.count() == 0:
            if which == "primary":
                problems.append(f"no visible {name} button")
            continue
        await button.first.click()
        try:
            await page.wait_for_selector(f"dialog{modal}[open] {links}", state="visible", timeout=2000)
        except Exception:  # noqa: BLE001 - reported
            problems.append(f"clicking the visible {name} button did not show the {name}")
            continue
        shown = await page.evaluate(
            """([modal, links]) => [...document.querySelectorAll(`dialog${modal}[open] ${links}`)]
                 .filter(a => { const r = a.getBoundingClientRect();
                                return r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= innerWidth + 1; })
                 .length""",
            [modal, links],
        )
        if which == "primary" and shown < 8:
            problems.append(f"the {name} shows {shown} links within the screen (expected every chapter)")
        if which == "secondary" and shown < 1:
            problems.append(f"the {name} shows no link")
        await page.keyboard.press("Escape")
        await page.wait_for_function(f"() => !document.querySelector('dialog{modal}[open]')", timeout=3000)
    return problems


async def _new_context(browser, data, mode, phone):
    options = {"viewport": PHONE if phone else DESKTOP}
    if phone:  # a phone: touch, high-density screen, mobile viewport rules
        options.update(device_scale_factor=2, is_mobile=True, has_touch=True)
    context = await browser.new_context(**options)
    # pydata-sphinx-theme reads both keys from localStorage before first paint
    await context.add_init_script(
        f"try {{ localStorage.setItem('mode', '{mode}'); "
        f"localStorage.setItem('theme', '{mode}'); }} catch (e) {{}}"
    )

    async def route(route_, request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            data["external"].add(request.url)
            await route_.abort()
        else:
            await route_.continue_()

    await context.route("**/*", route)
    page = await context.new_page()
    events: list[str] = []
    page.on("console", lambda m: events.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: events.append(f"pageerror: {e}"))
    page.on("response", lambda r: events.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    return context, page, events


async def _load(page, base, rel, where, data):
    """Load a page and run the content probe; None (and failures noted) if it failed."""
    failures = data["failures"]
    url = base + rel + (f"?q={SEARCH_QUERY[edition_of(rel)]}" if rel.endswith("search.html") else "")
    response = await page.goto(url, wait_until="load", timeout=120_000)
    data["visits"] += 1
    if response is None or response.status != 200:
        failures.append(f"{where}: status {response.status if response else None}")
        return None
    try:
        info = await page.evaluate(PAGE_PROBE_JS)
    except Exception as exc:  # noqa: BLE001 - reported
        failures.append(f"{where}: page probe failed: {str(exc).splitlines()[0]}")
        return None
    if info["untypeset"]:
        failures.append(f"{where}: math not typeset: {info['untypeset'][:3]}")
    if info["typeset"] < info["mathNodes"]:
        failures.append(f"{where}: {info['typeset']} typeset formulas < {info['mathNodes']} math nodes")
    if info["withoutMathml"]:
        failures.append(f"{where}: {info['withoutMathml']} formulas without MathML for screen readers")
    if info["fontErrors"]:
        failures.append(f"{where}: KaTeX fonts failed to load: {sorted(set(info['fontErrors']))}")
    if info["mathErrors"]:
        failures.append(f"{where}: {info['mathErrors']} KaTeX errors")
    if info["leftoverTex"]:
        failures.append(f"{where}: raw TeX left in the text: {info['leftoverTex'][:3]}")
    if info["brokenImages"]:
        failures.append(f"{where}: images not loaded: {info['brokenImages']}")
    return info


def _check_colours(layout, mode, where, failures):
    if layout["theme"] != mode:
        failures.append(f"{where}: html[data-theme] is {layout['theme']!r}")
    if mode == "dark" and layout["mathColor"] and layout["mathColor"] != layout["bodyColor"]:
        failures.append(f"{where}: math colour {layout['mathColor']} differs from text {layout['bodyColor']}")


async def _switch_to_dark(page):
    """Press the theme's light/dark button until the page is dark (at most 3 presses)."""
    # the visible copy of the button, clicked through the DOM (a pointer click can be
    # held up by the theme's tooltips or the "back to top" button on a small screen)
    press = """() => { const b = [...document.querySelectorAll('.theme-switch-button')]
                          .find(b => b.getClientRects().length > 0);
                       if (b) b.click(); return !!b; }"""
    for _ in range(3):
        if await page.evaluate("() => document.documentElement.dataset.theme") == "dark":
            return True
        if not await page.evaluate(press):
            return False
        await page.wait_for_timeout(20)
    return await page.evaluate("() => document.documentElement.dataset.theme") == "dark"


async def _every_page(browser, base, queue, data):
    """Pages from ``queue`` until it is empty: one cold load each (light, at the size of
    its first view), then its views; two of these run at once (one core each)."""
    context, page, events = await _new_context(browser, data, "light", phone=False)
    cdp = await context.new_cdp_session(page)  # every load is a cold one: no HTTP cache
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    failures = data["failures"]
    while not queue.empty():
        rel = queue.get_nowait()
        views = views_for(rel)
        events.clear()
        t0 = time.monotonic()
        await page.set_viewport_size(DESKTOP if views[0][1] == "desktop" else PHONE)
        info = await _load(page, base, rel, f"[light/{views[0][1]}] {rel}", data)
        if info is None:
            failures.extend(f"[light/desktop] {rel}: {e}" for e in events)
            continue
        data["math"] += info["typeset"]
        data["images"] += info["images"] - len(info["brokenImages"])
        data["weights"][rel] = await page.evaluate(WEIGHT_PROBE_JS)
        if rel.endswith("search.html"):
            await _check_search(page, rel, data)
        icons = await page.evaluate(ICON_PROBE_JS)
        if icons["icons"] and (icons["drawn"] < icons["icons"] or not icons["fontLoaded"]):
            failures.append(f"[light/desktop] {rel}: {icons['icons'] - icons['drawn']} of "
                            f"{icons['icons']} header icons not drawn")
        for mode, size in views:
            where = f"[{mode}/{size}] {rel}"
            if mode == "dark" and not await _switch_to_dark(page):
                failures.append(f"{where}: the theme button did not switch to dark mode")
                break
            if page.viewport_size != (PHONE if size == "phone" else DESKTOP):
                await page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
            layout = await page.evaluate(LAYOUT_PROBE_JS, (PHONE if size == "phone" else DESKTOP)["width"])
            data["layout"][(mode, size, rel)] = layout
            _check_colours(layout, mode, where, failures)
            if size == "phone" and mode == "light" and rel in NAV_PAGES:
                failures.extend(f"{where}: {p}" for p in await _phone_navigation(page))
        await page.wait_for_timeout(30)  # let late console messages arrive
        failures.extend(f"[light/desktop] {rel}: {e}" for e in events)
        doc = rel.removesuffix(".html")
        if doc in data["pdf_docs"]:  # last: printing changes the page's ids and links
            t1 = time.monotonic()
            await print_page(page, doc, data["pdf_parts"][doc])
            data["pdf_seconds"] += time.monotonic() - t1
            # leave the changed page (the theme's scroll handlers look up the renamed ids:
            # errors of our making)
            await page.goto("about:blank")
            events.clear()
        data["page_seconds"][rel] = time.monotonic() - t0
    await context.close()


async def _phone_pages(browser, base, data):
    """A few pages in a real phone emulation, dark from the first paint."""
    context, page, events = await _new_context(browser, data, "dark", phone=True)
    failures = data["failures"]
    for rel in PHONE_PAGES:
        events.clear()
        where = f"[dark/phone, first paint] {rel}"
        info = await _load(page, base, rel, where, data)
        if info is not None:
            layout = await page.evaluate(LAYOUT_PROBE_JS, PHONE["width"])
            _check_colours(layout, "dark", where, failures)
            if layout["pageWidth"] > layout["viewport"]:
                failures.append(f"{where}: page is {layout['pageWidth']} px wide on a "
                                f"{layout['viewport']} px screen: " + "; ".join(layout["wideElements"]))
            if rel in NAV_PAGES:
                failures.extend(f"{where}: {p}" for p in await _phone_navigation(page))
        await page.wait_for_timeout(30)
        failures.extend(f"{where}: {e}" for e in events)
    await context.close()


def twin(rel: str) -> str:
    """The same page in the other edition."""
    return rel[len(EDITIONS["zh_CN"]):] if edition_of(rel) == "zh_CN" else EDITIONS["zh_CN"] + rel


async def _switch_languages(browser, base, data):
    """Click the language switch in the article header (phone and desktop): it opens the
    same page in the other edition, in place, with the right lang attribute, and back."""
    for phone in (False, True):
        context, page, events = await _new_context(browser, data, "light", phone=phone)
        for rel in SWITCH_PAGES:
            where = f"[switch, {'phone' if phone else 'desktop'}] {rel}"
            await page.goto(base + rel, wait_until="load")
            for target in (twin(rel), rel):
                button = page.locator("a.btn-edition-switch-button").filter(visible=True)
                if await button.count() != 1:
                    data["failures"].append(f"{where}: {await button.count()} visible language switches")
                    break
                async with page.expect_navigation(wait_until="load"):
                    await button.first.click()
                landed = page.url.removeprefix(base)
                lang = await page.evaluate("() => document.documentElement.lang")
                if landed != target or lang != LANG_ATTRIBUTES[edition_of(target)]:
                    data["failures"].append(f"{where}: the switch led to {landed} (lang={lang!r}), "
                                            f"expected {target} (lang={LANG_ATTRIBUTES[edition_of(target)]!r})")
                    break
                data["switches"] = data.get("switches", 0) + 1
        data["failures"].extend(f"[switch] {e}" for e in events)
        await context.close()


async def _check_search(page, rel, data):
    where = f"[light/desktop] {rel}"
    try:
        await page.wait_for_function(
            # the summary ("... found 12 pages", "... 有 12 个页面匹配") appears when done
            "() => /\\d/.test((document.querySelector('#search-results .search-summary') || {}).textContent || '')",
            timeout=30_000,
        )
        summaries = await page.eval_on_selector_all("#search-results p.context", "ps => ps.map(p => p.textContent)")
    except Exception:  # noqa: BLE001 - reported as a failure
        summaries = []
    if not summaries:
        data["failures"].append(f"{where}: the search for {SEARCH_QUERY[edition_of(rel)]!r} found nothing")
    data.setdefault("search_summaries", {})[rel] = len(summaries)
    for text in summaries:
        if _TEX_IN_TEXT.search(text):
            data["failures"].append(f"{where}: a search result shows raw TeX: {text[:120]!r}")


@pytest.fixture(scope="session")
def browser_run(html_dir):
    """Every page in chromium at phone and desktop size, light and dark: the raw
    results (one run per session; the tests below each assert one aspect)."""
    async_playwright = _playwright_or_skip()
    pages = site_pages(None)
    docs = toc_documents()
    parts = html_dir.parent / "pdf-parts"
    parts.mkdir(parents=True, exist_ok=True)
    data = {"failures": [], "external": set(), "visits": 0, "math": 0, "images": 0,
            "layout": {}, "weights": {}, "pages": pages, "page_seconds": {},
            "pdf_docs": docs, "pdf_parts": {doc: parts / f"{i:02d}.pdf" for i, doc in enumerate(docs)},
            "pdf_seconds": 0.0}
    # two browser tabs take the pages from one queue (one core each)
    queue = asyncio.Queue()
    for rel in pages:
        queue.put_nowait(rel)

    async def run(base):
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                await asyncio.gather(*(_every_page(browser, base, queue, data) for _ in range(2)),
                                     _phone_pages(browser, base, data), _switch_languages(browser, base, data))
            finally:
                await browser.close()

    start = time.monotonic()
    with serve(html_dir) as base:
        asyncio.run(run(base))
    data["seconds"] = time.monotonic() - start
    printed = [data["pdf_parts"][doc] for doc in docs if data["pdf_parts"][doc].is_file()]
    if len(printed) == len(docs):
        t0 = time.monotonic()
        data["pdf"] = merge(printed, html_dir / COURSE_PDF)
        data["pdf_seconds"] += time.monotonic() - t0
    return data


def test_pages_in_browser(browser_run, record_property, capsys, timings):
    """Every page, phone and desktop, light and dark: loads, math typeset, images load,
    icons drawn, search results without TeX, no errors, no requests to other hosts."""
    data = browser_run
    pages = data["pages"]
    summary = (
        f"browser check: {len(pages)} pages, {len(data['layout'])} views (English: desktop light, phone light "
        "and dark; Chinese: phone light and dark) "
        f"in {data['seconds']:.1f} s, {data['math']} math elements typeset, "
        f"{data['images']} images loaded, {len(data['external'])} external requests; slowest: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(data["page_seconds"].items(), key=lambda kv: -kv[1])[:4])
    )
    record_property("browser_summary", summary)
    timings("browser_test_s", data["seconds"])
    _report(capsys, summary)
    expected = len(pages) + len(PHONE_PAGES)
    assert data["visits"] == expected, f"loaded {data['visits']} of {expected} pages"
    assert data.get("switches") == 2 * 2 * len(SWITCH_PAGES), f"language switches followed: {data.get('switches')}"
    assert len(data["layout"]) == sum(len(views_for(rel)) for rel in pages), "not every page was measured in every view"
    failures = list(data["failures"])
    if data["external"]:
        failures.append("external requests (aborted): " + ", ".join(sorted(data["external"])[:10]))
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(sorted(failures))


def test_no_page_wider_than_the_screen(browser_run):
    """No page scrolls sideways, on a phone or a desktop (only an equation may, inside its box)."""
    wide = [
        f"[{mode}/{size}] {rel}: page is {lay['pageWidth']} px wide on a {lay['viewport']} px screen; "
        + "; ".join(lay["wideElements"])
        for (mode, size, rel), lay in sorted(browser_run["layout"].items())
        if lay["pageWidth"] > lay["viewport"]
    ]
    assert not wide, "\n".join(wide)


def _overflowing(browser_run, size):
    """{(page, label or number): equation} that need horizontal scrolling at ``size``."""
    found = {}
    for (mode, sz, rel), lay in browser_run["layout"].items():
        if sz == size and mode == "light":
            for eq in lay["equations"]:
                found[(rel, eq["label"] or eq["number"] or eq["tex"][:40])] = eq
    return found


def test_equations_fit_on_a_desktop(browser_run, capsys):
    """No display equation needs horizontal scrolling at desktop width; on a phone the
    few that must scroll do so visibly (scrollbar and edge shadow), never clipped.
    The phone ones are reported (scripts/overflowing_equations.py lists them too)."""
    desktop = _overflowing(browser_run, "desktop")
    phone = _overflowing(browser_run, "phone")
    lines = [f"  {rel}: {eq['number'] or '(unnumbered)'} {eq['label']} +{eq['overflow']} px  {eq['tex'][:60]}"
             for (rel, _), eq in sorted(phone.items())]
    _report(capsys, f"display equations that scroll on a {PHONE['width']} px phone: {len(phone)}"
            + ("\n" + "\n".join(lines) if lines else ""))
    hidden = [f"{rel}: {eq['number']} {eq['label']} scrolls={eq['scrolls']} hinted={eq['hinted']} clipped={eq['clipped']}"
              for (rel, _), eq in sorted({**desktop, **phone}.items())
              if not eq["scrolls"] or not eq["hinted"] or eq["clipped"]]
    assert not hidden, "equations cut off instead of visibly scrolling:\n" + "\n".join(hidden)
    assert not desktop, (
        f"{len(desktop)} display equations need horizontal scrolling at {DESKTOP['width']} px; "
        "break them with aligned/split (list them with scripts/overflowing_equations.py):\n"
        + "\n".join(f"  {rel}: {eq['number'] or '(unnumbered)'} {eq['label']} +{eq['overflow']} px  {eq['tex'][:80]}"
                    for (rel, _), eq in sorted(desktop.items()))
    )


_PATH_LIKE = re.compile(r"(^|/)[\w.-]+\.(png|jpe?g|svg|gif|webp)$|/|^_images|jupyter_execute", re.I)


def test_figures_have_alt_text_and_captions_and_fit_a_phone(browser_run):
    """Every content image: real alt text (not a file path), a numbered caption; on a
    390 px phone no image is wider than the text column."""
    problems = []
    for (mode, size, rel), lay in sorted(browser_run["layout"].items()):
        for img in lay["images"]:
            what = f"{rel}: image {img['src']}"
            if (mode, size) == ("light", "desktop"):
                if not img["alt"].strip() or _PATH_LIKE.search(img["alt"].strip()):
                    problems.append(f"{what}: alt text {img['alt']!r} does not describe the picture")
                if not img["caption"]:
                    problems.append(f"{what}: no caption (cell metadata mystnb.figure.caption)")
                elif not img["number"]:
                    problems.append(f"{what}: caption is not numbered (give the figure a name)")
            if size == "phone" and img["column"] and img["width"] > img["column"] + 0.5:
                problems.append(f"[{mode}/{size}] {what}: {img['width']} px wide in a {img['column']} px column")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


#: Budget for one chapter page with everything it loads (HTML with its typeset math,
#: CSS, scripts, fonts, images), cold and uncompressed (the test server sends no gzip; a web
#: host's compression roughly halves it). It was 4.3 MB with the theme's icon script.
PAGE_WEIGHT_BUDGET = 3_500_000


def test_page_speed_and_weight(browser_run, capsys, timings, record_property):
    """Median cold load time of a chapter page (its math is typeset in the HTML, so it
    shows at first paint) and the chapter page weight (reported); no chapter page over
    the budget."""
    chapters = [rel for rel in browser_run["pages"] if re.search(r"/ch\d\d_", rel)]
    weights = browser_run["weights"]
    loaded = [weights[rel]["loadedAt"] for rel in chapters if weights.get(rel, {}).get("loadedAt")]
    sizes = {rel: weights[rel]["bytes"] for rel in chapters if rel in weights}
    assert loaded, "no chapter page recorded its load time"
    median_ms = statistics.median(loaded)
    heaviest = max(sizes, key=sizes.get)
    line = (f"chapter pages, cold: loaded (math included) after median {median_ms:.0f} ms "
            f"(min {min(loaded):.0f}, max {max(loaded):.0f}); weight median "
            f"{statistics.median(sizes.values()) / 1e6:.2f} MB, heaviest {heaviest} "
            f"{sizes[heaviest] / 1e6:.2f} MB (largest files: "
            + ", ".join(f"{u.split('/')[-1]} {b / 1e3:.0f} kB" for u, b in weights[heaviest]["largest"][:3]) + ")")
    record_property("page_speed", line)
    timings("chapter_load_median_ms", median_ms)
    _report(capsys, line)
    over = {rel: b for rel, b in sizes.items() if b > PAGE_WEIGHT_BUDGET}
    assert not over, f"chapter pages over {PAGE_WEIGHT_BUDGET / 1e6:.1f} MB: {over}"


def test_toc_lists_root_first():
    docs = toc_documents()
    assert docs[0] == "book/intro"
    assert "book/bibliography" in docs and "book/api" in docs


# ------------------------------------------------------------------ numbering

def _page_title(html: str) -> str:
    """The article's own <h1> (not the print-only copy the theme puts above it)."""
    for h1 in re.findall(r"<h1>(.*?)</h1>", html, re.S):
        if "headerlink" in h1:
            return h1
    return ""


def test_equation_and_figure_numbers_carry_the_chapter(html_dir):
    """Chapter N's display equations are numbered (N.k), its figures "Fig. N.k", its
    title "N. ..."; every equation reference shows the number of the equation it links."""
    numbers = {f"{doc}.html": n for doc, n in chapter_numbers().items()}
    eqno = {}  # (page, anchor) -> "(N.k)"
    problems = []
    pages = {rel: (html_dir / rel).read_text(encoding="utf-8") for rel in site_pages()[:-len(EXTRA_PAGES)]}
    for rel, text in pages.items():
        for anchor, number in re.findall(r'id="(equation-[^"]+)">\s*<span class="eqno">\(([^)]*)\)', text):
            eqno[(rel, anchor)] = number
        if rel not in numbers:
            continue
        n = numbers[rel]
        title = _page_title(text)
        if not re.search(rf'<span class="section-number">{n}\. </span>', title):
            problems.append(f"{rel}: the title is not numbered {n}.")
        for number in re.findall(r'<span class="eqno">\(([^)]*)\)', text):
            if not re.fullmatch(rf"{n}\.\d+", number):
                problems.append(f"{rel}: equation number ({number}) does not start with chapter {n}")
        for number in re.findall(r'<span class="caption-number">Fig\. ([^ <]*) </span>', text):
            if not re.fullmatch(rf"{n}\.\d+", number):
                problems.append(f"{rel}: figure number {number} does not start with chapter {n}")
    links = 0
    for rel, text in pages.items():
        for href, shown in re.findall(r'<a class="reference internal" href="([^"]*#equation-[^"]+)">([^<]*)</a>', text):
            page, anchor = href.split("#")
            target = rel if not page else str((Path(rel).parent / page).as_posix())
            target = re.sub(r"[^/]+/\.\./", "", target)
            links += 1
            expected = eqno.get((target, anchor))
            if expected is None:
                problems.append(f"{rel}: a link to {href} finds no numbered equation")
            elif shown.strip() != f"({expected})":
                problems.append(f"{rel}: the link to {href} reads {shown!r}, the equation is ({expected})")
    assert links > 0, "no equation reference found"
    assert not problems, "\n".join(problems)


# -------------------------------------------------- work-arounds of upstream bugs

def test_theme_still_binds_hidden_toggle():
    """book/_static/site.js works around pydata-sphinx-theme #2451 / sphinx-book-theme
    #988 (the sidebar buttons' handlers are bound to a hidden copy). When this test
    fails, the installed themes bind every copy: delete block 1 of site.js."""
    import pydata_sphinx_theme
    import sphinx_book_theme

    scripts = [
        Path(pydata_sphinx_theme.__file__).parent / "theme/pydata_sphinx_theme/static/scripts/pydata-sphinx-theme.js",
        Path(sphinx_book_theme.__file__).parent / "theme/sphinx_book_theme/static/scripts/sphinx-book-theme.js",
    ]
    for script in scripts:
        assert 'querySelector(".primary-toggle")' in script.read_text(encoding="utf-8"), (
            f"{script.name} no longer binds only the first .primary-toggle: upstream fixed "
            "pydata-sphinx-theme #2451 / sphinx-book-theme #988; remove the work-around in book/_static/site.js"
        )


def test_upstream_still_duplicates_inline_scripts(tmp_path):
    """book/_ext/site_fixes.py de-duplicates page scripts because of sphinx-doc/sphinx
    #13402: an inline script added with add_js_file(None, body=...) after the builder
    is initialised appears twice. A minimal Sphinx project without the fix shows it;
    when this test fails, the installed Sphinx is fixed: remove ``_dedupe``."""
    from sphinx.application import Sphinx

    (tmp_path / "conf.py").write_text(
        "def setup(app):\n"
        "    app.connect('builder-inited', lambda app: app.add_js_file(None, body='const ONCE = 1;'))\n"
    )
    (tmp_path / "index.rst").write_text("Title\n=====\n\nText.\n")
    app = Sphinx(str(tmp_path), str(tmp_path), str(tmp_path / "out"), str(tmp_path / "doctrees"),
                 "html", status=None, warning=None, freshenv=True)
    app.build()
    count = (tmp_path / "out" / "index.html").read_text().count("const ONCE = 1;")
    assert count == 2, (
        f"the inline script appears {count} time(s): Sphinx no longer has bug #13402; "
        "remove _dedupe from book/_ext/site_fixes.py"
    )


# ------------------------------------------------------------------ the PDF

def test_whole_course_pdf(browser_run, html_dir, capsys, timings, record_property):
    """The whole-course PDF (printed by the browser test page by page, merged in the
    order of the table of contents) has every page of the course, each starting where
    the links between pages jump to; no such link is left unresolved; every page links
    the PDF."""
    assert "pdf" in browser_run, "not every page of the table of contents was printed"
    counts = browser_run["pdf"]
    summary = pdf_summary(html_dir / COURSE_PDF)
    docs = toc_documents()
    missing = [doc for doc in docs if f"{doc.replace('/', '_')}--top" not in summary["destinations"]]
    line = (f"whole-course PDF: {summary['pages']} pages, {summary['bytes'] / 1e6:.1f} MB, "
            f"{len(docs) - len(missing)} of {len(docs)} pages of the course, "
            f"{counts['links_between_pages']} links between pages, printed and merged in "
            f"{browser_run['pdf_seconds']:.1f} s (within the browser test)")
    record_property("pdf", line)
    timings("pdf_s", browser_run["pdf_seconds"])
    _report(capsys, line)
    assert not missing, f"pages missing from the PDF: {missing}"
    assert counts["unresolved"] == 0, counts
    assert counts["links_between_pages"] > 100, counts
    assert summary["pages"] >= 10 * len(chapter_numbers()), summary["pages"]
    unlinked = [rel for rel in site_pages("en")[:-len(EXTRA_PAGES)] + site_pages("zh_CN")[:-len(EXTRA_PAGES)]
                if COURSE_PDF not in (html_dir / rel).read_text(encoding="utf-8")]
    assert not unlinked, f"pages without a link to the PDF: {unlinked}"
