"""Every word on every page comes from the catalogues: pages rendered in a pseudo-language.

The test makes a catalogue from ``messages.pot`` in which every translation is its English
wrapped in ⟦ ⟧, for a language no one reads here (Esperanto, which Babel knows, so its
plural rules and dates work), and gives it to everyone in the access matrix's world. Then it
opens each page a young person, a carer, a social worker and a manager use, after they have
done the things that fill those pages (a memory, a suggestion, an album, a share, a story,
a comment, a tag, "I need help", "I'd like to talk", a message, an export).

On each page, every visible text (text between tags, ``<title>``, and the ``alt``,
``title``, ``placeholder``, ``aria-label`` and ``data-confirm`` people read or hear, and the
words site.js says) must be marked, once marked parts are taken out (a translation holds
names and dates inside its ⟦ ⟧) and once the people's own words are taken out: everything
stored in the database (names, titles, captions, story words, tags, emails) and every date
and number the page's language wrote (recorded as the formatting functions run). What is
left may be digits and punctuation only: an English word anywhere fails, with where it was.

``test_an_unmarked_word_fails`` checks the check: a template that says one word outside
``_()`` is caught.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyotp
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import String, Text, select

from memorybox import catalogues, clock, i18n
from memorybox.accounts.models import Role, User
from memorybox.db import Base, db
from memorybox.leaving import services as leaving
from memorybox.memories.models import ItemStatus
from memorybox.notifications.models import Notification
from memorybox.sharing.models import Collection, Consent
from memorybox.story import services as story
from memorybox.transfers.models import Transfer
from memorybox.web import second_factor
from tests import factories
from tests import test_contributors as contributors
from tests.test_access_matrix import _letter

PSEUDO = "eo"
OPEN, CLOSE = "⟦", "⟧"
MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
SPOKEN_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "data-confirm"}
#: templates a pseudo-language page never shows: a stand-alone page for an outage (its
#: words are checked statically, in test_catalogues)
NOT_RENDERED_HERE = {
    "errors/unavailable.html",
    "story/words.html",  # needs a voice note turned into words (the transcribe extra)
}


def _pseudo_catalogue(folder: Path) -> None:
    with catalogues.TEMPLATE.open("rb") as source:
        template = read_po(source)
    pseudo = Catalog(locale=PSEUDO)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            string: Any = tuple(OPEN + message.id[1] + CLOSE for _ in range(pseudo.num_plurals))
            string = (OPEN + message.id[0] + CLOSE, *string[1:])
        else:
            string = OPEN + message.id + CLOSE
        pseudo.add(message.id, string, context=message.context, flags=message.flags)
    target = folder / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as out:
        write_mo(out, pseudo)


@pytest.fixture
def pseudo_app(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    folder = tmp_path / "pseudo"
    _pseudo_catalogue(folder)
    from flask_babel import get_babel

    babel = get_babel(app)
    before = list(babel.translation_directories)
    babel.translation_directories = [*before, str(folder)]
    app.config["MEMORYBOX_EXTRA_LANGUAGES"] = {PSEUDO: "Pseudo"}
    yield app
    babel.translation_directories = before


class _Words(HTMLParser):
    """The texts of a page people read or hear, each with where it was."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[tuple[str, str]] = []  # (where, words) of the attributes read
        self.flow: list[str] = []  # the text between tags, in order
        self.script_words: dict[str, str] = {}
        self._open: list[str] = []
        # depths of the open elements marked translate="no" (a key, a code: not words)
        self._untranslated: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag not in ("meta", "link", "input", "img", "br", "source", "use", "hr"):
            self._open.append(tag)
            if found.get("translate") == "no":
                self._untranslated.append(len(self._open))
        if tag == "meta" and found.get("name") == "script-words":
            self.script_words = json.loads(found.get("content") or "{}")
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value:
                self.texts.append((f"<{tag} {name}>", value))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value:
                self.texts.append((f"<{tag} {name}>", value))

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop() != tag:
            pass
        while self._untranslated and self._untranslated[-1] > len(self._open):
            self._untranslated.pop()

    def handle_data(self, data: str) -> None:
        where = self._open[-1] if self._open else ""
        if where not in ("script", "style") and not self._untranslated:
            self.flow.append(data)


