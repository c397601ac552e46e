"""Closing the loops between the child and the adults: every notification leads to its thing
(and only while its reader may see it), "I'd like to talk about this" for things not shared,
help that is urgent until acknowledged and escalates when nobody does, a single view of each
child, and a child (and a carer) who is always told, without content leaving the app."""

from __future__ import annotations

import io
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from memorybox import clock, policy
from memorybox.accounts.models import Role, User
from memorybox.audit.models import AuditEvent
from memorybox.children.services import placements_of
from memorybox.db import db
from memorybox.exports import services as exports
from memorybox.exports.models import ExportKind
from memorybox.memories import services as memories
from memorybox.memories.models import Comment, MemoryItem
from memorybox.notifications import help as helping
from memorybox.notifications.mail import FileMailer
from memorybox.notifications.models import HelpRequest, Notification, TalkRequest
from memorybox.notifications.service import Sender
from memorybox.policy import Action
from memorybox.sharing.models import Audience, Basis, Consent
from memorybox.story.models import StorySection
from tests import factories
from tests.factories import World, login_as


@pytest.fixture
def mail(app: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "mail"
    app.extensions["memorybox.mailer"] = FileMailer(str(folder))
    return folder


def emails(folder: Path) -> list[tuple[str, str, str]]:
    """(to, subject, body) of every email sent."""
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes())
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        found.append((str(message["To"]), str(message["Subject"]), body.decode()))
    return found


