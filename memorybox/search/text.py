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
from collections.abc import Iterable

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
