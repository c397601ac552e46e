"""Marking words for translation where they are written, without translating them there.

Domain code (no Flask, no request) writes its messages in English with :func:`N_`, which
changes nothing but lets ``make translations`` find them; the web layer shows them in the
reader's language with :func:`memorybox.i18n.problem_words`. The same goes for messages
stored as they were written (why a file could not be got ready).
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """``message``, unchanged: marked for the catalogues, translated when it is shown."""
    return message


class Words(str):
    """An English message with values for its placeholders: as a ``str`` it is the English
    with the values in; :func:`memorybox.i18n.problem_words` puts it in the reader's language.
    """

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, **values: object) -> Words:
        made = super().__new__(cls, template % values if values else template)
        made.template = template
        made.values = values
        return made


def words_of(error: BaseException) -> str:
    """The message an error was raised with, keeping its :class:`Words` if it has them."""
    first = error.args[0] if error.args else ""
    return first if isinstance(first, str) else str(error)
