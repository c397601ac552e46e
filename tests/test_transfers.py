"""Moving a child to another authority: the sending manager asks, the receiving manager
accepts or declines, the sender may withdraw. On acceptance the child, their box, story and
letters move; every placement, allocation and consent at the old authority ends; nobody
there keeps any access on the very next request; the child is told in plain words; both
sides' managers read what happened."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from memorybox import clock, policy
from memorybox.accounts.models import Role, User
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import db
from memorybox.letters.models import Letter, LetterVersion, ReleaseRule
from memorybox.memories.models import MemoryItem
from memorybox.notifications.models import Notification
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience, Collection, CollectionItem, Consent
from memorybox.story import services as story
from memorybox.story.models import StorySection
from memorybox.transfers import services as transfers
from memorybox.transfers.models import Transfer, TransferState
from tests import factories
from tests.factories import World, login_as
from tests.test_readability import HIGHEST_GRADE, _grade

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)

STORY_WORDS = "I like football and my dog Biscuit."
OWN_WORDS = "The day I moved house."


class Things:
    """What world.child has and shares at the old authority."""

    def __init__(self, app: Flask, w: World) -> None:
        self.beach = factories.item(app, w.child, w.young_person, title="Beach day")
        self.album = Collection(child_id=w.child.id, name="Holidays")
        db.session.add(self.album)
        db.session.flush()
        db.session.add(CollectionItem(collection_id=self.album.id, item_id=self.beach.id))
        db.session.commit()
        sections = story.sections_of(w.child)
        self.prompt_section = sections[0]
        story.save_version(self.prompt_section, STORY_WORDS, [], w.young_person)
        self.own_section = story.add_own_section(w.child, "Moving")
        story.save_version(self.own_section, OWN_WORDS, [], w.young_person)
        give = dict(child=w.child, decided_by=w.young_person, on_behalf=False)
        self.consents = [
            sharing.grant(**give, audience=Audience.SOCIAL_WORKER, item=self.beach),
            sharing.grant(**give, audience=Audience.CARERS, collection=self.album),
            sharing.grant(**give, audience=Audience.PERSON, person=w.ended_carer, item=self.beach),
            sharing.grant(**give, audience=Audience.SOCIAL_WORKER, story_section=self.own_section),
            sharing.grant(**give, audience=Audience.CARERS, story_section=self.prompt_section),
        ]
        db.session.commit()
        self.letter = Letter(
            child_id=w.child.id,
            written_by_id=w.social_worker.id,
            title="For later",
            rule=ReleaseRule.DATE,
            opens_on=clock.today() + timedelta(days=30),
            given_at=clock.now(),
            given_by_id=w.social_worker.id,
        )
        db.session.add(self.letter)
        db.session.flush()
        db.session.add(
            LetterVersion(
                letter_id=self.letter.id,
                number=1,
                body="Dear Alex.",
                created_by_id=w.social_worker.id,
            )
        )
        db.session.commit()


def ask(client: FlaskClient, w: World, **overrides: str) -> Transfer:
    login_as(client, w.manager)
    data = {
        "to_authority": str(w.other_authority.id),
        "planned_on": (clock.today() + timedelta(days=7)).isoformat(),
        "note": "Moving to live with an aunt.",
        **overrides,
    }
    response = client.post(f"/manage/children/{w.child.id}/move", data=data)
    assert response.status_code == 302, response.data.decode()[:3000]
    transfer = db.session.scalars(select(Transfer).order_by(Transfer.id.desc())).first()
    assert transfer is not None
    assert response.headers["Location"].endswith(f"/manage/transfers/{transfer.id}")
    return transfer


def _events(**where: object) -> list[AuditEvent]:
    query = select(AuditEvent).filter_by(**where).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def test_request_then_accept_moves_the_child_and_ends_every_old_access(
    app: Flask, client: FlaskClient, world: World
) -> None:
    w = world
    things = Things(app, w)
    # before: the old social worker, carer and the named person see what was shared
    assert policy.can(w.social_worker, Action.ITEM_VIEW, things.beach)
    assert policy.can(w.carer, Action.COLLECTION_VIEW, things.album)
    assert policy.can(w.ended_carer, Action.ITEM_VIEW, things.beach)
    assert policy.can(w.social_worker, Action.LETTER_READ, things.letter)

    page = client.get(f"/manage/children/{w.child.id}")  # not signed in yet
    assert page.status_code == 302
    login_as(client, w.manager)
    page = client.get(f"/manage/children/{w.child.id}").data.decode()
    assert f"/manage/children/{w.child.id}/move" in page
    form = client.get(f"/manage/children/{w.child.id}/move").data.decode()
    assert w.other_authority.name in form and w.authority.name not in form

    transfer = ask(client, w)
    assert transfer.state is TransferState.WAITING
    assert transfer.from_authority_id == w.authority.id
    assert transfer.to_authority_id == w.other_authority.id
    # nothing has moved yet
    db.session.refresh(w.child)
    assert w.child.authority_id == w.authority.id
    assert policy.can(w.social_worker, Action.ITEM_VIEW, things.beach)
    # one request at a time
    again = client.post(
        f"/manage/children/{w.child.id}/move",
        data={"to_authority": str(w.other_authority.id), "planned_on": "2030-01-01"},
    )
    assert again.status_code == 404
    # the sender cannot answer their own request; the receiver cannot take it back
    assert client.post(f"/manage/transfers/{transfer.id}/accept").status_code == 404
    # the receiving managers are told, and see it coming in
    told = db.session.scalars(
        select(Notification).where(Notification.user_id == w.other_manager.id)
    ).all()
    assert len(told) == 1 and "Alex" in told[0].message
    receiver = FlaskClient(app, app.response_class, use_cookies=True)
    login_as(receiver, w.other_manager)
    assert (
        receiver.get(f"/notifications/{told[0].id}")
        .headers["Location"]
        .endswith(f"/manage/transfers/{transfer.id}")
    )
    listing = receiver.get("/manage/transfers").data.decode()
    assert "Alex" in listing and w.authority.name in listing
    shown = receiver.get(f"/manage/transfers/{transfer.id}").data.decode()
    assert "Moving to live with an aunt." in shown and "Accept the move" in shown
    assert receiver.post(f"/manage/transfers/{transfer.id}/withdraw").status_code == 404
    # declining needs a reason: a clear message, nothing changes
    bad = receiver.post(f"/manage/transfers/{transfer.id}/decline", data={"reason": "  "})
    assert bad.status_code == 400 and "Please say why" in bad.data.decode()
    db.session.refresh(transfer)
    assert transfer.state is TransferState.WAITING

    accepted = receiver.post(f"/manage/transfers/{transfer.id}/accept")
    assert accepted.status_code == 302
    assert accepted.headers["Location"].endswith(f"/manage/children/{w.child.id}")
    db.session.expire_all()

    today = clock.today()
    child = db.session.get(Child, w.child.id)
    assert child is not None and child.authority_id == w.other_authority.id
    young = db.session.get(User, w.young_person.id)
    assert young is not None and young.authority_id == w.other_authority.id
    transfer = db.session.get(Transfer, transfer.id)
    assert transfer is not None and transfer.state is TransferState.ACCEPTED
    assert transfer.moved_on == today and transfer.decided_by_id == w.other_manager.id
    # every placement and allocation has ended by today
    for model in (Placement, Allocation):
        for rel in db.session.scalars(select(model).where(model.child_id == child.id)):
            assert rel.end_date is not None and rel.end_date <= max(today, rel.start_date)
            assert not rel.is_active
    # every consent the child gave has stopped, each audited
    for consent in db.session.scalars(select(Consent).where(Consent.child_id == child.id)):
        assert consent.revoked_at is not None
    ended = _events(action="consent:end-by-transfer", child_id=child.id)
    assert len(ended) == len(things.consents)
    # the box, story and letters are still the child's
    assert db.session.get(MemoryItem, things.beach.id).child_id == child.id  # type: ignore[union-attr]
    assert policy.can(young, Action.ITEM_VIEW, db.session.get(MemoryItem, things.beach.id))
    sections = story.sections_of(child)
    story.prime_latest(sections)
    words = {s.latest.body for s in sections if s.latest is not None}
    assert words == {STORY_WORDS, OWN_WORDS}
    moved = db.session.get(StorySection, things.prompt_section.id)
    assert moved is not None and moved.prompt is not None
    assert moved.prompt.authority_id == w.other_authority.id
    letter = db.session.get(Letter, things.letter.id)
    assert letter is not None and policy.can(young, Action.LETTER_SEE, letter)

    # nobody at the old authority keeps any access, on the very next request
    item = db.session.get(MemoryItem, things.beach.id)
    album = db.session.get(Collection, things.album.id)
    own = db.session.get(StorySection, things.own_section.id)
    prompt_section = db.session.get(StorySection, things.prompt_section.id)
    old_people = [w.social_worker, w.carer, w.ended_carer, w.ended_social_worker, w.manager]
    for person in old_people:
        person = db.session.get(User, person.id)
        assert not policy.can(person, Action.ITEM_VIEW, item), person
        assert not policy.can(person, Action.COLLECTION_VIEW, album), person
        assert not policy.can(person, Action.SECTION_READ, own), person
        assert not policy.can(person, Action.SECTION_READ, prompt_section), person
        assert not policy.can(person, Action.LETTER_READ, letter), person
        assert not policy.can(person, Action.EXPORT_REQUEST, child), person
        assert not policy.can(person, Action.SHARED_VIEW, child), person
        assert not policy.can(person, Action.CHILD_SEE, child), person
        assert not policy.can(person, Action.CHILD_MANAGE, child), person
        assert not policy.can(person, Action.ITEM_ADD, child), person
        assert (
            db.session.scalar(
                select(MemoryItem.id).where(policy.viewable_items(person), MemoryItem.id == item.id)  # type: ignore[union-attr]
            )
            is None
        )
    for person, paths in (
        (
            w.social_worker,
            [
                f"/items/{things.beach.id}",
                f"/shared/{child.id}",
                f"/shared/{child.id}/search?q=Beach",
                f"/shared/{child.id}/story",
                f"/shared/story/{things.own_section.id}",
                f"/albums/{things.album.id}",
                f"/letters/{things.letter.id}/written",
                f"/children/{child.id}/exports",
            ],
        ),
        (w.ended_carer, [f"/items/{things.beach.id}", f"/shared/{child.id}"]),
        (w.carer, [f"/albums/{things.album.id}", f"/shared/story/{things.prompt_section.id}"]),
        (w.manager, [f"/manage/children/{child.id}"]),
    ):
        old = app.test_client()
        login_as(old, person)
        for path in paths:
            assert old.get(path).status_code == 404, (person.display_name, path)
    # the old social worker's caseload no longer lists the child
    old = app.test_client()
    login_as(old, w.social_worker)
    assert "Alex" not in old.get("/caseload").data.decode()
    # the child can no longer name anyone from the old authority
    assert sharing.people_in_childs_life(child) == []

    # the child is told, in plain words
    notes = db.session.scalars(
        select(Notification).where(
            Notification.user_id == w.young_person.id, Notification.kind == "moved"
        )
    ).all()
    assert len(notes) == 1
    message = notes[0].message
    new, old_name = w.other_authority.name, w.authority.name
    assert message.startswith(f"You have moved to {new}.")
    assert f"{old_name} people can't see your things any more." in message
    assert "Your memories and your story are still here." in message
    plain = message.replace(new, "Leeds").replace(old_name, "Hull")
    assert _grade(plain) <= HIGHEST_GRADE, plain
    kid = app.test_client()
    login_as(kid, w.young_person)
    assert f"You have moved to {new}" in kid.get("/notifications").data.decode()
    history = kid.get(f"/children/{child.id}/sharing").data.decode()
    assert history.count("Stopped when you moved") == len(things.consents)
    assert w.other_manager.display_name not in history

    # both sides read what happened; the old manager is told it was accepted
    for manager in (w.manager, w.other_manager):
        reader = app.test_client()
        login_as(reader, manager)
        shown = reader.get(f"/manage/transfers/{transfer.id}").data.decode()
        assert "accepted: the child moved" in shown and "asked to move the child" in shown
    assert db.session.scalars(
        select(Notification).where(
            Notification.user_id == w.manager.id, Notification.kind == "transfer"
        )
    ).first()
    for action in ("transfer:request", "transfer:accept", "child:moved"):
        assert _events(action=action, child_id=child.id), action

    # the new manager allocates a social worker, who sees nothing until the child shares
    new_sw = factories.user(app, w.other_authority, Role.SOCIAL_WORKER, "Nia")
    response = receiver.post(
        f"/manage/children/{child.id}/allocations",
        data={"allocation-person_id": str(new_sw.id), "allocation-start_date": today.isoformat()},
    )
    assert response.status_code == 302, response.data.decode()[:2000]
    db.session.expire_all()
    new_sw = db.session.get(User, new_sw.id)
    item = db.session.get(MemoryItem, things.beach.id)
    own = db.session.get(StorySection, things.own_section.id)
    child = db.session.get(Child, w.child.id)
    assert policy.can(new_sw, Action.CHILD_SEE, child)
    assert not policy.can(new_sw, Action.ITEM_VIEW, item)
    assert not policy.can(new_sw, Action.SECTION_READ, own)
    # letters follow the allocation: the new worker carries on with the waiting letter
    assert policy.can(new_sw, Action.LETTER_READ, db.session.get(Letter, things.letter.id))
    assert [p.id for p in sharing.people_in_childs_life(child)] == [new_sw.id]
    share = kid.post(
        f"/items/{things.beach.id}/share",
        data={"audience": "social_worker", "person_id": "", "ends_on": "", "childs_wishes": ""},
    )
    assert share.status_code == 302
    db.session.expire_all()
    assert policy.can(
        db.session.get(User, new_sw.id),
        Action.ITEM_VIEW,
        db.session.get(MemoryItem, things.beach.id),
    )
    assert not policy.can(
        db.session.get(User, w.social_worker.id),
        Action.ITEM_VIEW,
        db.session.get(MemoryItem, things.beach.id),
    )


def test_withdraw_and_decline(app: Flask, client: FlaskClient, world: World) -> None:
    w = world
    transfer = ask(client, w)
    assert client.post(f"/manage/transfers/{transfer.id}/withdraw").status_code == 302
    db.session.refresh(transfer)
    assert transfer.state is TransferState.WITHDRAWN
    receiver = app.test_client()
    login_as(receiver, w.other_manager)
    assert receiver.post(f"/manage/transfers/{transfer.id}/accept").status_code == 404
    db.session.refresh(w.child)
    assert w.child.authority_id == w.authority.id
    assert _events(action="transfer:withdraw", target_id=transfer.id)

    second = ask(client, w)
    declined = receiver.post(
        f"/manage/transfers/{second.id}/decline", data={"reason": "No foster home free."}
    )
    assert declined.status_code == 302
    db.session.refresh(second)
    assert second.state is TransferState.DECLINED and second.reason == "No foster home free."
    assert receiver.post(f"/manage/transfers/{second.id}/accept").status_code == 404
    page = client.get(f"/manage/transfers/{second.id}").data.decode()
    assert "No foster home free." in page
    db.session.refresh(w.child)
    assert w.child.authority_id == w.authority.id
    # nothing ended while it waited or after it was declined
    assert policy.can(w.social_worker, Action.CHILD_SEE, w.child)


@pytest.mark.parametrize(
    "data, problem",
    [
        ({"to_authority": ""}, "Please choose another authority"),
        ({"to_authority": "999999"}, "Please choose another authority"),
        ({"to_authority": "own"}, "Please choose another authority"),
        ({"to_authority": "abc"}, "Please choose another authority"),
        ({"planned_on": ""}, "Please give the date"),
        ({"planned_on": "not a date"}, ""),
    ],
)
def test_bad_requests_say_what_to_do_and_change_nothing(
    client: FlaskClient, world: World, data: dict[str, str], problem: str
) -> None:
    w = world
    login_as(client, w.manager)
    form = {
        "to_authority": str(w.other_authority.id),
        "planned_on": date(2031, 1, 1).isoformat(),
        "note": "Hello",
        **data,
    }
    if form["to_authority"] == "own":
        form["to_authority"] = str(w.authority.id)
    response = client.post(f"/manage/children/{w.child.id}/move", data=form)
    assert response.status_code == 400
    assert problem in response.data.decode()
    assert "Hello" in response.data.decode()  # nothing typed is lost
    assert db.session.scalar(select(Transfer.id)) is None


def test_only_the_right_managers(app: Flask, world: World) -> None:
    w = world
    transfer = Transfer(
        child_id=w.child.id,
        from_authority_id=w.authority.id,
        to_authority_id=w.other_authority.id,
        planned_on=clock.today(),
        requested_by_id=w.manager.id,
    )
    db.session.add(transfer)
    db.session.commit()
    everyone = [
        w.young_person,
        w.carer,
        w.social_worker,
        w.ended_social_worker,
        w.manager,
        w.other_manager,
        w.other_authority_young_person,
    ]
    allowed = {
        Action.TRANSFER_VIEW: {w.manager.id, w.other_manager.id},
        Action.TRANSFER_ACCEPT: {w.other_manager.id},
        Action.TRANSFER_DECLINE: {w.other_manager.id},
        Action.TRANSFER_WITHDRAW: {w.manager.id},
    }
    for action, ids in allowed.items():
        assert {p.id for p in everyone if policy.can(p, action, transfer)} == ids, action
    # while one waits, nobody asks again; other authorities' managers never ask
    assert not policy.can(w.manager, Action.TRANSFER_REQUEST, w.child)
    assert policy.can(w.manager, Action.TRANSFER_REQUEST, w.other_child)
    assert not policy.can(w.other_manager, Action.TRANSFER_REQUEST, w.other_child)
    assert not policy.can(w.social_worker, Action.TRANSFER_REQUEST, w.other_child)
    # a third authority's manager sees nothing of it
    third = factories.authority("Third Council")
    stranger = factories.user(app, third, Role.MANAGER, "Tess")
    assert not policy.can(stranger, Action.TRANSFER_VIEW, transfer)


def test_a_child_without_a_login_moves_and_a_custom_prompts_words_are_kept(
    app: Flask, world: World
) -> None:
    """The social worker who kept the box for a young child loses it; the words written
    under the old authority's own prompt stay, under the same heading."""
    w = world
    item = factories.item(app, w.young_child, w.carer, title="First steps")
    assert policy.can(w.social_worker, Action.ITEM_VIEW, item)  # kept for the child
    pets = story.add_prompt(w.authority, "My pets", "")
    section = StorySection(child_id=w.young_child.id, prompt_id=pets.id)
    db.session.add(section)
    db.session.commit()
    story.save_version(section, "A cat called Moss.", [], w.social_worker)
    transfer = Transfer(
        child_id=w.young_child.id,
        from_authority_id=w.authority.id,
        to_authority_id=w.other_authority.id,
        planned_on=clock.today(),
        requested_by_id=w.manager.id,
    )
    db.session.add(transfer)
    db.session.commit()
    transfers.accept(transfer, w.other_manager)
    db.session.expire_all()
    child = db.session.get(Child, w.young_child.id)
    assert child is not None and child.authority_id == w.other_authority.id
    for person in (w.social_worker, w.carer, w.manager):
        person = db.session.get(User, person.id)
        assert not policy.can(person, Action.ITEM_VIEW, db.session.get(MemoryItem, item.id))
        assert not policy.can(person, Action.CHILD_SEE, child)
    assert policy.can(db.session.get(User, w.other_manager.id), Action.CHILD_MANAGE, child)
    kept = db.session.get(StorySection, section.id)
    assert kept is not None and kept.prompt_id is None and kept.own_title == "My pets"
    assert kept in story.sections_of(child)
    # answered once: it cannot be accepted again
    with pytest.raises(transfers.TransferError):
        transfers.accept(transfer, w.other_manager)


def test_a_move_ends_the_letterbox_of_family_the_old_authority_invited(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """A birth mum invited by the old social worker can send nothing once the child has
    moved (her account is the old authority's, and switched off), and it is on the record;
    the new social worker can invite her again."""
    from tests import test_contributors as letterbox

    mum = letterbox.join(app, letterbox.invite(app.test_client(), world))
    assert mum.get("/send").status_code == 200
    transfer = ask(client, world)
    receiver = FlaskClient(app, app.response_class, use_cookies=True)
    login_as(receiver, world.other_manager)
    assert receiver.post(f"/manage/transfers/{transfer.id}/accept").status_code == 302
    db.session.expire_all()
    link = letterbox.link()
    assert link.ended_at is not None and link.user is not None
    assert link.user.disabled_at is not None
    assert mum.get("/send").status_code == 302  # signed out: the account is switched off
    assert not policy.can(link.user, Action.CONTRIBUTOR_SEND, link)
    assert _events(action="contributor:end-by-transfer", target_id=link.id)
