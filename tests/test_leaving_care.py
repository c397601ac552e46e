"""Leaving care, keeping the box: a young person's own email (from 16), leaving care ending
staff access through the relationship rules, sharing by name after care, and deleting an
account with 30 days to change one's mind, then (after the authority's retention period)
the record that it existed. The deletion runs on real local-disk storage with the clock
moved."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from memorybox import clock, policy
from memorybox.accounts.models import User
from memorybox.audit import service as audit
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import Base, db
from memorybox.exports.models import Export
from memorybox.jobs import tasks
from memorybox.leaving import services as leaving
from memorybox.leaving.models import AccountDeletion, CareLeaving, NamedPerson
from memorybox.letters import services as letters
from memorybox.letters.models import Letter, LetterNote, LetterVersion
from memorybox.memories import orphans
from memorybox.memories.models import MemoryItem, Rendition
from memorybox.notifications import service as notifications
from memorybox.notifications.models import Notification
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience, Consent
from memorybox.story.models import SectionVersion, StorySection
from tests import factories
from tests.factories import PASSWORD, World, login_as
from tests.test_access_matrix import _consent, _section
from tests.test_readability import HIGHEST_GRADE, _grade, words_of


def move_clock(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=clock.LOCAL_ZONE).astimezone(UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)


def aged(child: Child, years: int) -> Child:
    """``years`` old today (born on the first of this month)."""
    today = clock.today()
    child.date_of_birth = date(today.year - years, today.month, 1)
    db.session.commit()
    return child


def signed_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login_as(client, user)
    return client


def left_care(app: Flask, world: World, day: date | None = None) -> None:
    manager = signed_in(app, world.manager)
    response = manager.post(
        f"/manage/children/{world.child.id}/left-care",
        data={"left_on": (day or clock.today()).isoformat()},
    )
    assert response.status_code == 302, response.data.decode()[:2000]


# --- a young person's own account, from 16 ----------------------------------------------


@pytest.mark.parametrize(("years", "allowed"), [(13, False), (15, False), (16, True), (19, True)])
def test_own_account_is_offered_from_16(
    app: Flask, world: World, years: int, allowed: bool
) -> None:
    aged(world.child, years)
    young = signed_in(app, world.young_person)
    assert bool(policy.can(world.young_person, Action.ACCOUNT_EMAIL, world.child)) is allowed
    assert bool(policy.can(world.young_person, Action.ACCOUNT_DELETE, world.child)) is allowed
    settings = young.get("/notifications/settings").data.decode()
    assert (f"/children/{world.child.id}/account/email" in settings) is allowed
    assert (f"/children/{world.child.id}/account/delete" in settings) is allowed
    for path in ("email", "delete"):
        expected = 200 if allowed else 404
        assert young.get(f"/children/{world.child.id}/account/{path}").status_code == expected
    if not allowed:  # refused by policy when posted, and nothing changes
        before = world.young_person.email
        response = young.post(
            f"/children/{world.child.id}/account/email",
            data={"email": "me@personal.example", "password": PASSWORD},
        )
        assert response.status_code == 404
        response = young.post(
            f"/children/{world.child.id}/account/delete", data={"password": PASSWORD}
        )
        assert response.status_code == 404
        db.session.expire_all()
        assert world.young_person.email == before
        assert db.session.scalar(select(func.count(AccountDeletion.id))) == 0


def test_nobody_else_runs_a_young_persons_account(app: Flask, world: World) -> None:
    aged(world.child, 17)
    for person in (
        world.other_young_person,
        world.carer,
        world.social_worker,
        world.manager,
        world.other_manager,
    ):
        for action in (Action.ACCOUNT_EMAIL, Action.ACCOUNT_DELETE, Action.ACCOUNT_DELETE_CANCEL):
            assert not policy.can(person, action, world.child), (person, action)


def test_own_email_becomes_the_sign_in_and_ends_other_sessions(app: Flask, world: World) -> None:
    aged(world.child, 17)
    young = signed_in(app, world.young_person)
    elsewhere = signed_in(app, world.young_person)
    url = f"/children/{world.child.id}/account/email"
    bad = young.post(url, data={"email": "not an email", "password": PASSWORD})
    assert bad.status_code == 400 and b"look like an email" in bad.data
    wrong = young.post(url, data={"email": "alex@personal.example", "password": "nope nope"})
    assert wrong.status_code == 400 and b"isn&#39;t your password" in wrong.data
    taken = young.post(url, data={"email": world.carer.email, "password": PASSWORD})
    assert taken.status_code == 400 and b"already has an account" in taken.data
    old_email = world.young_person.email
    ok = young.post(url, data={"email": " Alex@Personal.example ", "password": PASSWORD})
    assert ok.status_code == 302
    db.session.expire_all()
    assert world.young_person.email == "alex@personal.example"
    assert young.get("/notifications/settings").status_code == 200  # this session carries on
    assert elsewhere.get("/notifications/settings").status_code == 302  # the other has ended
    assert factories.login_with_form(app.test_client(), old_email).status_code == 401
    assert factories.login_with_form(app.test_client(), "alex@personal.example").status_code == 302
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "account:email", AuditEvent.child_id == world.child.id
        )
    )


def test_a_new_password_from_16_ends_other_sessions(app: Flask, world: World) -> None:
    aged(world.child, 16)
    young = signed_in(app, world.young_person)
    elsewhere = signed_in(app, world.young_person)
    response = young.post(
        "/account/password",
        data={"current": PASSWORD, "password": "a new long secret", "confirm": "a new long secret"},
    )
    assert response.status_code == 302
    assert elsewhere.get("/notifications/settings").status_code == 302
    passwords = app.extensions["memorybox.passwords"]
    db.session.expire_all()
    assert world.young_person.password_hash.startswith("$argon2id$")
    assert passwords.verify(world.young_person.password_hash, "a new long secret")


# --- leaving care -------------------------------------------------------------------------


def test_leaving_care_ends_staff_access_and_keeps_the_box(app: Flask, world: World) -> None:
    aged(world.child, 18)
    child = world.child
    kept = factories.item(app, child, world.young_person, title="Graduation")
    to_carers = factories.item(app, child, world.young_person, title="For carers")
    to_worker = factories.item(app, child, world.young_person, title="For my worker")
    to_old_carer = factories.item(app, child, world.young_person, title="For Kim")
    _consent(child, Audience.CARERS, item=to_carers)
    _consent(child, Audience.SOCIAL_WORKER, item=to_worker)
    _consent(child, Audience.PERSON, person=world.ended_carer, item=to_old_carer)
    section = _section(child, "Where I lived", "With Jo and the dog.")
    _consent(child, Audience.SOCIAL_WORKER, section=section)
    carer, worker = signed_in(app, world.carer), signed_in(app, world.social_worker)
    assert carer.get(f"/items/{to_carers.id}").status_code == 200
    assert worker.get(f"/items/{to_worker.id}").status_code == 200
    assert worker.get(f"/children/{child.id}/letters/written").status_code == 200
    assert policy.can(world.social_worker, Action.SECTION_READ, section)

    left_care(app, world)

    db.session.expire_all()
    leaving_row = db.session.scalar(select(CareLeaving).where(CareLeaving.child_id == child.id))
    assert leaving_row is not None and leaving_row.left_on == clock.today()
    rows = [
        *db.session.scalars(select(Placement).where(Placement.child_id == child.id)),
        *db.session.scalars(select(Allocation).where(Allocation.child_id == child.id)),
    ]
    assert rows and all(r.end_date is not None and r.end_date <= clock.today() for r in rows)
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "care:leave", AuditEvent.child_id == child.id)
    )
    # The very next request: the carer and the social worker have lost access.
    assert carer.get(f"/items/{to_carers.id}").status_code == 404
    assert worker.get(f"/items/{to_worker.id}").status_code == 404
    assert worker.get(f"/children/{child.id}/letters/written").status_code == 404
    assert worker.get(f"/shared/{child.id}").status_code == 404
    assert not policy.can(world.social_worker, Action.SECTION_READ, section)
    assert not policy.can(world.carer, Action.ITEM_ADD, child)
    # A share with a named person still works; the young person keeps everything.
    assert signed_in(app, world.ended_carer).get(f"/items/{to_old_carer.id}").status_code == 200
    young = signed_in(app, world.young_person)
    for path in (
        f"/items/{kept.id}",
        f"/children/{child.id}/story",
        f"/children/{child.id}/letters",
    ):
        assert young.get(path).status_code == 200, path
    # Exporting everything still works.
    response = young.post(f"/children/{child.id}/exports", data={"kind": "json"})
    assert response.status_code in (302, 303)
    export = db.session.scalar(select(Export).where(Export.child_id == child.id))
    assert export is not None and export.storage_key
    assert young.get(f"/exports/{export.id}/download").status_code == 200
    # Recorded once.
    manager = signed_in(app, world.manager)
    assert manager.get(f"/manage/children/{child.id}/left-care").status_code == 404


def test_a_manager_adds_a_personal_adviser_to_share_with(app: Flask, world: World) -> None:
    aged(world.child, 18)
    adviser = factories.user(app, world.authority, world.social_worker.role, "Morgan")
    left_care(app, world)
    assert adviser not in sharing.people_in_childs_life(world.child)
    manager = signed_in(app, world.manager)
    page = manager.get(f"/manage/children/{world.child.id}").data.decode()
    assert "People they can share with by name" in page
    response = manager.post(
        f"/manage/children/{world.child.id}/named-people", data={"named-person_id": str(adviser.id)}
    )
    assert response.status_code == 302
    assert adviser in sharing.people_in_childs_life(world.child)
    # Someone from another authority cannot be added, whatever is posted.
    stranger = factories.user(app, world.other_authority, world.social_worker.role)
    manager.post(
        f"/manage/children/{world.child.id}/named-people",
        data={"named-person_id": str(stranger.id)},
    )
    assert db.session.scalar(select(func.count(NamedPerson.id))) == 1
    # The young person shares with the adviser, who sees exactly that.
    photo = factories.item(app, world.child, world.young_person, title="My flat")
    other = factories.item(app, world.child, world.young_person, title="Private")
    young = signed_in(app, world.young_person)
    response = young.post(
        f"/items/{photo.id}/share",
        data={"audience": "person", "person_id": str(adviser.id), "ends_on": ""},
    )
    assert response.status_code in (302, 303), response.data.decode()[:3000]
    them = signed_in(app, adviser)
    assert them.get(f"/items/{photo.id}").status_code == 200
    assert them.get(f"/items/{other.id}").status_code == 404
    # Another authority's manager cannot add anyone.
    other_manager = signed_in(app, world.other_manager)
    response = other_manager.post(
        f"/manage/children/{world.child.id}/named-people", data={"named-person_id": str(adviser.id)}
    )
    assert response.status_code == 404


def test_letters_stay_theirs_after_care(app: Flask, world: World) -> None:
    aged(world.child, 18)
    worker = signed_in(app, world.social_worker)

    def write(**rule: str) -> Letter:
        data = {"title": "Why", "body": "Words for you.", "content_note": "", **rule}
        assert worker.post(f"/children/{world.child.id}/letters/new", data=data).status_code == 302
        letter = db.session.scalars(select(Letter).order_by(Letter.id.desc())).first()
        assert letter is not None
        assert worker.post(f"/letters/{letter.id}/give").status_code == 302
        return letter

    opened = write(rule="date", opens_on=(clock.today() + timedelta(days=1)).isoformat())
    asked = write(rule="asked")
    left_care(app, world)
    young = signed_in(app, world.young_person)
    # A letter given before care ended still opens on its day.
    tomorrow = clock.today() + timedelta(days=1)
    assert letters.is_open(opened, tomorrow)
    # One that opens when they ask opens as they ask: nobody is left to agree.
    assert young.post(f"/letters/{asked.id}/ask").status_code == 302
    db.session.expire_all()
    assert letters.is_open(asked)
    assert b"Words for you." in young.get(f"/letters/{asked.id}?open=1").data


def test_leaving_care_needs_a_good_day_and_a_manager_of_the_authority(
    app: Flask, world: World
) -> None:
    manager = signed_in(app, world.manager)
    url = f"/manage/children/{world.child.id}/left-care"
    assert manager.post(url, data={"left_on": "not a day"}).status_code == 400
    far = (clock.today() + timedelta(days=800)).isoformat()
    assert manager.post(url, data={"left_on": far}).status_code == 400
    assert (
        signed_in(app, world.other_manager).post(url, data={"left_on": "2027-01-01"}).status_code
        == 404
    )
    assert signed_in(app, world.social_worker).get(url).status_code == 404
    assert db.session.scalar(select(func.count(CareLeaving.id))) == 0


def test_manager_sets_the_retention_period(app: Flask, world: World) -> None:
    manager = signed_in(app, world.manager)
    data = {"self_sharing_age": "12", "help_escalation_hours": "4", "retention_years": "0"}
    assert manager.post("/manage/settings", data=data).status_code == 400
    data["retention_years"] = "10"
    assert manager.post("/manage/settings", data=data).status_code == 302
    db.session.expire_all()
    assert world.authority.retention_years == 10


# --- deleting an account ------------------------------------------------------------------


def _rows_naming(child_id: int, user_id: int) -> dict[str, int]:
    """Rows of every table with a foreign key to this child or this login."""
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            for fk in column.foreign_keys:
                target = fk.column.table.name
                wanted = (
                    child_id if target == "children" else user_id if target == "users" else None
                )
                if wanted is None or table.name in {"children", "users"} and column.primary_key:
                    continue
                count = db.session.scalar(
                    select(func.count()).select_from(table).where(column == wanted)
                )
                if count:
                    found[f"{table.name}.{column.name}"] = count
    return found


def test_asking_warning_cancelling_and_the_banner(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    aged(world.child, 17)
    world.authority.retention_years = 7
    db.session.commit()
    young = signed_in(app, world.young_person)
    url = f"/children/{world.child.id}/account/delete"
    page = young.get(url).data.decode()
    day = clock.today() + timedelta(days=30)
    from memorybox import i18n

    assert i18n.day(day) in page and "7 years" in page
    assert young.post(url, data={"password": "wrong wrong"}).status_code == 400
    assert db.session.scalar(select(func.count(AccountDeletion.id))) == 0
    assert young.post(url, data={"password": PASSWORD}).status_code == 302
    home = young.get("/").data.decode()
    assert "Your account will be deleted on" in home and i18n.day(day) in home
    assert f"/children/{world.child.id}/account/delete/cancel" in home
    assert young.post(url, data={"password": PASSWORD}).status_code == 404  # once
    assert young.get(url).status_code == 200  # now the page to change their mind
    # Others cannot cancel.
    cancel = f"/children/{world.child.id}/account/delete/cancel"
    assert signed_in(app, world.social_worker).post(cancel).status_code == 404
    # Day 29: they sign in and cancel; the job deletes nothing.
    move_clock(monkeypatch, clock.today() + timedelta(days=29))
    assert leaving.run_due(app.extensions["memorybox.storage"]).accounts == 0
    again = app.test_client()
    assert factories.login_with_form(again, world.young_person.email).status_code == 302
    assert again.post(cancel).status_code == 302
    assert db.session.scalar(select(func.count(AccountDeletion.id))) == 0
    assert "will be deleted" not in again.get("/").data.decode()
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"account:delete", "account:delete-cancel"} <= actions


def test_after_30_days_everything_of_theirs_goes(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = app.extensions["memorybox.storage"]
    aged(world.child, 19)
    child, user = world.child, world.young_person
    child_id, user_id = child.id, user.id
    # Their things: items with renditions, a shared album, the story, letters and notes,
    # an export, messages; and an adviser and other children who must be untouched.
    photo = factories.item(app, child, user, title="Me")
    from_carer = factories.item(app, child, world.carer, title="From Jo")
    other_photo = factories.item(app, world.other_child, world.other_young_person)
    assert db.session.scalar(select(func.count(Rendition.id)).where(Rendition.item_id == photo.id))
    section = _section(child, "Me", "First words.", "Second words.")
    _consent(child, Audience.SOCIAL_WORKER, section=section)
    _consent(child, Audience.CARERS, item=from_carer)
    young = signed_in(app, user)
    young.post(
        f"/items/{photo.id}/share", data={"audience": "carers", "person_id": "", "ends_on": ""}
    )
    young.post(f"/children/{child.id}/albums", data={"name": "Football"})
    worker = signed_in(app, world.social_worker)
    data = {"title": "Why", "body": "Words.", "content_note": "", "rule": "asked"}
    worker.post(f"/children/{child.id}/letters/new", data=data)
    letter = db.session.scalar(select(Letter).where(Letter.child_id == child_id))
    assert letter is not None
    db.session.add(LetterNote(letter_id=letter.id, body="My note", updated_at=clock.now()))
    db.session.commit()
    # A professional read, kept in the audit; the young person's own doings go.
    assert signed_in(app, world.carer).get(f"/items/{from_carer.id}").status_code == 200
    assert young.post(f"/children/{child.id}/exports", data={"kind": "zip"}).status_code in (
        302,
        303,
    )
    export = db.session.scalar(select(Export).where(Export.child_id == child_id))
    assert export is not None and export.storage_key and storage.exists(export.storage_key)
    notifications.notify(user, kind="shared", message="Hello", child_id=child_id)
    db.session.commit()
    professional_reads = db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.child_id == child_id, AuditEvent.actor_id == world.carer.id
        )
    )
    assert professional_reads
    keys = {
        k
        for k in db.session.scalars(
            select(MemoryItem.storage_key).where(MemoryItem.child_id == child_id)
        )
    }
    keys |= set(
        db.session.scalars(
            select(Rendition.storage_key).join(MemoryItem).where(MemoryItem.child_id == child_id)
        )
    )
    keys.add(export.storage_key)
    assert all(storage.exists(k) for k in keys)

    assert (
        young.post(f"/children/{child_id}/account/delete", data={"password": PASSWORD}).status_code
        == 302
    )
    start = clock.today()
    move_clock(monkeypatch, start + timedelta(days=31))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["purge-deleted-accounts"])
    assert result.exit_code == 0 and "Deleted 1 account" in result.output, result.output
    db.session.expire_all()

    # Gone: every stored object, every row that names them, their login.
    assert not any(storage.exists(k) for k in keys)
    assert list(orphans.find(storage, timedelta(0))) == []
    assert db.session.get(User, user_id) is None
    left = _rows_naming(child_id, user_id)
    assert left == {"audit_events.child_id": professional_reads, "account_deletions.child_id": 1}, (
        left
    )
    for model in (MemoryItem, StorySection, Letter, Consent, Export):
        assert (
            db.session.scalar(
                select(func.count()).select_from(model).where(model.child_id == child_id)
            )
            == 0
        )
    assert db.session.scalar(select(func.count(SectionVersion.id))) == 0
    assert db.session.scalar(select(func.count(LetterVersion.id))) == 0
    assert db.session.scalar(select(func.count(LetterNote.id))) == 0
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.child_id == child_id)
        )
        == 0
    )
    # The record that an account existed: no name, no birthday.
    record = db.session.get(Child, child_id)
    assert record is not None and record.display_name == leaving.DELETED_NAME
    assert record.date_of_birth is None and record.user_id is None
    deletion = db.session.scalar(select(AccountDeletion))
    purged_on = start + timedelta(days=31)
    assert deletion is not None and deletion.deleted_at is not None
    if (purged_on.month, purged_on.day) != (2, 29):
        assert deletion.keep_until == purged_on.replace(year=purged_on.year + 6)
    # Nobody else's things were touched; they cannot sign in; the job is safe to run again.
    assert db.session.get(MemoryItem, other_photo.id) is not None
    assert storage.exists(other_photo.storage_key)
    assert factories.login_with_form(app.test_client(), "x@example.org").status_code == 401
    assert tasks.purge_deleted_accounts.call_local() == 0
    manager = signed_in(app, world.manager)
    assert manager.get(f"/manage/children/{child_id}").status_code == 404
    assert manager.get("/manage/children").status_code == 200

    # After the retention period, the record and the audit of reads go too.
    assert deletion.keep_until is not None
    move_clock(monkeypatch, deletion.keep_until - timedelta(days=1))
    assert leaving.run_due(storage).records == 0
    move_clock(monkeypatch, deletion.keep_until)
    assert tasks.purge_deleted_accounts.call_local() == 1
    db.session.expire_all()
    assert db.session.get(Child, child_id) is None
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.child_id == child_id))
        == 0
    )
    assert db.session.scalar(select(func.count(AccountDeletion.id))) == 0


def test_the_young_persons_pages_are_in_plain_words(app: Flask, world: World) -> None:
    aged(world.child, 17)
    young = signed_in(app, world.young_person)
    too_hard = []
    pages = [
        f"/children/{world.child.id}/account/email",
        f"/children/{world.child.id}/account/delete",
    ]
    for path in pages:
        response = young.get(path)
        assert response.status_code == 200, path
        grade = _grade(words_of(response.data.decode()))
        if grade > HIGHEST_GRADE:
            too_hard.append(f"{path}: grade {grade:.1f}")
    young.post(f"/children/{world.child.id}/account/delete", data={"password": PASSWORD})
    response = young.get(f"/children/{world.child.id}/account/delete")
    grade = _grade(words_of(response.data.decode()))
    if grade > HIGHEST_GRADE:
        too_hard.append(f"waiting: grade {grade:.1f}")
    assert not too_hard, too_hard


def test_audit_rows_do_not_block_deleting_a_professional_read(app: Flask, world: World) -> None:
    """The audit of reads names the child by a foreign key: deleting keeps the child row
    (emptied) while the audit is kept, so nothing blocks; the record goes with the audit."""
    aged(world.child, 17)
    audit.record(world.social_worker, "item:view", world.child)
    db.session.commit()
    deletion = leaving.ask_to_delete(world.child)
    deletion.delete_at = clock.now() - timedelta(seconds=1)
    db.session.commit()
    assert leaving.run_due(app.extensions["memorybox.storage"]).accounts == 1
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.child_id == world.child.id)
        )
        == 1
    )