def _unmarked(text: str, known: list[str]) -> str:
    """What is left of ``text`` that is neither marked nor known: letters mean a problem."""
    while True:
        shorter = MARKED.sub(" ", text)
        if shorter == text:
            break
        text = shorter
    for value in known:
        text = text.replace(value, " ")
    return re.sub(r"[\W\d_]+", " ", text).strip()


class _Known:
    """Words that are people's own, or dates and numbers the page's language wrote."""

    def __init__(self) -> None:
        self.written: set[str] = set()

    def stored(self) -> list[str]:
        values: set[str] = set(self.written) | set(i18n.LANGUAGES.values()) | {"Pseudo"}
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            columns = [c for c in columns if (table.name, c.name) not in STORED_WORDS]
            if not columns:
                continue
            for row in db.session.execute(select(*columns)):
                values.update(str(v) for v in row if v)
        for value in list(values):
            values.update(value.split("\n"))
        return sorted((v.strip() for v in values if v.strip()), key=len, reverse=True)


#: stored words that are ours, not people's: they must be in the reader's language too
STORED_WORDS = {("notifications", "message")}


@pytest.fixture
def known(monkeypatch: pytest.MonkeyPatch) -> _Known:
    recorded = _Known()
    for name in i18n.FILTERS:
        if name in ("and_list", "problem_words"):
            continue
        original: Callable[..., str] = getattr(i18n, name)

        def record(*args: Any, _original: Callable[..., str] = original) -> str:
            written = _original(*args)
            recorded.written.add(written)
            return written

        monkeypatch.setattr(i18n, name, record)
    return recorded


def _check_page(
    client: FlaskClient, url: str | tuple[str, str, dict[str, str]], recorded: _Known
) -> list[str]:
    if isinstance(url, tuple):  # a form sent with something wrong in it: the page again
        _, url, data = url
        response = client.post(url, data=data)
        assert response.status_code in (200, 201, 400), (url, response.status_code)
    else:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, (url, response.status_code)
    page = response.get_data(as_text=True)
    assert f'<html lang="{PSEUDO}" dir="ltr">' in page, url
    words = _Words()
    words.feed(page)
    # Text between tags is read as one: a translation may hold markup (a link, a name in
    # bold), and a person's words may be cut by it (a search's highlighted word).
    known = recorded.stored()  # after the page: its dates and numbers are written by now
    flow = "".join(words.flow)
    texts = [("text", flow), *words.texts]
    problems = []
    for where, text in texts:
        left = _unmarked(text, known)
        for word in left.split()[:5]:
            at = text.find(word)
            problems.append(f"{url} {where}: {word!r} in {text[max(0, at - 60) : at + 60]!r}")
    assert words.script_words, f"{url}: the script's words are missing"
    problems += [
        f"{url} site.js {key}: {value!r}"
        for key, value in words.script_words.items()
        if not (value.startswith(OPEN) and value.endswith(CLOSE))
    ]
    return problems


