"""Every word people read is in the message catalogues, and every catalogue is complete.

* Babel's extraction over ``memorybox/`` and ``templates/`` (as ``make translations`` runs
  it) finds exactly the messages in ``memorybox/translations/messages.pot``: a new or
  changed string that was not extracted again fails here.
* Each language's catalogue has every message translated (no empty or fuzzy ``msgstr``,
  every plural form), with the same placeholders, and CLDR's plural rules.
* Templates hold no words outside ``_()`` / ``{% trans %}``: their text between tags, and the
  attributes people read or hear, are checked token by token (the pseudo-language pages in
  ``test_pseudo_language.py`` check what is rendered, Python's words included).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.plural import to_gettext
from flask import Flask

from memorybox import catalogues

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TEMPLATES = catalogues.ROOT / "templates"
#: attributes whose words people read or hear
SPOKEN_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "data-confirm"}


def _ids(catalog: Catalog) -> set[tuple[object, str | None]]:
    return {(m.id, m.context) for m in catalog if m.id}


def _template() -> Catalog:
    with catalogues.TEMPLATE.open("rb") as source:
        return read_po(source)


def _catalogue(code: str) -> Catalog:
    with (catalogues.TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=code)


def test_the_template_holds_exactly_what_the_code_says() -> None:
    extracted = _ids(catalogues.extract())
    kept = _ids(_template())
    assert extracted, "nothing was extracted: is babel.cfg there?"
    missing = sorted(str(m) for m in extracted - kept)
    stale = sorted(str(m) for m in kept - extracted)
    assert not missing, f"run `make translations`: not in messages.pot yet: {missing[:20]}"
    assert not stale, f"run `make translations`: no longer in the code: {stale[:20]}"


def test_welsh_and_arabic_are_offered() -> None:
    assert {"cy", "ar"} <= set(catalogues.languages())


@pytest.mark.parametrize("code", catalogues.languages())
def test_every_catalogue_is_complete(code: str) -> None:
    template = _template()
    catalog = _catalogue(code)
    assert catalog.plural_forms == to_gettext(Locale.parse(code).plural_form)
    problems = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        if found is None:
            problems.append(f"missing: {message.id!r}")
            continue
        if found.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        if not all(strings) or (message.pluralizable and len(strings) != catalog.num_plurals):
            problems.append(f"not translated: {message.id!r}")
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set().union(*(set(PLACEHOLDER.findall(i)) for i in ids))
        for text in strings:
            names = set(PLACEHOLDER.findall(text))
            # a plural form may leave the number out ("one photo"), never add a name
            if not names <= wanted or (not message.pluralizable and names != wanted):
                problems.append(f"placeholders differ: {message.id!r} -> {text!r}")
        for error in found.check(catalog):
            problems.append(f"{message.id!r}: {error}")
    assert not problems, "\n".join(problems[:40])


def test_childlines_number_and_999_are_kept_exactly() -> None:
    for code in catalogues.languages():
        catalog = _catalogue(code)
        for message in catalog:
            if not message.id or isinstance(message.id, tuple):
                continue
            for kept in ("0800 1111", "tel:08001111", "999"):
                if kept in message.id:
                    assert kept in message.string, (code, message.id, message.string)


class _TemplateWords(HTMLParser):
    """Words in a template's markup, with Jinja's own parts already taken out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value:
                self.words.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.words.append(data)


def _markup_of(app: Flask, path: Path) -> str:
    """The template's text with every Jinja expression, tag and comment taken out."""
    parts = []
    in_trans = after_block = False
    for _lineno, kind, value in app.jinja_env.lex(path.read_text()):
        if after_block and kind == "name":
            in_trans = value in ("trans", "pluralize") or (in_trans and value != "endtrans")
        after_block = kind == "block_begin"
        if kind == "data" and not in_trans:
            parts.append(value)
        elif kind in ("variable_begin", "block_begin"):
            parts.append("\x00")  # Jinja's part: whatever it says was checked where it is
    return "".join(parts)


def test_templates_have_no_words_outside_the_catalogues(app: Flask) -> None:
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        parser = _TemplateWords()
        parser.feed(_markup_of(app, path))
        for text in parser.words:
            for piece in text.split("\x00"):
                # a tag cut in two by Jinja reads as text: its name and attributes are not words
                piece = MARKUP_FRAGMENT.sub("", piece)
                if re.search(r"[^\W\d_]{2,}", piece) and piece.strip() not in ALLOWED_IN_MARKUP:
                    problems.append(f"{path.relative_to(TEMPLATES)}: {piece.strip()!r}")
    assert not problems, "words outside _(): " + "; ".join(problems)


MARKUP_FRAGMENT = re.compile(r'<\w+|\b(?:class|id|aria-[\w-]+|data-[\w-]+)="[^"]*"?')
#: words a template may hold as they are (values sent, not read)
ALLOWED_IN_MARKUP = {"0%"}


def test_a_word_left_outside_is_caught(app: Flask, tmp_path: Path) -> None:
    """The check above finds a word someone forgot to wrap, in text and in attributes."""
    for source in (
        "<p>{{ _('Fine') }} Forgotten</p>",
        '<button aria-label="Forgotten">{{ _("Fine") }}</button>',
    ):
        page = tmp_path / "page.html"
        page.write_text(source)
        parser = _TemplateWords()
        parser.feed(_markup_of(app, page))
        assert any("Forgotten" in piece for text in parser.words for piece in text.split("\x00"))