def client_for(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login_as(client, user)
    return client


def notes_of(user: User, kind: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


def sender(app: Flask) -> Sender:
    return Sender(app.extensions["memorybox.mailer"], app.config["BASE_URL"], "mb@example.org")


@pytest.fixture
def beach(app: Flask, world: World) -> MemoryItem:
    return factories.item(app, world.child, world.young_person, title="Beach day with Nan")


# --- every notification leads to its thing ---------------------------------------------------


def test_opening_a_message_marks_it_read_and_leads_to_exactly_its_item(app, world, beach):
    child = client_for(app, world.young_person)
    child.post(
        f"/items/{beach.id}/share",
        data={"audience": "social_worker", "person_id": "", "ends_on": "", "childs_wishes": ""},
    )
    (note,) = notes_of(world.social_worker, "shared")
    assert "Beach day" not in note.message, "messages hold no content"
    sw = client_for(app, world.social_worker)
    assert b'<span class="badge">1' in sw.get("/caseload").data
    opened = sw.get(f"/notifications/{note.id}")
    assert opened.status_code == 302 and opened.headers["Location"] == f"/items/{beach.id}"
    assert sw.get(opened.headers["Location"]).status_code == 200
    db.session.refresh(note)
    assert note.read_at is not None
    assert b'<span class="badge">1' not in sw.get("/caseload").data, "unread count went down"
    assert b"Mark all as read" in sw.get("/notifications").data


def test_a_message_about_something_no_longer_shared_shows_nothing_of_it(app, world, beach):
    child = client_for(app, world.young_person)
    child.post(
        f"/items/{beach.id}/share",
        data={"audience": "social_worker", "person_id": "", "ends_on": "", "childs_wishes": ""},
    )
    consent = db.session.scalar(select(Consent))
    child.post(f"/consents/{consent.id}/stop")
    (note,) = notes_of(world.social_worker, "shared")
    sw = client_for(app, world.social_worker)
    page = sw.get(f"/notifications/{note.id}")
    assert page.status_code == 200
    assert b"You can't open this any more" in page.data
    assert b"Beach day" not in page.data and b"Beach day" not in sw.get("/notifications").data


def test_a_carer_whose_placement_ended_gets_nothing_from_an_old_message(app, world, beach):
    client_for(app, world.young_person).post(
        f"/items/{beach.id}/share",
        data={"audience": "carers", "person_id": "", "ends_on": "", "childs_wishes": ""},
    )
    (note,) = notes_of(world.carer, "shared")
    carer = client_for(app, world.carer)
    assert carer.get(f"/notifications/{note.id}").status_code == 302
    placement = next(p for p in placements_of(world.child) if p.carer_id == world.carer.id)
    placement.end_date = clock.today()
    db.session.commit()
    page = carer.get(f"/notifications/{note.id}")
    assert page.status_code == 200 and b"You can't open this any more" in page.data
    assert b"Beach day" not in page.data


def test_someone_elses_message_is_not_found(app, world, beach):
    client_for(app, world.young_person).post(f"/children/{world.child.id}/help")
    (note,) = notes_of(world.social_worker, "help")
    for person in (world.carer, world.manager, world.young_person, world.ended_social_worker):
        response = client_for(app, person).get(f"/notifications/{note.id}")
        assert response.status_code == 404
    db.session.refresh(note)
    assert note.read_at is None


# --- "I'd like to talk about this" ---------------------------------------------------------


def talk(client: FlaskClient, item: MemoryItem, **data: str):
    return client.post(f"/items/{item.id}/talk", data=data, follow_redirects=True)


def test_talk_asks_in_plain_words_and_yes_shares_that_one_item_with_that_worker(app, world, beach):
    other = factories.item(app, world.child, world.young_person, title="Private diary")
    child = client_for(app, world.young_person)
    form = child.get(f"/items/{beach.id}/talk").data
    assert b"Can Sam see" in form and b"It is fine to say no." in form
    done = talk(child, beach, words="It makes me sad", show_item="yes")
    assert b"We have told Sam" in done.data and b"Sam can see" in done.data
    (consent,) = db.session.scalars(select(Consent)).all()
    assert (consent.item_id, consent.audience, consent.person_id, consent.basis) == (
        beach.id,
        Audience.PERSON,
        world.social_worker.id,
        Basis.OWN_DECISION,
    )
    assert policy.can(world.social_worker, Action.ITEM_VIEW, beach)
    assert not policy.can(world.social_worker, Action.ITEM_VIEW, other)
    assert not policy.can(world.carer, Action.ITEM_VIEW, beach)
    (note,) = notes_of(world.social_worker, "talk")
    sw = client_for(app, world.social_worker)
    landing = sw.get(sw.get(f"/notifications/{note.id}").headers["Location"]).data
    assert b"It makes me sad" in landing and f"/items/{beach.id}".encode() in landing
    # the child can stop it like any other share
    child.post(f"/consents/{consent.id}/stop")
    assert not policy.can(world.social_worker, Action.ITEM_VIEW, beach)
    assert b"Beach day" not in sw.get(f"/talk/{note.target_id}").data


def test_talk_without_showing_tells_the_worker_and_shows_nothing(app, world, beach):
    child = client_for(app, world.young_person)
    done = talk(child, beach, words="", show_item="no")
    assert b"We have told Sam" in done.data
    assert db.session.scalars(select(Consent)).all() == []
    request = db.session.scalar(select(TalkRequest))
    assert request is not None and not request.shows_item
    sw = client_for(app, world.social_worker)
    page = sw.get(f"/talk/{request.id}").data
    assert b"would like to talk" in page and b"has not shared it with you" in page
    assert b"Beach day" not in page
    assert sw.get(f"/items/{beach.id}").status_code == 404


def test_talk_about_something_already_shared_does_not_ask_again(app, world, beach):
    child = client_for(app, world.young_person)
    child.post(
        f"/items/{beach.id}/share",
        data={"audience": "social_worker", "person_id": "", "ends_on": "", "childs_wishes": ""},
    )
    form = child.get(f"/items/{beach.id}/talk").data
    assert b"can already see this" in form and b"Can Sam see" not in form
    assert b"We have told Sam" in talk(child, beach).data
    assert len(db.session.scalars(select(Consent)).all()) == 1


def test_talk_needs_an_answer_and_few_words_and_loses_nothing(app, world, beach):
    child = client_for(app, world.young_person)
    unanswered = child.post(f"/items/{beach.id}/talk", data={"words": "Please help"})
    assert unanswered.status_code == 400 and b"Please choose yes or no." in unanswered.data
    assert b"Please help" in unanswered.data, "what the child wrote is still there"
    long = child.post(f"/items/{beach.id}/talk", data={"words": "x" * 501, "show_item": "no"})
    assert long.status_code == 400 and b"under 500 letters" in long.data
    assert db.session.scalars(select(TalkRequest)).all() == []


def test_a_younger_childs_yes_is_their_wish_for_the_worker_to_act_on(app, world):
    young = factories.user(app, world.authority, Role.YOUNG_PERSON, "Finn")
    finn = factories.child(world.authority, young, "Finn", age=9)
    factories.allocation(finn, world.social_worker)
    drawing = factories.item(app, finn, young, title="My drawing")
    talk(client_for(app, young), drawing, show_item="yes")
    assert db.session.scalars(select(Consent)).all() == [], "Finn does not decide yet"
    request = db.session.scalar(select(TalkRequest))
    assert request is not None and request.shows_item
    page = client_for(app, world.social_worker).get(f"/talk/{request.id}").data
    assert b"said you may see it" in page and f"/items/{drawing.id}/share".encode() in page


def test_talk_with_no_social_worker_says_so_kindly(app, world):
    young = factories.user(app, world.authority, Role.YOUNG_PERSON, "Gus")
    gus = factories.child(world.authority, young, "Gus", age=14)
    photo = factories.item(app, gus, young, title="Bike")
    done = talk(client_for(app, young), photo, show_item="yes")
    assert b"have a social worker in Memory Box right now" in done.data
    assert db.session.scalars(select(TalkRequest)).all() == []


def test_deleting_the_item_for_ever_keeps_the_request_to_talk(app, world, beach):
    talk(client_for(app, world.young_person), beach, words="Soon", show_item="yes")
    memories.move_to_bin(beach)
    memories.delete_for_ever(beach, app.extensions["memorybox.storage"])
    request = db.session.scalar(select(TalkRequest))
    assert request is not None and request.item_id is None
    page = client_for(app, world.social_worker).get(f"/talk/{request.id}")
    assert page.status_code == 200 and b"Soon" in page.data


def test_acknowledging_a_talk_request_tells_the_child(app, world, beach):
    talk(client_for(app, world.young_person), beach, show_item="no")
    request = db.session.scalar(select(TalkRequest))
    assert client_for(app, world.social_worker).post(f"/talk/{request.id}/seen").status_code == 302
    (note,) = notes_of(world.young_person, "talk_seen")
    assert "Sam has seen" in note.message
    page = client_for(app, world.young_person).get(f"/talk/{request.id}").data
    assert b"saw it" in page
    again = client_for(app, world.social_worker).post(f"/talk/{request.id}/seen")
    assert again.status_code == 404, "once is enough"


# --- help: urgent until acknowledged, escalated when nobody does ----------------------------


def ask_for_help(app: Flask, world: World) -> HelpRequest:
    page = client_for(app, world.young_person).post(
        f"/children/{world.child.id}/help", follow_redirects=True
    )
    assert b"We have told Sam" in page.data
    assert b"999" in page.data and b"0800 1111" in page.data
    request = db.session.scalars(select(HelpRequest).order_by(HelpRequest.id.desc())).first()
    assert request is not None
    return request


def test_help_is_urgent_on_top_of_caseload_and_messages_until_acknowledged(app, world, beach):
    client_for(app, world.young_person).post(
        f"/items/{beach.id}/share",
        data={"audience": "social_worker", "person_id": "", "ends_on": "", "childs_wishes": ""},
    )
    request = ask_for_help(app, world)
    later = clock.now() + timedelta(minutes=5)
    db.session.add(
        Notification(
            user_id=world.social_worker.id, kind="other", message="Later", created_at=later
        )
    )
    db.session.commit()
    sw = client_for(app, world.social_worker)
    caseload = sw.get("/caseload").data.decode()
    assert "Urgent: help nobody has said they have seen" in caseload
    assert caseload.index("Alex pressed") < caseload.index("Children allocated to you")
    messages = sw.get("/notifications").data.decode()
    assert messages.index("pressed “I need help”") < messages.index("Later"), "urgent on top"
    assert sw.post(f"/help/{request.id}/seen").status_code == 302
    assert "Urgent: help" not in sw.get("/caseload").data.decode()
    messages = sw.get("/notifications").data.decode()
    assert messages.index("Later") < messages.index("pressed “I need help”"), "no longer pinned"
    (told,) = notes_of(world.young_person, "help_seen")
    assert told.message.startswith("Sam has seen")
    seen_page = client_for(app, world.young_person).get(f"/help/{request.id}").data
    assert b"Sam, your social worker, saw it" in seen_page
    listing = client_for(app, world.young_person).get(f"/children/{world.child.id}/help").data
    assert b"Seen by Sam" in listing


def test_help_escalates_after_the_authoritys_working_hours_once_and_is_recorded(
    app, world, mail, monkeypatch
):
    world.authority.duty_email = "duty@council.example.org"
    world.authority.help_escalation_hours = 2
    db.session.commit()
    request = ask_for_help(app, world)
    assert request.escalate_at is not None and request.escalate_at > request.created_at
    assert helping.escalate_due(sender(app)) == 0, "not before its time"
    future = request.escalate_at + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: future)
    assert helping.escalate_due(sender(app)) == 1
    assert helping.escalate_due(sender(app)) == 0, "sent on once"
    db.session.refresh(request)
    assert request.escalated_at == future and "duty@council.example.org" in request.escalated_to
    (note,) = notes_of(world.manager, "help_escalated")
    assert note.urgent and "nobody has said they have seen it" in note.message
    assert not notes_of(world.other_manager), "another authority's managers hear nothing"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "help:escalated"))
    assert event is not None and event.target_id == request.id
    duty = [m for m in emails(mail) if m[0] == "duty@council.example.org"]
    assert len(duty) == 1 and "Alex" in duty[0][2] and f"/help/{request.id}" in duty[0][2]
    # the manager can open it and say it was seen; the child is told who
    manager = client_for(app, world.manager)
    page = manager.get(manager.get(f"/notifications/{note.id}").headers["Location"]).data
    assert b"Sent on" in page and b"because nobody had said they had seen it" in page
    assert manager.post(f"/help/{request.id}/seen").status_code == 302
    assert notes_of(world.young_person, "help_seen")[0].message.startswith("Priya has seen")