def _scene(app: Flask, world: factories.World) -> dict[str, Any]:
    """The world, with everything that fills the pages done through the pages themselves."""
    for person in db.session.scalars(select(User)):
        person.language = PSEUDO
    db.session.commit()
    child = world.child
    young, carer, worker = (app.test_client() for _ in range(3))
    factories.login_as(young, world.young_person)
    factories.login_as(carer, world.carer)
    factories.login_as(worker, world.social_worker)
    kept = factories.item(app, child, world.young_person, title="Sports day")
    binned = factories.item(app, child, world.young_person, title="Old photo")
    young.post(f"/items/{binned.id}/delete")
    suggestion = factories.item(
        app, child, world.carer, title="Birthday cake", status=ItemStatus.SUGGESTED
    )
    young.post(f"/items/{kept.id}/tags", data={"name": "Nan"})
    young.post(f"/children/{child.id}/albums", data={"name": "Football"})
    album = db.session.scalars(select(Collection)).one()
    young.post(f"/items/{kept.id}/add-to-album", data={"collection_id": str(album.id)})
    young.post(f"/items/{kept.id}/share", data={"audience": "social_worker"})
    young.post(f"/albums/{album.id}/share", data={"audience": "carers"})
    section = story.sections_of(child)[0]
    young.post(f"/story/{section.id}", data={"body": "I like the sea."})
    young.post(f"/story/{section.id}", data={"body": "I like the sea and the hills."})
    young.post(f"/story/{section.id}/share", data={"audience": "social_worker"})
    young.post(f"/items/{kept.id}/comments", data={"body": "My best day."})
    young.post(f"/items/{kept.id}/talk", data={"words": "Can we talk?", "show_item": "no"})
    young.post(f"/children/{child.id}/help")
    young.post(f"/children/{child.id}/exports", data={"kind": "json"})
    worker.get(f"/shared/story/{section.id}")
    hidden = factories.item(app, child, world.young_person, title="Hard day")
    young.post(f"/items/{hidden.id}/gentle", data={"choice": "hide"})
    later = story.sections_of(child)[1]
    young.post(f"/story/{later.id}", data={"body": "Not yet."})
    young.post(f"/story/{later.id}/gentle", data={"choice": "hide"})
    # the album was shared with the carers, who were told; then the child stopped it
    consent = db.session.scalars(select(Consent).where(Consent.collection_id == album.id)).one()
    young.post(f"/consents/{consent.id}/stop")
    carer_note = db.session.scalars(
        select(Notification).where(Notification.user_id == world.carer.id)
    ).first()
    lonely = factories.user(app, world.authority, Role.YOUNG_PERSON, "Sky")
    lonely.language = PSEUDO
    db.session.commit()
    carer.post(f"/items/{kept.id}/comments", data={"body": "Lovely."})
    # Letters: a draft, one waiting and one open today (with a note to read first).
    letters = {state: _letter(world, child, state) for state in ("draft", "waiting", "open")}
    # A photo in the open letter (an attachment, shown on both its pages).
    attachment = factories.item(app, child, world.social_worker, title="At the farm")
    attachment.status, attachment.letter_id = ItemStatus.IN_LETTER, letters["open"].id
    db.session.commit()
    # Alex is 17, and runs their own account; Blake (17) asked to delete theirs.
    seventeen = clock.today() - timedelta(days=17 * 366)
    child.date_of_birth = seventeen
    world.other_child.date_of_birth = seventeen
    db.session.commit()
    leaving.ask_to_delete(world.other_child)
    db.session.commit()
    blake = app.test_client()
    factories.login_as(blake, world.other_young_person)
    # The manager asks to move the youngest child to another authority.
    manager = app.test_client()
    factories.login_as(manager, world.manager)
    manager.post(
        f"/manage/children/{world.young_child.id}/move",
        data={"to_authority": str(world.other_authority.id), "planned_on": "2030-01-01"},
    )
    transfer = db.session.scalars(select(Transfer)).one()
    # Alex's birth mum is invited to send things, and joins.
    morgan = contributors.join(app, contributors.invite(app.test_client(), world))
    morgan.get("/send")  # the welcome, said in the language they joined in
    for person in db.session.scalars(select(User).where(User.role == Role.CONTRIBUTOR)):
        person.language = PSEUDO
    db.session.commit()
    # Staff who have given only their password: the second step, to set up (with its key
    # ready in the session, so the code sent is right) and to use.
    fresh_worker = factories.user(app, world.authority, Role.SOCIAL_WORKER, "Nia")
    fresh_worker.totp_secret = None
    fresh_worker.language = PSEUDO
    codeless_worker = factories.user(app, world.authority, Role.SOCIAL_WORKER, "Ola")
    codeless_worker.language = PSEUDO
    db.session.commit()
    fresh, codeless = app.test_client(), app.test_client()
    factories.login_as(fresh, fresh_worker, second_factor=False)
    with fresh.session_transaction() as session:
        session[second_factor.PENDING] = factories.TOTP_SECRET
    factories.login_as(codeless, codeless_worker, second_factor=False)
    db.session.expire_all()
    return {
        "fresh": fresh,
        "codeless": codeless,
        "letters": letters,
        "transfer": transfer,
        "blake": blake,
        "manager": manager,
        "morgan": morgan,
        "hidden": hidden,
        "later": later,
        "carer_note": carer_note,
        "lonely": lonely,
        "kept": kept,
        "suggestion": suggestion,
        "album": album,
        "section": section,
        "young": young,
        "carer": carer,
        "worker": worker,
    }


