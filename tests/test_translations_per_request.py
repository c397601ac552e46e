"""Words are looked up in a catalogue found once per request (memorybox.i18n.translations),
and that catalogue always follows the language in force: the request's, one forced for
another person's email, or a new one after Settings changed it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, render_template_string
from flask_babel import Domain, force_locale, gettext, ngettext, refresh

from memorybox import i18n

SAVED = "Saved. You can change these at any time."
SAVED_CY = "Wedi cadw. Gallet ti newid y rhain unrhyw bryd."
SAVED_AR = "تم الحفظ. يمكنك تغيير هذه في أي وقت."
PAGE = "{{ _('Saved. You can change these at any time.') }}|{{ _('%(num)s x', num='<b>') }}"


@pytest.fixture
def found(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each time Flask-Babel itself finds a catalogue, the locale it found it for."""
    calls: list[str] = []
    original = Domain.get_translations

    def counted(self: Domain) -> object:
        from flask_babel import get_locale

        calls.append(str(get_locale()))
        return original(self)

    monkeypatch.setattr(Domain, "get_translations", counted)
    yield calls


def test_one_catalogue_per_request_for_every_word(app: Flask, found: list[str]) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "cy"}):
        page = render_template_string("{% for _i in range(50) %}" + PAGE + "{% endfor %}")
        assert page.count(SAVED_CY) == 50
        assert gettext(SAVED) == SAVED_CY
        assert found == ["cy"]
    with app.test_request_context("/", headers={"Accept-Language": "ar"}):
        refresh()  # as each request begins (i18n.remember_choice)
        assert gettext(SAVED) == SAVED_AR
        assert found == ["cy", "ar"]


def test_the_templates_words_keep_flask_babels_formatting(app: Flask) -> None:
    with app.test_request_context("/"):
        # autoescaped values, %-formatting with the keyword arguments, plurals
        assert render_template_string(PAGE) == f"{SAVED}|&lt;b&gt; x"
        plural = "{{ ngettext('%(num)s new share', '%(num)s new shares', n) }}"
        assert render_template_string(plural, n=1) == "1 new share"
        assert render_template_string(plural, n=3) == "3 new shares"
        assert ngettext("%(num)s new share", "%(num)s new shares", 3) == "3 new shares"


def test_a_forced_language_is_honoured_inside_a_request(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "cy"}):
        assert render_template_string(PAGE).startswith(SAVED_CY)
        with force_locale("ar"):  # an email to someone who reads Arabic
            assert gettext(SAVED) == SAVED_AR
            assert render_template_string(PAGE).startswith(SAVED_AR)
            with force_locale("en_GB"):
                assert render_template_string(PAGE).startswith(SAVED)
            assert gettext(SAVED) == SAVED_AR
        assert gettext(SAVED) == SAVED_CY
        assert render_template_string(PAGE).startswith(SAVED_CY)


def test_a_forced_language_outside_a_request(app: Flask) -> None:
    with app.app_context():  # a background job
        assert gettext(SAVED) == SAVED
        with force_locale("cy"):
            assert gettext(SAVED) == SAVED_CY
        assert gettext(SAVED) == SAVED


def test_a_language_changed_in_settings_is_used_at_once(app: Flask) -> None:
    chosen = {"code": "en_GB"}
    with app.test_request_context("/"):
        app.extensions["babel"].locale_selector = lambda: chosen["code"]
        try:
            assert gettext(SAVED) == SAVED
            chosen["code"] = "cy"
            assert gettext(SAVED) == SAVED  # the request's language until refreshed
            refresh()
            assert gettext(SAVED) == SAVED_CY
            assert render_template_string(PAGE).startswith(SAVED_CY)
        finally:
            app.extensions["babel"].locale_selector = i18n.select_locale


def test_imported_macros_see_the_globals_of_the_moment(app: Flask) -> None:
    """memorybox.templating: template globals answer ``keys()`` with a set (one C-level
    subtraction per ``{% import %}``) and still follow the environment's globals."""
    from memorybox.templating import TemplateGlobals

    template = app.jinja_env.get_template("box/_item_card.html")
    assert isinstance(template.globals, TemplateGlobals)
    keys = template.globals.keys()
    assert isinstance(keys, set)
    assert "url_for" in keys
    app.jinja_env.globals["added_later"] = "here"
    try:
        assert template.globals["added_later"] == "here"
        assert "added_later" in set(template.globals.keys())
        page = "{% from '_macros/icons.html' import icon %}{{ icon('photo') }}{{ added_later }}"
        with app.test_request_context("/"):
            rendered = render_template_string(page)
        assert rendered.endswith("here") and "<svg" in rendered
    finally:
        del app.jinja_env.globals["added_later"]


def test_the_quick_gettext_says_what_flask_babels_says(app: Flask) -> None:
    share = ("%(num)s new share", "%(num)s new shares")
    with app.test_request_context("/", headers={"Accept-Language": "cy"}):
        refresh()
        for code in ("cy", "ar", "en_GB"):
            with force_locale(code):
                assert i18n.gettext(SAVED) == gettext(SAVED)
                assert i18n.gettext("%(day)s at %(time)s", day="d", time="t") == gettext(
                    "%(day)s at %(time)s", day="d", time="t"
                )
                for n in (0, 1, 2, 3, 6, 11):
                    assert i18n.ngettext(*share, n) == ngettext(*share, n)
        assert i18n.gettext(SAVED) == SAVED_CY
    from memorybox.memories.models import ItemKind

    with app.test_request_context("/"), force_locale("cy"):
        assert [kind.label for kind in ItemKind] == [
            gettext("Photo"),
            gettext("Document"),
            gettext("Sound"),
            gettext("Video"),
        ]
        assert ItemKind.AUDIO.label != "Sound"
