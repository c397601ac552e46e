"""Languages: each person's choice, the sign-in page's, the browser's; right to left; dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from memorybox import i18n
from memorybox.db import db
from tests import factories


def _html_tag(html: str) -> str:
    found = re.search(r"<html[^>]*>", html)
    assert found is not None
    return found.group(0)


def test_english_is_the_default(client: FlaskClient, world: factories.World) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert _html_tag(page) == '<html lang="en-GB" dir="ltr">'


def test_the_browser_asks_for_a_language(client: FlaskClient, world: factories.World) -> None:
    page = client.get("/login", headers={"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"})
    assert _html_tag(page.get_data(as_text=True)) == '<html lang="cy" dir="ltr">'
    page = client.get("/login", headers={"Accept-Language": "fr, de"})
    assert _html_tag(page.get_data(as_text=True)) == '<html lang="en-GB" dir="ltr">'


def test_the_sign_in_page_offers_each_language_in_its_own_words(
    client: FlaskClient, world: factories.World
) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="cy" hreflang="cy">Cymraeg</a>' in page
    assert 'lang="ar" hreflang="ar">العربية</a>' in page
    chosen = client.get("/login?language=ar").get_data(as_text=True)
    assert _html_tag(chosen) == '<html lang="ar" dir="rtl">'
    # remembered for the rest of the visit, and after signing in while nothing is chosen
    assert _html_tag(client.get("/login").get_data(as_text=True)) == '<html lang="ar" dir="rtl">'
    factories.login_with_form(client, world.carer.email)
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert _html_tag(home) == '<html lang="ar" dir="rtl">'


def test_an_unknown_language_is_ignored(client: FlaskClient, world: factories.World) -> None:
    page = client.get("/login?language=xx").get_data(as_text=True)
    assert _html_tag(page) == '<html lang="en-GB" dir="ltr">'


def test_a_person_chooses_their_language_in_settings(app: Flask, world: factories.World) -> None:
    for person in (world.young_person, world.social_worker):
        client = app.test_client()
        factories.login_as(client, person)
        settings = client.get("/notifications/settings").get_data(as_text=True)
        assert '<option lang="en-GB" selected value="en_GB">English</option>' in settings
        answer = client.post(
            "/notifications/settings", data={"language": "cy", "email_messages": "y"}
        )
        assert answer.status_code == 302
        db.session.refresh(person)
        assert person.language == "cy"
        page = client.get("/notifications/settings").get_data(as_text=True)
        assert _html_tag(page) == '<html lang="cy" dir="ltr">'
        # the person's choice wins over the browser's and the session's
        page = client.get("/?language=ar", headers={"Accept-Language": "ar"}, follow_redirects=True)
        assert _html_tag(page.get_data(as_text=True)) == '<html lang="cy" dir="ltr">'
        # leaving the language out keeps it; a language not offered is refused
        client.post("/notifications/settings", data={"email_messages": "y"})
        db.session.refresh(person)
        assert person.language == "cy"
        refused = client.post("/notifications/settings", data={"language": "xx"})
        assert refused.status_code == 400
        db.session.refresh(person)
        assert person.language == "cy"


def test_dates_and_numbers_in_each_language(app: Flask) -> None:
    moment = datetime(2026, 7, 1, 18, 5, tzinfo=UTC)  # 19:05 in London (summer time)
    with app.test_request_context():
        with force_locale("en_GB"):
            assert i18n.day(date(2026, 12, 7)) == "7 December 2026"
            assert i18n.day_short(date(2026, 12, 7)) == "7 December"
            assert i18n.moment(moment) == "1 July 2026 at 19:05"
            assert i18n.number(12345) == "12,345"
        with force_locale("cy"):
            assert i18n.day(date(2026, 12, 7)) == "7 Rhagfyr 2026"
            assert i18n.day_short(date(2026, 12, 7)) == "7 Rhagfyr"
        with force_locale("ar"):
            assert i18n.day(date(2026, 12, 7)) == "7 ديسمبر 2026"
            assert "19:05" in i18n.moment(moment)