def _urls(app: Flask, world: factories.World, scene: dict[str, Any]) -> dict[str, list[Any]]:
    from memorybox.notifications.models import HelpRequest, TalkRequest

    child = world.child
    kept, section, album = scene["kept"], scene["section"], scene["album"]
    letters = scene["letters"]
    help_request = db.session.scalars(select(HelpRequest)).first()
    talk = db.session.scalars(select(TalkRequest)).first()
    assert help_request is not None and talk is not None
    young_note = db.session.scalars(
        select(Notification).where(Notification.user_id == world.young_person.id)
    ).first()
    box = f"/children/{child.id}"
    return {
        "young": [
            "/",
            f"{box}/box",
            f"{box}/timeline",
            f"{box}/add",
            f"{box}/suggested",
            f"{box}/bin",
            f"{box}/albums",
            f"{box}/sharing",
            f"{box}/seen",
            f"{box}/story",
            f"{box}/help",
            f"{box}/exports",
            f"{box}/search?q=sea",
            f"{box}/search?q=nothing-like-this",
            f"/items/{kept.id}",
            f"/items/{kept.id}/edit",
            f"/items/{kept.id}/share",
            f"/items/{kept.id}/talk",
            f"/items/{scene['suggestion'].id}",
            f"/items/{scene['hidden'].id}",
            f"/story/{scene['later'].id}",
            ("POST", f"/items/{kept.id}/tags", {"name": ""}),
            f"/albums/{album.id}",
            f"/albums/{album.id}/share",
            f"/story/{section.id}",
            f"/story/{section.id}/versions",
            f"/story/{section.id}/share",
            f"/story/{section.id}/voice",
            f"/help/{help_request.id}",
            f"/talk/{talk.id}",
            "/notifications",
            "/notifications/settings",
            "/account/password",
            f"{box}/letters",
            f"/letters/{letters['waiting'].id}",
            f"/letters/{letters['open'].id}",
            f"/letters/{letters['open'].id}?open=1",
            f"/letters/{letters['open'].id}/talk",
            f"{box}/account/email",
            f"{box}/account/delete",
            f"{box}/senders",
        ]
        + ([f"/notifications/{young_note.id}"] if young_note is not None else []),
        "blake": [f"/children/{world.other_child.id}/account/delete"],
        "morgan": ["/send"],
        "carer": [
            "/carer",
            f"/children/{child.id}/add",
            f"/notifications/{scene['carer_note'].id}",
            f"/shared/{child.id}",
            f"/items/{scene['suggestion'].id}",
            "/notifications",
            "/notifications/settings",
        ],
        "worker": [
            "/caseload",
            "/caseload/reviews",
            f"/shared/{child.id}",
            f"/shared/{child.id}/story",
            f"/shared/{child.id}/search?q=sports",
            f"/shared/story/{section.id}",
            f"/help/{help_request.id}",
            f"/talk/{talk.id}",
            f"/items/{kept.id}",
            f"/children/{world.young_child.id}/sharing",
            f"/children/{world.young_child.id}/exports",
            "/notifications",
            "/notifications/settings",
            f"{box}/letters/written",
            f"/letters/{letters['open'].id}/written",
            f"/letters/{letters['draft'].id}/edit",
            f"/letters/{letters['draft'].id}/delete",
            f"/letters/{letters['draft'].id}/attach",
            f"{box}/contributors",
            (
                "POST",
                f"{box}/contributors",
                {"display_name": "Jo", "relation": "grandad", "email": "jo@example.org"},
            ),
        ],
        "manager": [
            "/manage",
            "/manage/people",
            f"/manage/people/{world.social_worker.id}",
            f"/manage/people/{world.social_worker.id}/second-factor/reset",
            "/manage/people/invite",
            (
                "POST",
                "/manage/people/invite",
                {"display_name": "Mo", "email": "mo@example.org", "role": "carer"},
            ),
            "/manage/children",
            "/manage/children/new",
            f"/manage/children/{child.id}",
            "/manage/caseloads",
            "/manage/settings",
            "/manage/story-prompts",
            "/notifications",
            "/notifications/settings",
            f"/manage/children/{child.id}/left-care",
            f"/manage/children/{child.id}/move",
            "/manage/transfers",
            f"/manage/transfers/{scene['transfer'].id}",
        ],
        "visitor": ["/login", "/invite", "/no-such-page"],
        "codeless": ["/second-factor", ("POST", "/second-factor", {"code": ""})],
        "fresh": [
            "/second-factor/set-up",
            ("POST", "/second-factor/set-up", {"code": ""}),
            ("POST", "/second-factor/set-up", {"code": pyotp.TOTP(factories.TOTP_SECRET).now()}),
        ],
        "lonely": ["/"],
    }


