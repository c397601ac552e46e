"""Languages: which one a page is in, and dates and numbers written the way it writes them.

Every word people read lives in the message catalogues under ``memorybox/translations``
(``docs/translations.md`` says how to update them). A signed-in person's page is in the
language they chose in Settings; anyone else's in the one they picked on the sign-in page
(kept in their session) or, failing that, the best their browser asks for; English (UK)
otherwise. Background jobs write in the language of the person they write for
(:func:`flask_babel.force_locale` with :func:`language_of`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from babel import Locale
from babel.lists import format_list
from babel.support import NullTranslations
from flask import Flask, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import (
    Babel,
    Domain,
    format_date,
    format_datetime,
    format_decimal,
    get_domain,
    get_locale,
    get_translations,
    lazy_gettext,
    refresh,
)
from flask_babel.speaklater import LazyString

from memorybox import clock
from memorybox.words import Words

DEFAULT = "en_GB"

#: the languages offered, by their catalogue's code, each named in its own words (a name
#: people look for in their own language, so never translated)
LANGUAGES: dict[str, str] = {
    "en_GB": "English",
    "cy": "Cymraeg",
    "ar": "العربية",
}

SESSION_KEY = "language"


def translations() -> NullTranslations:
    """The catalogue of the language the words are being written in now: Flask-Babel's
    :func:`~flask_babel.get_translations`, found once per request (and once again inside
    :func:`~flask_babel.force_locale` or after :func:`~flask_babel.refresh`).

    Flask-Babel finds it afresh for every word, through Flask's context locals three times
    over (about 260 words a page); this keeps it on Flask-Babel's own per-context namespace
    with the locale and domain it was found for, and finds it again whenever either is no
    longer the one in force, so a forced or refreshed locale is always honoured."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return get_translations()
    ctx = app_ctx.g.__dict__.get("_flask_babel")
    if ctx is not None:
        state = ctx.__dict__
        kept = state.get("memorybox_translations")
        if (
            kept is not None
            and kept[0] is state.get("babel_locale")
            and kept[1] is state.get("babel_domain")
        ):
            return kept[2]
    # Flask-Babel's own finding (which makes the namespace and settles locale and domain)
    found = Domain.get_translations(get_domain())
    ctx = app_ctx.g.__dict__.get("_flask_babel")
    if ctx is not None:
        state = ctx.__dict__
        state["memorybox_translations"] = (
            state.get("babel_locale"),
            state.get("babel_domain"),
            found,
        )
    return found


def gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's :func:`~flask_babel.gettext`, word for word (``%``-formatted with
    ``variables``), its catalogue from :func:`translations`: for code that writes many
    words a page (a line per look on "who looked", a kind per card)."""
    found = translations().ugettext(string)
    return found if not variables else found % variables


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Flask-Babel's :func:`~flask_babel.ngettext` (``num`` given to the words as
    ``%(num)s`` too), its catalogue from :func:`translations`."""
    variables.setdefault("num", num)
    found = translations().ungettext(singular, plural, num)
    return found if not variables else found % variables


class _Domain(Domain):
    """Flask-Babel's message domain, taking its catalogue from :func:`translations` (so
    Python's ``gettext``/``ngettext`` find it once per request too)."""

    def get_translations(self) -> NullTranslations:
        app_ctx = _cv_app.get(None)
        ctx = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
        if ctx is not None and ctx.__dict__.get("babel_domain") is self:
            return translations()
        return super().get_translations()


class RequestBabel(Babel):
    """Flask-Babel whose domain finds the catalogue once per request (:func:`translations`)."""

    @property
    def domain_instance(self) -> Domain:
        """One domain per app, as Flask-Babel's (a cached property there)."""
        found: Domain | None = self.__dict__.get("_memorybox_domain")
        if found is None:
            found = self.__dict__["_memorybox_domain"] = _Domain(domain=self.domain)
        return found


babel = RequestBabel()


def install_template_gettext(app: Flask) -> None:
    """The templates' ``_``/``gettext``/``ngettext``/``pgettext``/``npgettext`` as
    Flask-Babel installs them (jinja's new-style callables: ``%``-formatting with the
    keyword arguments, autoescaped), each taking its catalogue from :func:`translations`."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


def offered(app: Flask | None = None) -> dict[str, str]:
    """The languages this app offers (tests add a pseudo-language of their own)."""
    from flask import current_app

    extra: dict[str, str] = (app or current_app).config.get("MEMORYBOX_EXTRA_LANGUAGES", {})
    return {**LANGUAGES, **extra}


def normalise(code: str | None) -> str | None:
    """One of the offered codes for ``code`` ("cy", "en-GB", "ar_SA"...), or None."""
    if not code:
        return None
    languages = offered()
    wanted = code.replace("-", "_")
    if wanted in languages:
        return wanted
    base = wanted.split("_")[0].lower()
    for known in languages:
        if known.split("_")[0].lower() == base:
            return known
    return None


def select_locale() -> str:
    """Flask-Babel's locale selector: the person's choice, the session's, the browser's."""
    if not has_request_context():
        return DEFAULT
    from memorybox.web.access import actor

    user = actor()
    chosen = normalise(getattr(user, "language", None)) if user is not None else None
    if chosen is None:
        chosen = normalise(session.get(SESSION_KEY))
    if chosen is None:
        best = request.accept_languages.best_match(
            [code.replace("_", "-") for code in offered()] + ["en"]
        )
        chosen = normalise(best)
    return chosen or DEFAULT


def language_of(user: Any) -> str:
    """The language to write to ``user`` in (their choice, else English)."""
    return normalise(getattr(user, "language", None)) or DEFAULT


def html_lang() -> str:
    """The page's ``lang``: a BCP 47 tag ("en-GB", "cy", "ar")."""
    return str(_locale()).replace("_", "-")


