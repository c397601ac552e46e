"""Later-life letters: written by the allocated social worker, given to the child, opened on
a day, on a birthday or when the child asks and the worker agrees (decided on each request
by today's date, so tests move the clock); nothing of a letter reaches the child before it
opens; the child's own words about it reach no adult; a newly allocated worker sees the
letters given and waiting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from memorybox import clock, policy
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Allocation, Child
from memorybox.db import db
from memorybox.letters import services as letters
from memorybox.letters.models import Letter, LetterNote, LetterVersion, ReleaseRule
from memorybox.notifications.models import Notification, TalkRequest
from memorybox.policy import Action
from tests import factories
from tests.factories import World, login_as
from tests.test_readability import HIGHEST_GRADE, _grade, words_of

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)

WORDS = "Dear Alex, this is why you came into care. Your mum loved you very much."
NOTE = "This letter talks about your birth mum."
SECRET = "I am angry and sad and I do not want anyone to see this."


def move_clock(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """Today is ``day`` (at noon in England) for the app and the tests."""
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=clock.LOCAL_ZONE).astimezone(UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)


def write(client: FlaskClient, world: World, **rule: str) -> Letter:
    """The allocated social worker writes a letter through the form, and gives it."""
    login_as(client, world.social_worker)
    data = {
        "title": "Why you are in care",
        "body": WORDS,
        "content_note": NOTE,
        **rule,
    }
    response = client.post(f"/children/{world.child.id}/letters/new", data=data)
    assert response.status_code == 302, response.data.decode()[:2000]
    letter = db.session.scalars(select(Letter).order_by(Letter.id.desc())).first()
    assert letter is not None
    assert client.post(f"/letters/{letter.id}/give").status_code == 302
    return letter


def child_sees(app: Flask, world: World, letter: Letter) -> str:
    client = app.test_client()
    login_as(client, world.young_person)
    response = client.get(f"/letters/{letter.id}?open=1")
    assert response.status_code == 200
    return response.data.decode()


def test_a_letter_by_date_waits_then_opens(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = clock.today() + timedelta(days=10)
    letter = write(client, world, rule="date", opens_on=day.isoformat())
    assert letter.rule is ReleaseRule.DATE and letter.opens_on == day
    page = child_sees(app, world, letter)
    assert "A letter from Sam" in page
    assert WORDS not in page and NOTE not in page and "Why you are in care" not in page
    listing = app.test_client()
    login_as(listing, world.young_person)
    page = listing.get(f"/children/{world.child.id}/letters").data.decode()
    assert "A letter from Sam" in page and WORDS not in page and "Why you are in care" not in page

    move_clock(monkeypatch, day - timedelta(days=1))
    db.session.expire_all()
    assert not letters.is_open(letter)
    assert WORDS not in child_sees(app, world, letter)
    move_clock(monkeypatch, day)
    db.session.expire_all()
    assert letters.is_open(letter)
    assert WORDS in child_sees(app, world, letter)


def test_a_letter_by_age_opens_on_the_birthday(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.child.date_of_birth = date(2012, 5, 3)
    db.session.commit()
    move_clock(monkeypatch, date(2027, 1, 10))
    letter = write(client, world, rule="age", opens_at_age="16")
    assert letters.opens_on(letter) == date(2028, 5, 3)
    young = app.test_client()
    login_as(young, world.young_person)
    page = young.get(f"/children/{world.child.id}/letters").data.decode()
    assert "It opens when you turn 16, on 3 May 2028." in page
    assert young.get(f"/letters/{letter.id}/talk").status_code == 404
    assert young.post(f"/letters/{letter.id}/note", data={"body": "x"}).status_code == 404

    move_clock(monkeypatch, date(2028, 5, 2))
    assert WORDS not in child_sees(app, world, letter)
    assert db.session.scalar(select(Notification).where(Notification.kind == "letter_open")) is None
    move_clock(monkeypatch, date(2028, 5, 3))
    # The note comes first, then the letter when the child chooses.
    first = young.get(f"/letters/{letter.id}")
    assert "Before you open this" in first.data.decode() and NOTE in first.data.decode()
    assert WORDS not in first.data.decode()
    chose = young.post(f"/letters/{letter.id}/gentle", data={"choice": "open"})
    assert chose.status_code == 302
    opened = young.get(chose.location).data.decode()
    assert WORDS in opened
    db.session.expire_all()
    assert letter.opened_at is not None
    told = db.session.scalars(select(Notification).where(Notification.kind == "letter_open")).all()
    assert [n.user_id for n in told] == [world.young_person.id]
    # The worker sees it was opened, and can no longer change it.
    assert (
        "Opened by Alex on 3 May 2028." in client.get(f"/letters/{letter.id}/written").data.decode()
    )
    assert client.get(f"/letters/{letter.id}/edit").status_code == 404


def test_a_leap_day_birthday_opens_on_the_first_of_march() -> None:
    child = Child(display_name="Lee", date_of_birth=date(2012, 2, 29))
    assert letters.birthday(child, 18) == date(2030, 3, 1)
    assert letters.birthday(child, 16) == date(2028, 2, 29)


def test_ask_and_agree(app: Flask, client: FlaskClient, world: World) -> None:
    letter = write(client, world, rule="asked")
    young = app.test_client()
    login_as(young, world.young_person)
    page = young.get(f"/letters/{letter.id}").data.decode()
    assert "It opens when you ask" in page and WORDS not in page
    assert young.post(f"/letters/{letter.id}/ask").status_code == 302
    assert young.post(f"/letters/{letter.id}/ask").status_code == 404  # once
    db.session.expire_all()
    assert letter.asked_at is not None and not letters.is_open(letter)
    asked = db.session.scalar(select(Notification).where(Notification.kind == "letter_asked"))
    assert asked is not None and asked.user_id == world.social_worker.id
    # The child cannot agree for themselves; the worker can.
    assert young.post(f"/letters/{letter.id}/agree").status_code == 404
    assert client.post(f"/letters/{letter.id}/agree").status_code == 302
    db.session.expire_all()
    assert letters.is_open(letter)
    assert WORDS in child_sees(app, world, letter)
    assert db.session.scalar(select(Notification).where(Notification.kind == "letter_open"))


def test_the_child_receives_the_version_current_at_release(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = clock.today() + timedelta(days=3)
    letter = write(client, world, rule="date", opens_on=day.isoformat())
    data = {"title": "Why you are in care", "body": "A better letter.", "rule": "date"}
    data["opens_on"] = day.isoformat()
    assert client.post(f"/letters/{letter.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert [v.number for v in letter.versions] == [1, 2]
    move_clock(monkeypatch, day)
    page = child_sees(app, world, letter)
    assert "A better letter." in page and WORDS not in page
    data["body"] = "Too late."
    assert client.post(f"/letters/{letter.id}/edit", data=data).status_code == 404


def test_private_words_reach_no_adult(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    letter = write(client, world, rule="asked")
    client.post(f"/letters/{letter.id}/agree")  # not asked yet: nothing happens
    young = app.test_client()
    login_as(young, world.young_person)
    young.post(f"/letters/{letter.id}/ask")
    client.post(f"/letters/{letter.id}/agree")
    response = young.post(f"/letters/{letter.id}/note", data={"body": SECRET})
    assert response.status_code == 302
    assert SECRET in young.get(response.location).data.decode()
    assert db.session.scalar(select(LetterNote.body)) == SECRET
    # Every adult, on every letter page and the worker's pages about the child.
    for person in (
        world.social_worker,
        world.carer,
        world.manager,
        world.ended_social_worker,
        world.unallocated_social_worker,
    ):
        adult = app.test_client()
        login_as(adult, person)
        for url in (
            f"/letters/{letter.id}",
            f"/letters/{letter.id}/written",
            f"/children/{world.child.id}/letters",
            f"/children/{world.child.id}/letters/written",
            f"/shared/{world.child.id}",
        ):
            assert SECRET not in adult.get(url).data.decode(), (person.display_name, url)


def test_nothing_before_release_for_anyone_but_allocated_workers(
    app: Flask, client: FlaskClient, world: World
) -> None:
    letter = write(
        client, world, rule="date", opens_on=(clock.today() + timedelta(days=5)).isoformat()
    )
    checks: dict[str, Callable[..., bool]] = {
        "young_person": lambda a: policy.can(world.young_person, a, letter),
        "carer": lambda a: policy.can(world.carer, a, letter),
        "ended": lambda a: policy.can(world.ended_social_worker, a, letter),
        "manager": lambda a: policy.can(world.manager, a, letter),
    }
    assert checks["young_person"](Action.LETTER_SEE)
    assert not checks["young_person"](Action.LETTER_OPEN)
    for who in ("carer", "ended", "manager"):
        for action in (Action.LETTER_SEE, Action.LETTER_OPEN, Action.LETTER_READ):
            assert not checks[who](action), (who, action)


def test_a_draft_is_not_seen_by_the_child(app: Flask, client: FlaskClient, world: World) -> None:
    login_as(client, world.social_worker)
    client.post(
        f"/children/{world.child.id}/letters/new",
        data={"title": "Not given yet", "body": WORDS, "rule": "asked"},
    )
    letter = db.session.scalars(select(Letter)).one()
    young = app.test_client()
    login_as(young, world.young_person)
    assert young.get(f"/letters/{letter.id}").status_code == 404
    assert "Not given yet" not in young.get(f"/children/{world.child.id}/letters").data.decode()


def test_a_newly_allocated_worker_sees_given_and_waiting_letters(
    app: Flask, client: FlaskClient, world: World
) -> None:
    letter = write(client, world, rule="asked")
    young = app.test_client()
    login_as(young, world.young_person)
    young.post(f"/letters/{letter.id}/ask")
    client.post(f"/letters/{letter.id}/agree")
    young.get(f"/letters/{letter.id}?open=1")
    young.post(f"/letters/{letter.id}/note", data={"body": SECRET})
    waiting = write(
        client, world, rule="date", opens_on=(clock.today() + timedelta(days=9)).isoformat()
    )
    newcomer = factories.user(app, world.authority, world.social_worker.role, "Nia")
    factories.allocation(world.child, newcomer)
    fresh = app.test_client()
    login_as(fresh, newcomer)
    page = fresh.get(f"/children/{world.child.id}/letters/written").data.decode()
    assert page.count("Why you are in care") == 2
    assert "Opened by Alex" in page and "It opens on" in page
    shown = fresh.get(f"/letters/{letter.id}/written").data.decode()
    assert WORDS in shown and SECRET not in shown
    # They can carry on with the waiting one, and it is audited as a professional read.
    assert fresh.get(f"/letters/{waiting.id}/edit").status_code == 200
    read = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.actor_id == newcomer.id, AuditEvent.action == "letter:read"
        )
    ).all()
    assert read and read[0].child_id == world.child.id


def test_talking_about_a_letter_tells_the_social_worker(
    app: Flask, client: FlaskClient, world: World
) -> None:
    letter = write(client, world, rule="asked")
    young = app.test_client()
    login_as(young, world.young_person)
    young.post(f"/letters/{letter.id}/ask")
    client.post(f"/letters/{letter.id}/agree")
    assert young.get(f"/letters/{letter.id}/talk").status_code == 200
    response = young.post(f"/letters/{letter.id}/talk", data={"words": "Can we talk?"})
    assert response.status_code == 302
    request = db.session.scalars(select(TalkRequest)).one()
    assert request.letter_id == letter.id and request.item_id is None
    assert "a letter" in young.get(response.location).data.decode()
    page = client.get(f"/talk/{request.id}").data.decode()
    assert "about a letter" in page and "Why you are in care" in page
    assert (
        "would like to talk about a letter" in client.get(f"/shared/{world.child.id}").data.decode()
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "body": WORDS, "rule": "asked"}, "Please give the letter a title."),
        ({"title": "T", "body": "", "rule": "asked"}, "Please write the letter."),
        ({"title": "T", "body": WORDS, "rule": "nonsense"}, "Not a valid choice"),
        ({"title": "T", "body": WORDS, "rule": "date"}, "Please give the day it opens"),
        ({"title": "T", "body": WORDS, "rule": "date", "opens_on": "2001-01-01"}, "after today"),
        ({"title": "T", "body": WORDS, "rule": "date", "opens_on": "soon"}, "Not a valid date"),
        ({"title": "T", "body": WORDS, "rule": "age", "opens_at_age": "1"}, "already come"),
        ({"title": "T", "body": WORDS, "rule": "age", "opens_at_age": "500"}, "from 1 to 99"),
        ({"title": "T", "body": WORDS, "rule": "age", "opens_at_age": "x"}, "Not a valid integer"),
        ({"title": "T" * 81, "body": WORDS, "rule": "asked"}, "80"),
    ],
)
def test_bad_input_gets_a_clear_message(
    client: FlaskClient, world: World, data: dict[str, str], message: str
) -> None:
    login_as(client, world.social_worker)
    response = client.post(f"/children/{world.child.id}/letters/new", data=data)
    assert response.status_code == 400
    assert message in response.data.decode()
    assert db.session.scalar(select(Letter)) is None


def test_a_birthday_needs_a_date_of_birth(client: FlaskClient, world: World) -> None:
    login_as(client, world.social_worker)
    response = client.post(
        f"/children/{world.young_child.id}/letters/new",
        data={"title": "T", "body": WORDS, "rule": "age", "opens_at_age": "18"},
    )
    assert response.status_code == 400
    assert "We don&#39;t know Casey&#39;s date of birth" in response.data.decode()


def test_a_bad_gentle_choice_is_a_400(app: Flask, client: FlaskClient, world: World) -> None:
    letter = write(client, world, rule="asked")
    young = app.test_client()
    login_as(young, world.young_person)
    young.post(f"/letters/{letter.id}/ask")
    client.post(f"/letters/{letter.id}/agree")
    assert young.post(f"/letters/{letter.id}/gentle", data={"choice": "eat"}).status_code == 400
    assert (
        young.post(
            f"/letters/{letter.id}/gentle", data={"choice": "later_with_someone"}
        ).status_code
        == 302
    )
    assert (
        "You wanted to open this with someone" in young.get(f"/letters/{letter.id}").data.decode()
    )
    # No adult sees that choice.
    assert "with someone" not in client.get(f"/letters/{letter.id}/written").data.decode()


def test_access_ends_with_the_allocation(client: FlaskClient, world: World) -> None:
    letter = write(client, world, rule="asked")
    mine = select(Allocation).where(Allocation.social_worker_id == world.social_worker.id)
    for row in db.session.scalars(mine):
        row.end_date = clock.today()
    db.session.commit()
    assert client.get(f"/letters/{letter.id}/written").status_code == 404
    assert client.get(f"/children/{world.child.id}/letters/written").status_code == 404


def test_the_childs_pages_are_in_plain_words(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = write(client, world, rule="age", opens_at_age="16")
    asked = write(client, world, rule="asked")
    opened = write(client, world, rule="asked")
    young = app.test_client()
    login_as(young, world.young_person)
    young.post(f"/letters/{opened.id}/ask")
    client.post(f"/letters/{opened.id}/agree")
    too_hard = []
    for path in (
        f"/children/{world.child.id}/letters",
        f"/letters/{waiting.id}",
        f"/letters/{asked.id}",
        f"/letters/{opened.id}",
        f"/letters/{opened.id}?open=1",
        f"/letters/{opened.id}/talk",
    ):
        response = young.get(path)
        assert response.status_code == 200, path
        text = words_of(response.data.decode()).replace(WORDS, "").replace(NOTE, "")
        grade = _grade(text)
        if grade > HIGHEST_GRADE:
            too_hard.append(f"{path}: grade {grade:.1f}\n{text}")
    assert not too_hard, "\n\n".join(too_hard)


def test_a_worker_deletes_a_draft_after_being_asked_but_never_a_given_letter(
    app: Flask, client: FlaskClient, world: World
) -> None:
    login_as(client, world.social_worker)
    data = {"title": "Not right yet", "body": WORDS, "content_note": "", "rule": "asked"}
    assert client.post(f"/children/{world.child.id}/letters/new", data=data).status_code == 302
    draft = db.session.scalars(select(Letter).order_by(Letter.id.desc())).first()
    assert draft is not None and not draft.given
    draft_id = draft.id
    page = client.get(f"/letters/{draft_id}/written").data.decode()
    assert "Delete this draft" in page
    asked = client.get(f"/letters/{draft_id}/delete")
    assert asked.status_code == 200 and "be undone" in asked.data.decode()
    assert db.session.get(Letter, draft_id) is not None  # asking deletes nothing
    done = client.post(f"/letters/{draft_id}/delete")
    assert done.status_code == 302 and done.location.endswith(
        f"/children/{world.child.id}/letters/written"
    )
    db.session.expire_all()
    assert db.session.get(Letter, draft_id) is None
    assert not db.session.scalars(
        select(LetterVersion).where(LetterVersion.letter_id == draft_id)
    ).all()
    assert (
        db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "letter:delete", AuditEvent.target_id == draft_id
            )
        )
        is not None
    )
    # A letter the child was given stays theirs: no button, and the route refuses.
    given = write(client, world, rule="asked")
    assert "Delete this draft" not in client.get(f"/letters/{given.id}/written").data.decode()
    assert client.post(f"/letters/{given.id}/delete").status_code == 404
    assert db.session.get(Letter, given.id) is not None