def test_every_word_on_every_page_is_from_the_catalogues(
    pseudo_app: Flask, world: factories.World, known: _Known
) -> None:
    app = pseudo_app
    scene = _scene(app, world)
    urls = _urls(app, world, scene)
    manager = scene["manager"]
    visitor = app.test_client()
    visitor.get(f"/login?language={PSEUDO}")
    lonely = app.test_client()
    factories.login_as(lonely, scene["lonely"])
    clients = {
        "lonely": lonely,
        "young": scene["young"],
        "carer": scene["carer"],
        "worker": scene["worker"],
        "manager": manager,
        "visitor": visitor,
        "blake": scene["blake"],
        "morgan": scene["morgan"],
        "fresh": scene["fresh"],
        "codeless": scene["codeless"],
    }
    rendered: set[str] = set()

    def remember(sender: Flask, template: Any, context: Any, **extra: Any) -> None:
        rendered.add(template.name)

    problems: list[str] = []
    with template_rendered.connected_to(remember, app):
        for who, pages in urls.items():
            for url in pages:
                client = clients[who]
                if url == "/no-such-page":
                    response = client.get(url)
                    assert response.status_code == 404
                    continue
                problems += _check_page(client, url, known)
    assert not problems, f"{len(problems)} unmarked:\n" + "\n".join(problems[:60])
    page_templates = {
        str(p.relative_to(catalogues.ROOT / "templates"))
        for p in (catalogues.ROOT / "templates").rglob("*.html")
    }
    partial = {
        t
        for t in page_templates
        if t == "base.html" or any(p.startswith("_") for p in t.split("/"))
    }
    missed = page_templates - partial - rendered - NOT_RENDERED_HERE
    assert not missed, f"templates no page here rendered: {sorted(missed)}"


def test_an_unmarked_word_fails(
    pseudo_app: Flask, world: factories.World, known: _Known, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check finds one English word left outside the catalogues, in text or in a label."""
    app = pseudo_app
    page = '{% extends "base.html" %}{% block content %}<h1>{{ _("Sign in") }}</h1>'
    for forgotten in (
        page + "<p>{{ _('Fine') }} Forgotten</p>{% endblock %}",
        page + '<nav aria-label="Forgotten"></nav>{% endblock %}',
    ):
        original = app.jinja_env.loader
        assert original is not None
        monkeypatch.setattr(
            app.jinja_env,
            "loader",
            ChoiceLoader([DictLoader({"auth/login.html": forgotten}), original]),
        )
        app.jinja_env.cache = {}
        visitor = app.test_client()
        visitor.get(f"/invite?language={PSEUDO}")
        problems = _check_page(visitor, "/login", known)
        assert any("Forgotten" in problem for problem in problems), forgotten
    monkeypatch.undo()
    app.jinja_env.cache = {}
    assert not _check_page(visitor, "/login", known)