def html_dir() -> str:
    """``rtl`` for a language written right to left (Arabic), else ``ltr``."""
    return "rtl" if _locale().character_order == "right-to-left" else "ltr"


def _local(moment: datetime) -> datetime:
    return moment.astimezone(clock.LOCAL_ZONE)


def day(value: date | datetime | None) -> str:
    """A day as the page's language writes it in full ("7 December 2026", "7 Rhagfyr 2026")."""
    if value is None:
        return ""
    return format_date(_as_day(value), "long")


def day_short(value: date | datetime | None) -> str:
    """A day without its year ("7 December")."""
    if value is None:
        return ""
    pattern = _locale().date_formats["long"].pattern.replace("y", "").strip(" ,.،")
    return format_date(_as_day(value), pattern)


def day_table(value: date | datetime | None) -> str:
    """A day in a table, short ("7 Dec 2026")."""
    if value is None:
        return ""
    return format_date(_as_day(value), "medium")


def weekday(value: date | datetime | None) -> str:
    """A day with its name ("Monday, 7 December 2026")."""
    if value is None:
        return ""
    return format_date(_as_day(value), "full")


def time_of_day(value: datetime | None) -> str:
    """Just the time in England, on the 24-hour clock ("19:05")."""
    if value is None:
        return ""
    return format_datetime(value, "HH:mm")


def moment(value: datetime | None) -> str:
    """A moment in England's time ("7 December 2026 at 19:05")."""
    if value is None:
        return ""
    return gettext("%(day)s at %(time)s", day=day(value), time=time_of_day(value))


def moment_short(value: datetime | None) -> str:
    """A moment this year ("7 December at 19:05")."""
    if value is None:
        return ""
    return gettext("%(day)s at %(time)s", day=day_short(value), time=time_of_day(value))


def read_on(value: datetime) -> str:
    """When someone read something: the day, with its year only when it is not this year."""
    local = value.astimezone(clock.LOCAL_ZONE).date()
    return day_short(local) if local.year == clock.today().year else day(local)


def and_list(names: Iterable[str]) -> str:
    """ "Jo and Sam", "Jo, Kim and Sam": a list as the page's language joins one."""
    return format_list(list(names), locale=_locale())


def problem_words(message: str) -> str:
    """A message written in English by domain code (marked with :func:`memorybox.words.N_`,
    or stored, such as why a file could not be got ready) in the page's language."""
    if isinstance(message, Words):
        return gettext(message.template, **message.values)
    return gettext(message) if message else message


def up_to_letters(limit: int) -> LazyString:
    """A form's message for a title that is too long."""
    return lazy_gettext("Titles can have up to %(num)s letters.", num=limit)


def keep_under(limit: int) -> LazyString:
    """A form's message for words that are too long."""
    return lazy_gettext("Please keep this under %(num)s letters.", num=limit)


def number(value: float | int) -> str:
    """A number in the page's language's digits and separators."""
    return format_decimal(value)


def _locale() -> Locale:
    return get_locale() or Locale.parse(DEFAULT)


def _as_day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return value.astimezone(clock.LOCAL_ZONE).date()
    return value


def remember_choice() -> None:
    """``?language=cy`` on any page (the links on the sign-in page): remembered in the
    session for someone who has not signed in (a signed-in person chooses in Settings).
    Each request works out its language afresh: an app context (and Flask-Babel's cache on
    ``g``) can outlive one request."""
    refresh()
    chosen = normalise(request.args.get("language"))
    if chosen is not None:
        session[SESSION_KEY] = chosen


def init_app(app: Flask) -> None:
    from memorybox import catalogues

    # A catalogue changed since it was last compiled (a read-only install keeps the ones
    # built when it was installed).
    with contextlib.suppress(OSError):
        catalogues.compile_all()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", str(clock.LOCAL_ZONE))
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.before_request(remember_choice)
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["html_dir"] = html_dir
    app.jinja_env.globals["languages"] = offered
    app.jinja_env.globals["date_example"] = lambda: date(2024, 3, 27)
    for name in FILTERS:
        app.jinja_env.filters[name] = _filter(name)


#: the formatting filters templates use, each this module's function of that name
FILTERS = (
    "day",
    "day_short",
    "day_table",
    "weekday",
    "time_of_day",
    "moment",
    "moment_short",
    "number",
    "and_list",
    "problem_words",
)


def _filter(name: str) -> Any:
    """A filter that looks its function up when called (so a test can watch what it writes)."""
    import sys

    module = sys.modules[__name__]

    def run(value: Any) -> str:
        return getattr(module, name)(value)

    run.__name__ = name
    return run