def test_acknowledged_help_is_never_escalated(app, world, monkeypatch):
    request = ask_for_help(app, world)
    client_for(app, world.social_worker).post(f"/help/{request.id}/seen")
    assert request.escalate_at is not None
    monkeypatch.setattr(clock, "now", lambda: request.escalate_at + timedelta(days=3))
    assert helping.escalate_due(sender(app)) == 0
    assert not notes_of(world.manager, "help_escalated")


def test_a_chosen_team_manager_is_told_instead_of_every_manager(app, world, monkeypatch):
    lead = factories.user(app, world.authority, Role.MANAGER, "Team lead")
    manager = client_for(app, world.manager)
    chosen = manager.post(
        f"/manage/people/{world.social_worker.id}/team-manager",
        data={"team_manager_id": str(lead.id)},
    )
    assert chosen.status_code == 302
    forged = manager.post(
        f"/manage/people/{world.social_worker.id}/team-manager",
        data={"team_manager_id": str(world.other_manager.id)},
        follow_redirects=True,
    )
    assert b"Please choose a manager from your authority." in forged.data
    db.session.refresh(world.social_worker)
    assert world.social_worker.team_manager_id == lead.id
    request = ask_for_help(app, world)
    monkeypatch.setattr(clock, "now", lambda: request.escalate_at + timedelta(minutes=1))
    helping.escalate_due(sender(app))
    assert notes_of(lead, "help_escalated") and not notes_of(world.manager, "help_escalated")


