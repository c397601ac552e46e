"""Plain words for children: every page a young person sees is measured by a readability
formula (Flesch-Kincaid, from textstat) and held at a reading age of 9 or under (a US grade
of 4: reading age is about the grade plus five). Each line of a page is read as a sentence,
as a child reads a button, a heading or a hint. Pages for adults are not measured.

The pages are shown as they are with things in them: memories, a suggestion, a message, a
share, a story part, a request for help."""

from __future__ import annotations

import html
import re

import pytest
import textstat
from flask import Flask
from flask.testing import FlaskClient

from memorybox.db import db
from memorybox.memories.models import ItemStatus
from memorybox.notifications import help as helping
from memorybox.notifications import service as notifications
from memorybox.notifications.service import Target
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience
from memorybox.story import services as story
from tests import factories
from tests.factories import World, login_as

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)

#: the highest Flesch-Kincaid grade allowed (reading age 9)
HIGHEST_GRADE = 4.0
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE = re.compile(
    rf"(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) )?"
    rf"\d{{1,2}} (?:{MONTHS})(?: \d{{4}})?(?:,? (?:at )?\d{{1,2}}:\d{{2}})?"
)


def words_of(page: str) -> str:
    """What a child reads in the page's main part: each line a sentence."""
    main = page.split("<main", 1)[1].split(">", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", main, flags=re.S)
    main = re.sub(r"<[^>]+>", "\n", main)
    # Dates and numbers are not words to read: they are left out of the measure.
    lines = [
        re.sub(r"\d+", "", DATE.sub("", html.unescape(line))).strip(" ()·,:")
        for line in main.split("\n")
    ]
    return "\n".join(
        line if line.endswith((".", "!", "?", ":")) else line + "."
        for line in lines
        if re.search(r"[A-Za-z]", line)
    )


def _grade(text: str) -> float:
    return float(textstat.flesch_kincaid_grade(text))


def test_the_measure_tells_plain_words_from_hard_ones() -> None:
    easy = words_of(
        "<main>\n<h1>My box</h1>\n<p>Only you can see it. You can add a photo.</p></main>"
    )
    hard = words_of(
        "<main><p>Consent-controlled dissemination necessitates comprehensive "
        "authorisation documentation prior to publication.</p></main>"
    )
    assert _grade(easy) <= HIGHEST_GRADE < _grade(hard)


@pytest.fixture
def full_box(app: Flask, world: World) -> dict[str, int]:
    beach = factories.item(app, world.child, world.young_person, title="Beach day")
    factories.item(app, world.child, world.carer, title="Sports day", status=ItemStatus.SUGGESTED)
    binned = factories.item(app, world.child, world.young_person, title="Blurry one")
    from memorybox.memories import services as memories

    memories.move_to_bin(binned)
    sharing.grant(
        child=world.child,
        decided_by=world.young_person,
        on_behalf=False,
        audience=Audience.SOCIAL_WORKER,
        item=beach,
    )
    album = sharing.create_collection(world.child, "Holidays")
    sharing.add_to_collection(album, beach)
    section, hidden = story.sections_of(world.child)[:2]
    story.save_version(section, "I like football.", [], world.young_person)
    story.save_version(hidden, "A hard day.", [], world.young_person)
    story.set_gentle(hidden, "with_someone", True)
    noted = factories.item(app, world.child, world.carer, title="Mum and me")
    memories.set_content_note(noted, "This photo shows your birth mum.", world.carer)
    notifications.notify(
        world.young_person,
        kind="comment",
        message="Jo wrote to you about something in your box.",
        target=Target.COMMENTS,
        target_id=beach.id,
        child_id=world.child.id,
    )
    db.session.commit()
    request = helping.HelpRequest(
        child_id=world.child.id, requested_by_id=world.young_person.id, sent_to="Sam"
    )
    db.session.add(request)
    db.session.commit()
    return {
        "item": beach.id,
        "album": album.id,
        "section": section.id,
        "help": request.id,
        "noted": noted.id,
        "hidden": hidden.id,
    }


def _pages(child_id: int, ids: dict[str, int]) -> list[str]:
    item, c = ids["item"], child_id
    return [
        "/",
        f"/children/{c}/box",
        f"/children/{c}/timeline",
        f"/children/{c}/suggested",
        f"/children/{c}/bin",
        f"/children/{c}/add",
        f"/items/{item}",
        f"/items/{item}/edit",
        f"/items/{ids['noted']}",
        f"/story/{ids['hidden']}",
        f"/items/{item}/talk",
        f"/items/{item}/share",
        f"/albums/{ids['album']}",
        f"/albums/{ids['album']}/share",
        f"/children/{c}/albums",
        f"/children/{c}/sharing",
        f"/children/{c}/seen",
        f"/children/{c}/help",
        f"/help/{ids['help']}",
        f"/children/{c}/story",
        f"/children/{c}/search",
        f"/children/{c}/search?q=beach",
        f"/children/{c}/search?q=nothing+like+it",
        f"/story/{ids['section']}",
        f"/story/{ids['section']}/versions",
        f"/story/{ids['section']}/share",
        f"/children/{c}/exports",
        "/notifications",
        "/notifications/settings",
        "/account/password",
        "/no-such-page",
    ]


def test_every_page_a_child_sees_is_in_plain_words(
    client: FlaskClient, world: World, full_box: dict[str, int]
) -> None:
    login_as(client, world.young_person)
    too_hard = []
    for path in _pages(world.child.id, full_box):
        response = client.get(path)
        assert response.status_code in (200, 404), f"{path}: {response.status_code}"
        text = words_of(response.data.decode())
        grade = _grade(text)
        if grade > HIGHEST_GRADE:
            too_hard.append(f"{path}: grade {grade:.1f}\n{text}")
    assert not too_hard, "pages above a reading age of 9:\n\n" + "\n\n".join(too_hard)
