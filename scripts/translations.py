"""Message catalogs of the Chinese edition: update them, and check them.

Usage:

    .venv/bin/python scripts/translations.py update   # after changing English text
    .venv/bin/python scripts/translations.py check    # what the test command checks
    .venv/bin/python scripts/translations.py check ch05_delta_recursion.po   # one catalog

``update`` extracts every translatable message of the book (Sphinx's gettext builder,
through Jupyter Book's configuration) into ``_build/gettext/*.pot`` and merges them into
``locale/zh_CN/LC_MESSAGES/<page>.po`` with sphinx-intl: a new paragraph arrives
untranslated, a changed one arrives *fuzzy* (its old translation kept as a hint). Then
translate every untranslated or fuzzy entry (and remove the ``fuzzy`` flag) until
``check`` reports nothing.

``check`` fails on untranslated or fuzzy messages, and on a translation that does not
keep exactly the roles, math, inline code and plain-text numbers of its English source
(same ``{glue}`` keys, same ``{eq}``/``{doc}``/``{chapter}`` targets, same ``$...$``
spans, same `` `code` ``, same numbers), so no number can be typed or lost in
translation. The one addition allowed is a quotation of a source in its own words,
marked ``{src}`...``` as in the English pages. Messages made only of
math, roles and code are filled in by ``update`` (their translation is the source).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LANGUAGE = "zh_CN"
LOCALE = REPO / "locale"
CATALOGS = LOCALE / LANGUAGE / "LC_MESSAGES"
POT_DIR = REPO / "_build" / "gettext"

# {role}`target` and {role}`text <target>`; $$...$$ and $...$ math; `code`
_ROLE = re.compile(r"\{([a-z:]+)\}`([^`]*)`")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.S)
_CODE = re.compile(r"(?<![`}])`([^`\n]+)`(?!`)")
#: Roles whose visible text is translated (only their target must be kept).
_TEXT_ROLES = {"doc", "ref", "chapter", "numref"}
#: A number in plain text (outside roles, math and code).
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _role_key(role: str, body: str) -> str:
    m = re.search(r"<([^<>]+)>\s*$", body)
    if role in _TEXT_ROLES and m:
        return f"{{{role}}}<{m.group(1)}>"
    return f"{{{role}}}`{body}`"


def _plain(text: str) -> str:
    return _CODE.sub(" ", _MATH.sub(" ", _ROLE.sub(" ", text)))


def _visible(text: str) -> str:
    """The plain text plus the visible text of the roles whose text is translated."""
    shown = [re.sub(r"<[^<>]+>\s*$", "", b) for r, b in _ROLE.findall(text)
             if r in _TEXT_ROLES and re.search(r"<[^<>]+>\s*$", b)]
    return _plain(text) + " " + " ".join(shown)


def invariants(text: str) -> list[str]:
    """The parts of a message that a translation must keep exactly, sorted: roles
    (the target only, for roles whose text is translated), math, inline code, and the
    numbers of the plain text. Quotations of a source ({src}) a translation may add."""
    keys = [_role_key(r, b) for r, b in _ROLE.findall(text) if r != "src"]
    rest = _ROLE.sub(" ", text)
    keys += _MATH.findall(rest)
    rest = _MATH.sub(" ", rest)
    keys += [f"`{c}`" for c in _CODE.findall(rest)]
    keys += [f"number {n}" for n in _NUMBER.findall(_plain(text))]
    return sorted(keys)


def _quotes(text: str) -> set[str]:
    return {b for r, b in _ROLE.findall(text) if r == "src"}


def only_invariants(text: str) -> bool:
    """True if the message is nothing but math, roles, code and punctuation (the visible
    text of a {chapter}, {doc}, {ref} or {numref} role is text to translate)."""
    return not re.search(r"[A-Za-z]{2,}", _visible(text))


def _catalogs(directory: Path = CATALOGS):
    import polib

    return {po: polib.pofile(str(po), wrapwidth=0) for po in sorted(directory.rglob("*.po"))}


def problems(only=(), directory: Path = CATALOGS) -> list[str]:
    """Every untranslated, fuzzy or unfaithful message, one line each (of the catalogs
    whose file names are in ``only``, if given)."""
    found = []
    catalogs = {po: cat for po, cat in _catalogs(directory).items() if not only or po.name in only}
    if not catalogs:
        return [f"no catalogs under {directory}: run scripts/translations.py update"]
    for po, cat in catalogs.items():
        rel = po.relative_to(directory)
        for entry in cat:
            if entry.obsolete:
                continue
            head = entry.msgid[:70].replace("\n", " ")
            if not entry.msgstr:
                found.append(f"{rel}: untranslated: {head!r}")
            elif "fuzzy" in entry.flags:
                found.append(f"{rel}: fuzzy (the English changed): {head!r}")
            elif (invariants(entry.msgid) != invariants(entry.msgstr)
                  or not _quotes(entry.msgid) <= _quotes(entry.msgstr)):
                lost = sorted(set(invariants(entry.msgid)) - set(invariants(entry.msgstr)))
                added = sorted(set(invariants(entry.msgstr)) - set(invariants(entry.msgid)))
                found.append(f"{rel}: roles/math/code differ from the English: {head!r}; "
                             f"missing {lost[:3]}, added {added[:3]}")
    return found


def update() -> None:
    """Extract the messages and merge them into the catalogs (see the module docstring)."""
    from jupyter_book.sphinx import build_sphinx

    start = time.monotonic()
    code = build_sphinx(str(REPO), str(POT_DIR), noconfig=True, path_config=str(REPO / "_config.yml"),
                        confoverrides={"external_toc_path": str(REPO / "_toc.yml"), "latex_individualpages": False},
                        doctreedir=str(REPO / "_build" / ".doctrees-gettext"), builder="gettext",
                        freshenv=True, force_all=True, quiet=True)
    if code:
        sys.exit(f"gettext build failed: {code}")
    subprocess.run([sys.executable, "-m", "sphinx_intl", "update", "-p", str(POT_DIR), "-d", str(LOCALE),
                    "-l", LANGUAGE, "-w", "0"], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    filled = 0
    for po, cat in _catalogs().items():
        changed = False
        for entry in cat:
            if not entry.obsolete and only_invariants(entry.msgid) and entry.msgstr != entry.msgid:
                entry.msgstr = entry.msgid
                if "fuzzy" in entry.flags:
                    entry.flags.remove("fuzzy")
                filled += 1
                changed = True
        # obsolete entries (English text that is gone) are dropped, not kept as #~
        obsolete = [e for e in cat if e.obsolete]
        for entry in obsolete:
            cat.remove(entry)
        if changed or obsolete:
            cat.save(str(po))
    left = problems()
    print(f"catalogs updated in {time.monotonic() - start:.1f} s; {filled} math/code-only messages filled; "
          f"{len(left)} messages to translate or fix")


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["update"]:
        update()
        return 0
    if args[:1] == ["check"]:
        left = problems({Path(a).name for a in args[1:]})
        print("\n".join(left) or "every message translated, none fuzzy, roles/math/code kept")
        return 1 if left else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
