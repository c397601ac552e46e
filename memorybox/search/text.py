"""Words as the index sees them, the same on every database.

Text is cut into words here, in Python, before either database sees it: letters and digits
of any script, folded to lower case, with accents taken off (so "Café" is found by "cafe").
The index stores these words joined by single spaces, and a search looks for exactly these
words, each as the start of a word ("bir" finds "birthday"). PostgreSQL builds its vector
from the stored words without its parser and SQLite's FTS5 tokenizer finds the same words,
so both answer alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

_WORD = re.compile(r"[^\W_]+")

#: the most words a search looks for (more are a sentence, not a search)
MAX_TERMS = 8


def words_of(text: str) -> list[str]:
    """The words in ``text``, folded: lower case, no accents, letters and digits only."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD.findall(folded)


def document(parts: Iterable[str]) -> str:
    """What the index stores for some pieces of text: their words, one space apart."""
    return " ".join(word for part in parts for word in words_of(part or ""))


def terms(query: str) -> tuple[str, ...]:
    """The words a search looks for, each once, in the order typed (at most ``MAX_TERMS``)."""
    found: list[str] = []
    for word in words_of(query):
        if word not in found:
            found.append(word)
    return tuple(found[:MAX_TERMS])


def found(word: str, wanted: Sequence[str]) -> bool:
    """Is ``word`` (as typed in the text) one a search for ``wanted`` finds?"""
    return any(w.startswith(t) for w in words_of(word) for t in wanted)


def highlight(text: str, wanted: Sequence[str], width: int = 180) -> list[tuple[str, bool]]:
    """A short piece of ``text`` from around the first word a search found, in pieces of
    (text, found) for showing the found words marked. The start of the text when no word
    in it was found (the title was)."""
    marks = [m.span() for m in _WORD.finditer(text) if found(m.group(), wanted)]
    start = max(0, marks[0][0] - width // 3) if marks else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < marks[0][0] else marks[0][0]
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    pieces: list[tuple[str, bool]] = [("…", False)] if start else []
    at = start
    for begin, finish in marks:
        if finish <= start or begin >= end:
            continue
        if begin > at:
            pieces.append((text[at:begin], False))
        pieces.append((text[begin:finish], True))
        at = finish
    if at < end:
        pieces.append((text[at:end], False))
    if end < len(text):
        pieces.append(("…", False))
    return pieces