def test_help_with_no_social_worker_goes_to_the_duty_team_at_once(app, world, mail):
    world.authority.duty_email = "duty@council.example.org"
    db.session.commit()
    young = factories.user(app, world.authority, Role.YOUNG_PERSON, "Gus")
    gus = factories.child(world.authority, young, "Gus", age=14)
    page = client_for(app, young).post(f"/children/{gus.id}/help", follow_redirects=True)
    assert b"We have told the duty team" in page.data
    request = db.session.scalar(select(HelpRequest))
    assert request is not None and request.escalated_at is not None
    assert [n.urgent for n in notes_of(world.manager, "help_escalated")] == [True]
    assert any(to == "duty@council.example.org" for to, _, _ in emails(mail))
    caseloads = client_for(app, world.manager).get("/manage/caseloads").data
    assert b"Help from children with no social worker" in caseloads


def test_nothing_claims_to_be_an_emergency_service(app, world):
    request = ask_for_help(app, world)
    for person in (world.young_person, world.social_worker):
        page = client_for(app, person).get(f"/help/{request.id}").data
        assert b"999" in page


# --- a single view of each child, and counts for managers -----------------------------------


def test_the_single_view_gathers_what_needs_the_worker_most_urgent_first(app, world, beach):
    world.authority.moderation_required = True
    db.session.commit()
    child = client_for(app, world.young_person)
    child.post(
        f"/items/{beach.id}/share",
        data={"audience": "social_worker", "person_id": "", "ends_on": "", "childs_wishes": ""},
    )
    other = factories.item(app, world.child, world.young_person, title="Football")
    talk(child, other, show_item="no")
    carer = client_for(app, world.carer)
    carer.post(
        f"/children/{world.child.id}/add",
        data={"file": (io.BytesIO(factories.jpeg_bytes()), "zoo.jpg"), "title": "Zoo trip"},
        content_type="multipart/form-data",
    )
    child.post(f"/children/{world.child.id}/help")
    page = client_for(app, world.social_worker).get(f"/shared/{world.child.id}").data.decode()
    needs = page.split('id="needs-heading"', 1)[1].split("</section>", 1)[0]
    order = [
        needs.index("pressed “I need help”"),
        needs.index("would like to talk"),
    ]
    assert order == sorted(order) and needs.index("Urgent") < order[0]
    assert "“Zoo trip” for you to check" in needs
    assert "“Beach day with Nan” was shared with you" in needs
    assert "Football" not in page, "a talk request shows nothing of an unshared item"


