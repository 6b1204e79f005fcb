"""List the display equations that need horizontal scrolling, page by page.

Opens every page of a built site in headless Chromium, once at desktop width
(1280 px, where no equation may scroll: the browser test fails on any) and once at
phone width (390 px, where the few that cannot fit scroll inside their own box), and
prints each equation that is wider than the text column, with its number, label,
how many pixels it lacks, and the start of its TeX. Uses the same measurement as the
browser test (tests/site_helpers.py: LAYOUT_PROBE_JS).

Usage (after a build):

    .venv/bin/python scripts/overflowing_equations.py                        # _build/html
    .venv/bin/python scripts/overflowing_equations.py /tmp/build-me/_build/html
    .venv/bin/python scripts/overflowing_equations.py --pages ch05 ch07     # only these pages

Break a long equation with ``\\begin{aligned} ... \\end{aligned}`` (or split it into
two) so that it fits the column (about 700 px at desktop width). Exit status 1 if
any equation scrolls at desktop width.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from site_helpers import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    LAYOUT_PROBE_JS,
    PAGE_PROBE_JS,
    PHONE,
    serve,
    site_pages,
)


async def measure(html: Path, pages: list[str]) -> dict:
    from playwright.async_api import async_playwright

    results = {}
    with serve(html) as base:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = await (await browser.new_context(viewport=DESKTOP)).new_page()
                for rel in pages:
                    await page.set_viewport_size(DESKTOP)
                    await page.goto(base + rel, wait_until="load", timeout=120_000)
                    await page.evaluate(PAGE_PROBE_JS)  # loads images and fonts
                    for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
                        await page.set_viewport_size(size)
                        layout = await page.evaluate(LAYOUT_PROBE_JS, size["width"])
                        results[(rel, name)] = layout["equations"]
            finally:
                await browser.close()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("html", nargs="?", type=Path, default=REPO / "_build" / "html",
                        help="the built site (default: _build/html)")
    parser.add_argument("--pages", nargs="*", default=None,
                        help="only pages whose path contains one of these strings")
    args = parser.parse_args(argv)
    if not (args.html / "index.html").exists():
        parser.error(f"{args.html} holds no built site; build it first (see README)")
    if not CHROMIUM.exists():
        parser.error(f"{CHROMIUM} not found: apt-get install -y chromium")
    pages = [p for p in site_pages() if p.endswith(".html") and p.startswith("book/")]
    if args.pages:
        pages = [p for p in pages if any(s in p for s in args.pages)]
    results = asyncio.run(measure(args.html, pages))
    totals = {"desktop": 0, "phone": 0}
    for rel in pages:
        lines = []
        for name, width in (("desktop", DESKTOP["width"]), ("phone", PHONE["width"])):
            for eq in results.get((rel, name), []):
                totals[name] += 1
                what = eq["number"] or "(unnumbered)"
                where = eq["label"] or f"in section #{eq['section']}"
                lines.append(f"  {name:7s} {width:4d} px  {what:12s} {where:28s} +{eq['overflow']:3d} px  {eq['tex'][:70]}")
        if lines:
            print(rel)
            print("\n".join(lines))
    print(f"\n{totals['desktop']} equations scroll at desktop width ({DESKTOP['width']} px), "
          f"{totals['phone']} on a phone ({PHONE['width']} px), over {len(pages)} pages")
    return 1 if totals["desktop"] else 0


if __name__ == "__main__":
    sys.exit(main())
