"""The message catalogues: extract the words from the code and templates, bring every
language's catalogue up to date, compile them for the app.

``python -m memorybox.catalogues extract|update|compile`` (``make translations`` runs the
first two, the install step the last); ``docs/translations.md`` says when and how.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
#: the functions whose first arguments are words to translate (and plural forms for ngettext)
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "lazy_ngettext": (1, 2)}
SKIPPED_FOLDERS = {".venv", "node_modules", ".git", "tests", "instance", "static", "docs"}


def _wanted_folder(path: str) -> bool:
    return not any(part in SKIPPED_FOLDERS or part.startswith(".") for part in Path(path).parts)


def extract() -> Catalog:
    """Every translatable message in ``memorybox/`` and ``templates/``, as babel.cfg says."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    catalog = Catalog(project="Memory Box", fuzzy=False)
    catalog.creation_date = datetime(2026, 12, 9)
    found = extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=("Translators:",),
        directory_filter=_wanted_folder,
        strip_comment_tags=True,
    )
    for _filename, _lineno, message, comments, context in found:
        catalog.add(message, None, auto_comments=comments, context=context)
    return catalog


def languages() -> list[str]:
    """The codes of the catalogues kept in the repository."""
    return sorted(
        path.parent.parent.name for path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")
    )


def write_template() -> None:
    with TEMPLATE.open("wb") as out:
        write_po(out, extract(), width=0, omit_header=False, sort_output=True, no_location=True)


def update() -> None:
    """Each language's catalogue gains the new messages (empty, to translate) and loses the old."""
    with TEMPLATE.open("rb") as source:
        template = read_po(source)
    for code in languages():
        path = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as source:
            catalog = read_po(source, locale=code)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as out:
            write_po(out, catalog, width=0, sort_output=True, no_location=True)


def compile_all(folders: Iterable[Path] | None = None) -> None:
    """A .mo beside every .po that is newer than it (or has none)."""
    for code in languages() if folders is None else [p.name for p in folders]:
        po = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=code)
        partial = mo.with_suffix(f".{os.getpid()}.part")
        with partial.open("wb") as out:
            write_mo(out, catalog)
        partial.replace(mo)  # whole or not at all, should two processes start at once


def main(argv: list[str]) -> int:
    commands = {"extract": write_template, "update": update, "compile": compile_all}
    if len(argv) != 1 or argv[0] not in commands:
        print("usage: python -m memorybox.catalogues extract|update|compile", file=sys.stderr)
        return 2
    commands[argv[0]]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