def test_the_caseload_lists_children_by_what_needs_attention(app, world):
    young = factories.user(app, world.authority, Role.YOUNG_PERSON, "Aaron")
    aaron = factories.child(world.authority, young, "Aaron", age=15)
    factories.allocation(aaron, world.social_worker)
    page = client_for(app, world.social_worker).get("/caseload").data.decode()
    listed = page.split('aria-label="Children allocated to you"', 1)[1]
    assert listed.index("Aaron") < listed.index("Alex"), "by name when nothing needs them"
    ask_for_help(app, world)
    listed = (
        client_for(app, world.social_worker)
        .get("/caseload")
        .data.decode()
        .split('aria-label="Children allocated to you"', 1)[1]
    )
    assert listed.index("Alex") < listed.index("Aaron"), "help first"
    assert "1 help request not seen yet" in listed


def test_managers_see_counts_per_social_worker_never_contents(app, world, beach):
    client_for(app, world.young_person).post(
        f"/items/{beach.id}/share",
        data={"audience": "social_worker", "person_id": "", "ends_on": "", "childs_wishes": ""},
    )
    talk(client_for(app, world.young_person), beach, words="About Nan", show_item="no")
    ask_for_help(app, world)
    page = client_for(app, world.manager).get("/manage/caseloads").data.decode()
    row = page.split(">Sam</a>", 1)[1].split("</tr>", 1)[0]
    cells = [c.split("</td>")[0].strip() for c in row.split("<td>")[1:]]
    # Sam has Alex and Casey; one help request, one request to talk, nothing to approve
    assert cells[:4] == ["2", "<strong>1 urgent</strong>", "1", "0"]
    assert "Beach day" not in page and "About Nan" not in page
    assert client_for(app, world.other_manager).get("/manage/caseloads").data.count(b"Sam") == 0


# --- the child is told, in their words, and so is the carer ----------------------------------


def add_as_carer(app: Flask, world: World, title: str) -> MemoryItem:
    carer = client_for(app, world.carer)
    response = carer.post(
        f"/children/{world.child.id}/add",
        data={"file": (io.BytesIO(factories.jpeg_bytes()), "photo.jpg"), "title": title},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    item = db.session.scalar(select(MemoryItem).where(MemoryItem.title == title))
    assert item is not None
    return item


def test_a_carers_suggestion_reaches_the_child_and_the_carer_hears_the_answer(app, world, mail):
    sports = add_as_carer(app, world, "Sports day")
    (note,) = notes_of(world.young_person, "suggestion")
    assert note.message.startswith("Jo sent you something") and "Sports" not in note.message
    child = client_for(app, world.young_person)
    assert child.get(f"/notifications/{note.id}").headers["Location"] == f"/items/{sports.id}"
    assert not emails(mail) or all(to != world.young_person.email for to, _, _ in emails(mail))
    child.post(f"/items/{sports.id}/keep", data={"words": ""})
    (told,) = notes_of(world.carer, "decided")
    assert told.message == "Alex kept what you sent."
    walk = add_as_carer(app, world, "Rainy walk")
    child.post(f"/items/{walk.id}/decline", data={"words": "I do not like rain"})
    told = notes_of(world.carer, "decided")[-1]
    assert told.message == "Alex chose not to keep what you sent. Alex wrote you a few words."
    carer = client_for(app, world.carer)
    landing = carer.get(f"/notifications/{told.id}").headers["Location"]
    assert landing == f"/items/{walk.id}#comments"
    assert b"I do not like rain" in carer.get(landing).data
    assert db.session.scalar(select(Comment).where(Comment.item_id == walk.id)) is not None
    for _, subject, body in emails(mail):
        assert "Sports" not in body + subject and "rain" not in body + subject


def test_moderation_tells_the_worker_then_the_child_when_passed_on(app, world):
    world.authority.moderation_required = True
    db.session.commit()
    zoo = add_as_carer(app, world, "Zoo trip")
    (review,) = notes_of(world.social_worker, "review")
    assert not notes_of(world.young_person, "suggestion")
    sw = client_for(app, world.social_worker)
    assert sw.get(f"/notifications/{review.id}").headers["Location"] == f"/items/{zoo.id}"
    sw.post(f"/items/{zoo.id}/approve")
    (approved,) = notes_of(world.young_person, "approved")
    child = client_for(app, world.young_person)
    assert child.get(f"/notifications/{approved.id}").headers["Location"] == f"/items/{zoo.id}"
    # once checked, the review message no longer leads to the item
    assert b"You can't open this any more" in sw.get(f"/notifications/{review.id}").data


def test_the_child_hears_of_comments_and_of_a_first_read_and_can_turn_reads_off(app, world):
    sports = add_as_carer(app, world, "Sports day")
    carer = client_for(app, world.carer)
    carer.post(f"/items/{sports.id}/comments", data={"body": "You ran so fast!"})
    (comment,) = notes_of(world.young_person, "comment")
    child = client_for(app, world.young_person)
    assert child.get(f"/notifications/{comment.id}").headers["Location"].endswith("#comments")
    assert "fast" not in comment.message
    child.post(f"/children/{world.child.id}/story/sections", data={"title": "Football"})
    section = db.session.scalar(select(StorySection))
    child.post(f"/story/{section.id}", data={"body": "I play in goal."})
    child.post(
        f"/story/{section.id}/share",
        data={"audience": "social_worker", "person_id": "", "ends_on": "", "childs_wishes": ""},
    )
    sw = client_for(app, world.social_worker)
    sw.get(f"/shared/story/{section.id}")
    sw.get(f"/shared/story/{section.id}")
    (read,) = notes_of(world.young_person, "story_read")
    assert read.message == "Sam read part of your story for the first time."
    assert child.get(f"/notifications/{read.id}").headers["Location"] == (
        f"/children/{world.child.id}/story#who-read"
    )
    child.post("/notifications/settings", data={})  # both boxes unticked
    db.session.refresh(world.young_person)
    assert not world.young_person.tell_me_reads and not world.young_person.wants_email
    carer_section_reader = client_for(app, world.carer)
    child.post(
        f"/story/{section.id}/share",
        data={"audience": "carers", "person_id": "", "ends_on": "", "childs_wishes": ""},
    )
    carer_section_reader.get(f"/shared/story/{section.id}")
    assert len(notes_of(world.young_person, "story_read")) == 1, "turned off"


def test_emails_carry_a_first_name_and_no_content_and_children_choose_them(app, world, mail):
    add_as_carer(app, world, "Sports day at Hillside School")
    assert emails(mail) == [], "young people get no email until they choose it"
    child = client_for(app, world.young_person)
    child.post("/notifications/settings", data={"email_messages": "y", "tell_me_reads": "y"})
    add_as_carer(app, world, "Another from Hillside School")
    ((to, subject, body),) = emails(mail)
    assert to == world.young_person.email
    assert subject == "You have a new message in Memory Box"
    assert body.startswith("Hi Alex,") and "Hillside" not in body and "Jo" not in body
    ask_for_help(app, world)
    subjects = {s for t, s, _ in emails(mail) if t == world.social_worker.email}
    assert subjects == {"Urgent: You have a new message in Memory Box"}
    sw_body = next(b for t, _, b in emails(mail) if t == world.social_worker.email)
    assert "Alex" not in sw_body and sw_body.startswith("Hi Sam,")


def test_adults_can_turn_emails_off(app, world, mail):
    client_for(app, world.social_worker).post("/notifications/settings", data={})
    ask_for_help(app, world)
    assert emails(mail) == [] and notes_of(world.social_worker, "help")


# --- fixes found on the way --------------------------------------------------------------------


def test_the_capacity_panel_is_only_for_a_child_who_does_not_decide_yet(app, world):
    sw = client_for(app, world.social_worker)
    page = sw.get(f"/shared/{world.child.id}").data
    assert b"does not decide about sharing for themselves yet" not in page, "Alex is 13"
    young = factories.user(app, world.authority, Role.YOUNG_PERSON, "Finn")
    finn = factories.child(world.authority, young, "Finn", age=9)
    factories.allocation(finn, world.social_worker)
    assert b"does not decide about sharing" in sw.get(f"/shared/{finn.id}").data
    assert sw.post(f"/caseload/children/{finn.id}/decides-sharing").status_code == 302
    assert b"does not decide about sharing" not in sw.get(f"/shared/{finn.id}").data


def test_json_export_items_have_the_checksum_of_the_stored_file(app, world, beach):
    import hashlib
    import json

    storage = app.extensions["memorybox.storage"]
    stored = b"".join(storage.iter_bytes(beach.storage_key))
    assert beach.sha256 == hashlib.sha256(stored).hexdigest()
    beach.sha256 = ""  # as items processed before checksums were kept
    db.session.commit()
    export = exports.request(world.young_person, world.child, ExportKind.JSON)
    exports.build(export.id, storage)
    db.session.refresh(export)
    document = json.loads(b"".join(storage.iter_bytes(export.storage_key)))
    (entry,) = document["items"]
    assert entry["sha256"] == hashlib.sha256(stored).hexdigest()


def test_the_childs_menu_stays_on_messages_password_and_error_pages(app, world):
    child = client_for(app, world.young_person)
    for url in ("/notifications", "/notifications/settings", "/account/password", "/no-page"):
        page = child.get(url).data
        assert b"My box" in page and b"I need help" in page, url
    carer_page = client_for(app, world.carer).get("/notifications").data
    assert b"My box" not in carer_page


def test_the_managers_overview_flags_help_nobody_has_seen(app, world):
    manager = client_for(app, world.manager)
    assert b"not been seen yet" not in manager.get("/manage").data
    request = ask_for_help(app, world)
    assert b"1 \xe2\x80\x9cI need help\xe2\x80\x9d request has not been seen yet" in (
        manager.get("/manage").data
    )
    client_for(app, world.social_worker).post(f"/help/{request.id}/seen")
    assert b"not been seen yet" not in manager.get("/manage").data


def test_a_young_person_chooses_the_colours_of_their_pages(app, world):
    child = client_for(app, world.young_person)
    assert 'class="has-child-nav theme-purple"' in child.get("/").data.decode()
    settings = child.get("/notifications/settings").data.decode()
    assert "Colours for your pages" in settings
    assert child.post("/notifications/settings", data={"theme": "teal"}).status_code == 302
    assert 'class="has-child-nav theme-teal"' in child.get("/").data.decode()
    refused = child.post("/notifications/settings", data={"theme": "<script>"})
    assert refused.status_code == 400 and b"Not a valid choice" in refused.data
    assert 'theme-teal"' in child.get("/").data.decode(), "nothing changed"
    adult = client_for(app, world.social_worker).get("/notifications/settings").data
    assert b"Colours for your pages" not in adult
