"""Consent-controlled sharing: access that follows real relationships, and transparency."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from memorybox import clock, policy
from memorybox.accounts.models import Role, User
from memorybox.db import db
from memorybox.memories.models import ItemStatus, MemoryItem
from memorybox.notifications.models import HelpRequest, Notification
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience, Basis, Consent
from tests import factories
from tests.factories import login_as


def _share(client, item, audience, **extra):
    data = {"audience": audience, "person_id": "", "ends_on": "", "childs_wishes": ""}
    data.update(extra)
    return client.post(f"/items/{item.id}/share", data=data)


def _notes(user: User) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


@pytest.fixture
def beach(app, world):
    return factories.item(app, world.child, world.young_person, title="Beach day")


def test_everything_is_private_by_default(app, world, beach):
    for person in (world.carer, world.social_worker, world.manager, world.ended_carer):
        assert not policy.can(person, Action.ITEM_VIEW, beach)


def test_child_shares_with_my_social_worker_who_sees_it_at_once_and_is_told(
    app, client, world, beach
):
    login_as(client, world.young_person)
    assert _share(client, beach, "social_worker").status_code == 302
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert sw.get(f"/items/{beach.id}").status_code == 200
    assert sw.get(f"/items/{beach.id}/download").status_code == 200
    assert any("shared something new" in n.message for n in _notes(world.social_worker))
    page = sw.get(f"/shared/{world.child.id}").data
    assert b"Beach day" in page and b"New" in page
    # the carer is not in this audience
    carer = app.test_client()
    login_as(carer, world.carer)
    assert carer.get(f"/items/{beach.id}").status_code == 404


def test_consent_follows_the_allocation_to_a_new_social_worker(app, client, world, beach):
    login_as(client, world.young_person)
    _share(client, beach, "social_worker")
    allocation = next(
        a for a in sharing.people_in_childs_life(world.child) if a.id == world.social_worker.id
    )
    assert allocation
    from memorybox.children import services as children

    for current in children.allocations_of(world.child):
        if current.is_active:
            children.end_now(current)
    assert not policy.can(world.social_worker, Action.ITEM_VIEW, beach)
    factories.allocation(world.child, world.unallocated_social_worker, start=clock.today())
    newcomer = app.test_client()
    login_as(newcomer, world.unallocated_social_worker)
    assert newcomer.get(f"/items/{beach.id}").status_code == 200, "visible from their first day"


def test_sharing_with_my_carers_follows_placements(app, client, world, beach):
    login_as(client, world.young_person)
    _share(client, beach, "carers")
    assert policy.can(world.carer, Action.ITEM_VIEW, beach)
    assert not policy.can(world.ended_carer, Action.ITEM_VIEW, beach)
    assert not policy.can(world.social_worker, Action.ITEM_VIEW, beach)


def test_sharing_with_a_named_person_from_the_childs_life(app, client, world, beach):
    login_as(client, world.young_person)
    response = _share(client, beach, "person", person_id=str(world.ended_carer.id))
    assert response.status_code == 302
    assert policy.can(world.ended_carer, Action.ITEM_VIEW, beach)
    assert not policy.can(world.carer, Action.ITEM_VIEW, beach)


def test_a_named_person_must_come_from_the_childs_life(app, client, world, beach):
    login_as(client, world.young_person)
    stranger = factories.user(app, world.authority, Role.CARER, "Stranger")
    response = _share(client, beach, "person", person_id=str(stranger.id))
    assert response.status_code == 400
    assert b"Please choose someone from the list." in response.data
    assert db.session.scalars(select(Consent)).all() == []


def test_an_album_share_covers_what_is_added_later_and_the_page_says_so(app, client, world, beach):
    login_as(client, world.young_person)
    assert (
        client.post(f"/children/{world.child.id}/albums", data={"name": "Nan"}).status_code == 302
    )
    album = sharing.collections_of(world.child)[0]
    client.post(f"/items/{beach.id}/add-to-album", data={"collection_id": str(album.id)})
    form = client.get(f"/albums/{album.id}/share")
    assert b"anything you add to it later" in form.data
    assert (
        client.post(f"/albums/{album.id}/share", data={"audience": "social_worker"}).status_code
        == 302
    )
    assert policy.can(world.social_worker, Action.ITEM_VIEW, beach)
    later = factories.item(app, world.child, world.young_person, title="Nan's garden")
    assert not policy.can(world.social_worker, Action.ITEM_VIEW, later)
    client.post(f"/items/{later.id}/add-to-album", data={"collection_id": str(album.id)})
    assert policy.can(world.social_worker, Action.ITEM_VIEW, later)
    # taking it out of the album takes it out of the share
    client.post(f"/albums/{album.id}/remove", data={"item_id": str(later.id)})
    assert not policy.can(world.social_worker, Action.ITEM_VIEW, later)


def test_stopping_one_share_is_immediate_and_changes_only_that_one(app, client, world, beach):
    other = factories.item(app, world.child, world.young_person, title="Bike")
    login_as(client, world.young_person)
    _share(client, beach, "social_worker")
    _share(client, beach, "carers")
    _share(client, other, "social_worker")
    consents = {
        c.id: (c.item_id, c.audience, c.revoked_at) for c in db.session.scalars(select(Consent))
    }
    target = db.session.scalar(
        select(Consent).where(
            Consent.item_id == beach.id, Consent.audience == Audience.SOCIAL_WORKER
        )
    )
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert sw.get(f"/items/{beach.id}/file").status_code == 200
    assert client.post(f"/consents/{target.id}/stop").status_code == 302
    for url in (f"/items/{beach.id}", f"/items/{beach.id}/file", f"/items/{beach.id}/download"):
        assert sw.get(url).status_code == 404, url
    assert sw.get(f"/items/{other.id}").status_code == 200
    after = {
        c.id: (c.item_id, c.audience, c.revoked_at) for c in db.session.scalars(select(Consent))
    }
    changed = [cid for cid in consents if consents[cid] != after[cid]]
    assert changed == [target.id]
    assert policy.can(world.carer, Action.ITEM_VIEW, beach)


def test_a_share_with_an_end_date_ends_by_itself(app, client, world, beach, monkeypatch):
    login_as(client, world.young_person)
    ends = (clock.today() + timedelta(days=7)).isoformat()
    assert _share(client, beach, "social_worker", ends_on=ends).status_code == 302
    assert policy.can(world.social_worker, Action.ITEM_VIEW, beach)
    later = clock.today() + timedelta(days=7)
    monkeypatch.setattr(clock, "today", lambda: later)
    assert not policy.can(world.social_worker, Action.ITEM_VIEW, beach)


def test_disabling_an_account_ends_shared_access(app, client, world, beach):
    login_as(client, world.young_person)
    _share(client, beach, "social_worker")
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert sw.get(f"/items/{beach.id}").status_code == 200
    manager = app.test_client()
    login_as(manager, world.manager)
    manager.post(f"/manage/people/{world.social_worker.id}/disable")
    response = sw.get(f"/items/{beach.id}")
    assert response.status_code == 302 and "/login" in response.location


def test_carers_cannot_reshare(app, client, world, beach):
    login_as(client, world.young_person)
    _share(client, beach, "carers")
    carer = app.test_client()
    login_as(carer, world.carer)
    assert carer.get(f"/items/{beach.id}").status_code == 200
    assert carer.get(f"/items/{beach.id}/share").status_code == 404
    assert _share(carer, beach, "person", person_id=str(world.ended_carer.id)).status_code == 404


def test_a_younger_childs_social_worker_shares_on_their_behalf_with_their_wishes(app, world):
    young = factories.user(app, world.authority, Role.YOUNG_PERSON, "Eli")
    eli = factories.child(world.authority, young, "Eli", age=9)
    factories.allocation(eli, world.social_worker)
    drawing = factories.item(app, eli, young, title="My drawing")
    child = app.test_client()
    login_as(child, young)
    assert child.get(f"/items/{drawing.id}/share").status_code == 404, "under 12 does not decide"
    assert child.get(f"/children/{eli.id}/sharing").status_code == 200, "but can read everything"

    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert sw.get(f"/items/{drawing.id}").status_code == 404, "never sees into the box"
    overview = sw.get(f"/children/{eli.id}/sharing")
    assert b"My drawing" in overview.data, "shares by title, as the child asks"
    no_wishes = _share(sw, drawing, "carers")
    assert no_wishes.status_code == 400 and b"in their words" in no_wishes.data
    assert (
        _share(sw, drawing, "carers", childs_wishes="I want Jo to see my drawing").status_code
        == 302
    )
    consent = db.session.scalar(select(Consent))
    assert consent.basis is Basis.ON_BEHALF and consent.decided_by_id == world.social_worker.id
    history = child.get(f"/children/{eli.id}/sharing").data.decode()
    assert "I want Jo to see my drawing" in history
    assert "your social worker decided for you" in history
    assert "Sam, your social worker" in history


def test_a_social_worker_can_record_that_a_child_decides_for_themselves(app, world):
    young = factories.user(app, world.authority, Role.YOUNG_PERSON, "Fin")
    fin = factories.child(world.authority, young, "Fin", age=10)
    factories.allocation(fin, world.social_worker)
    photo = factories.item(app, fin, young, title="Goal!")
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert sw.post(f"/caseload/children/{fin.id}/decides-sharing").status_code == 302
    child = app.test_client()
    login_as(child, young)
    assert _share(child, photo, "social_worker").status_code == 302
    assert db.session.scalar(select(Consent)).basis is Basis.OWN_DECISION
    # and the social worker no longer decides for Fin
    assert _share(sw, photo, "carers", childs_wishes="x").status_code == 404


def test_a_child_without_a_login_has_their_box_kept_by_their_social_worker(app, world):
    carer = app.test_client()
    login_as(carer, world.carer)
    gift = factories.item(
        app, world.young_child, world.carer, title="First steps", status=ItemStatus.SUGGESTED
    )
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert sw.post(f"/items/{gift.id}/keep").status_code == 302
    db.session.refresh(gift)
    assert gift.status is ItemStatus.KEPT
    assert policy.can(world.social_worker, Action.ITEM_VIEW, gift)
    assert not policy.can(world.unallocated_social_worker, Action.ITEM_VIEW, gift)


def test_who_has_seen_my_things_in_plain_words(app, client, world, beach):
    login_as(client, world.young_person)
    _share(client, beach, "social_worker")
    sw = app.test_client()
    login_as(sw, world.social_worker)
    sw.get(f"/items/{beach.id}")
    sw.get(f"/items/{beach.id}/download")
    page = client.get(f"/children/{world.child.id}/seen").data.decode()
    weekday = clock.now().astimezone(clock.LOCAL_ZONE).strftime("%A")
    assert f"Sam, your social worker, looked at “Beach day” on {weekday}" in " ".join(page.split())
    assert "Sam, your social worker, downloaded “Beach day”" in " ".join(page.split())
    # the child's own looks are not listed
    client.get(f"/items/{beach.id}")
    assert page.count("looked at") == client.get(
        f"/children/{world.child.id}/seen"
    ).data.decode().count("looked at")


def _consent_for(audience: Audience) -> Consent:
    return db.session.scalar(select(Consent).where(Consent.audience == audience))


def _panel_names(html: str) -> set[str]:
    section = html.split('id="who-can-see"', 1)[1].split("</section>", 1)[0]
    first_list = section.split("<ul", 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", first_list, re.S)
    return {" ".join(i.split()).split(",")[0].split(" (")[0] for i in items}


def test_who_can_see_this_matches_the_database_exactly(app, client, world, beach):
    """Over a run of sharing changes, the panel names exactly the people policy lets in."""
    login_as(client, world.young_person)
    everyone = list(db.session.scalars(select(User)))
    steps = [
        lambda: None,
        lambda: _share(client, beach, "carers"),
        lambda: _share(client, beach, "person", person_id=str(world.ended_social_worker.id)),
        lambda: _share(client, beach, "social_worker"),
        lambda: client.post(f"/consents/{_consent_for(Audience.CARERS).id}/stop"),
    ]
    for step in steps:
        step()
        html = client.get(f"/items/{beach.id}").data.decode()
        shown = _panel_names(html)
        allowed = {
            "You" if u.id == world.young_person.id else u.display_name
            for u in everyone
            if policy.can(u, Action.ITEM_VIEW, beach)
        }
        assert shown == allowed


@pytest.mark.app_config(MAIL_URL="file:///tmp/placeholder")
def test_help_button_alerts_the_social_worker_at_once_and_explains_emergencies(
    app, client, world, tmp_path
):
    from memorybox.notifications.mail import FileMailer

    app.extensions["memorybox.mailer"] = FileMailer(str(tmp_path / "mail"))
    login_as(client, world.young_person)
    page = client.get(f"/children/{world.child.id}/box").data
    assert b"I need help" in page
    help_page = client.get(f"/children/{world.child.id}/help").data
    assert (
        b"999" in help_page
        and b"0800 1111" in help_page
        and b"not an emergency service" in help_page
    )
    response = client.post(f"/children/{world.child.id}/help", follow_redirects=True)
    assert response.status_code == 200 and b"We have told Sam" in response.data
    assert response.request.method == "GET", "reloading never sends a second alert"
    notes = _notes(world.social_worker)
    assert notes and notes[0].urgent
    assert db.session.scalar(select(HelpRequest)).child_id == world.child.id
    mails = list((tmp_path / "mail").glob("*.eml"))
    assert len(mails) == 1 and world.social_worker.email in mails[0].read_text()


def test_help_goes_to_the_duty_team_when_there_is_no_social_worker(app, world, tmp_path):
    from memorybox.notifications.mail import FileMailer

    app.extensions["memorybox.mailer"] = FileMailer(str(tmp_path / "mail"))
    world.authority.duty_email = "duty@council.example.org"
    db.session.commit()
    young = factories.user(app, world.authority, Role.YOUNG_PERSON, "Gus")
    gus = factories.child(world.authority, young, "Gus", age=14)
    client = app.test_client()
    login_as(client, young)
    response = client.post(f"/children/{gus.id}/help", follow_redirects=True)
    assert b"the duty team" in response.data
    assert any(n.urgent for n in _notes(world.manager))
    texts = [p.read_text() for p in (tmp_path / "mail").glob("*.eml")]
    assert any("duty@council.example.org" in t for t in texts)


def test_id_like_to_talk_about_this_tells_the_social_worker(app, client, world, beach):
    login_as(client, world.young_person)
    response = client.post(
        f"/items/{beach.id}/talk", data={"show_item": "no"}, follow_redirects=True
    )
    assert b"We have told Sam" in response.data
    assert any("would like to talk" in n.message for n in _notes(world.social_worker))


def test_emails_never_carry_the_childs_things(app, client, world, beach, tmp_path):
    from memorybox.notifications.mail import FileMailer

    app.extensions["memorybox.mailer"] = FileMailer(str(tmp_path / "mail"))
    login_as(client, world.young_person)
    _share(client, beach, "social_worker")
    texts = [p.read_text() for p in (tmp_path / "mail").glob("*.eml")]
    assert texts and all("Beach day" not in t for t in texts)


def test_moderation_holds_adult_items_until_the_social_worker_approves(app, world):
    world.authority.moderation_required = True
    db.session.commit()
    carer = app.test_client()
    login_as(carer, world.carer)
    import io

    uploaded = carer.post(
        f"/children/{world.child.id}/add",
        data={"file": (io.BytesIO(factories.jpeg_bytes()), "a.jpg"), "title": "Zoo trip"},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    assert b"social worker will check" in carer.get("/carer").data
    item = db.session.scalar(select(MemoryItem))
    assert item.status is ItemStatus.AWAITING_APPROVAL
    child = app.test_client()
    login_as(child, world.young_person)
    assert b"Zoo trip" not in child.get(f"/children/{world.child.id}/suggested").data
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert b"Zoo trip" in sw.get("/caseload/reviews").data
    assert sw.post(f"/items/{item.id}/approve").status_code == 302
    assert b"Zoo trip" in child.get(f"/children/{world.child.id}/suggested").data


def test_an_item_not_approved_never_reaches_the_child_and_the_adder_is_told(app, world):
    world.authority.moderation_required = True
    db.session.commit()
    item = factories.item(
        app, world.child, world.carer, title="Old photo", status=ItemStatus.AWAITING_APPROVAL
    )
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert sw.post(f"/items/{item.id}/not-approve").status_code == 302
    child = app.test_client()
    login_as(child, world.young_person)
    assert b"Old photo" not in child.get(f"/children/{world.child.id}/suggested").data
    assert b"Old photo" not in child.get(f"/children/{world.child.id}/box").data
    assert any("was not passed on" in n.message for n in _notes(world.carer))


def test_children_comment_and_the_adder_replies(app, world):
    item = factories.item(app, world.child, world.carer, title="Sports day")
    child = app.test_client()
    login_as(child, world.young_person)
    assert (
        child.post(f"/items/{item.id}/comments", data={"body": "I loved this day!"}).status_code
        == 302
    )
    carer = app.test_client()
    login_as(carer, world.carer)
    page = carer.get(f"/items/{item.id}").data
    assert b"I loved this day!" in page
    assert (
        carer.post(f"/items/{item.id}/comments", data={"body": "Me too, Alex."}).status_code == 302
    )
    assert b"Me too, Alex." in child.get(f"/items/{item.id}").data
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert sw.post(f"/items/{item.id}/comments", data={"body": "hello"}).status_code == 404
    empty = child.post(f"/items/{item.id}/comments", data={"body": ""})
    assert empty.status_code == 400 and b"Please write something first." in empty.data


def test_caseload_shows_what_is_new_since_the_last_visit(app, client, world, beach):
    login_as(client, world.young_person)
    _share(client, beach, "social_worker")
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert b"1 new" in sw.get("/caseload").data
    sw.get(f"/shared/{world.child.id}")
    assert b"1 new" not in sw.get("/caseload").data
    assert b"1 shared with you" in sw.get("/caseload").data


def test_caseload_never_shows_anything_unshared(app, world, beach):
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert b"Beach day" not in sw.get(f"/shared/{world.child.id}").data
    assert b"Nothing shared with you yet" in sw.get("/caseload").data


def test_notifications_centre_marks_read(app, client, world, beach):
    login_as(client, world.young_person)
    _share(client, beach, "social_worker")
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert b'Messages <span class="badge">1' in sw.get("/caseload").data
    assert b"shared something new" in sw.get("/notifications").data
    sw.post("/notifications/read")
    assert b'Messages <span class="badge">' not in sw.get("/caseload").data


def test_manager_turns_on_moderation_and_sets_the_age(client, world):
    login_as(client, world.manager)
    response = client.post(
        "/manage/settings",
        data={
            "self_sharing_age": "14",
            "moderation_required": "y",
            "duty_email": "duty@council.example.org",
        },
    )
    assert response.status_code == 302
    db.session.refresh(world.authority)
    assert world.authority.moderation_required and world.authority.self_sharing_age == 14
    bad = client.post("/manage/settings", data={"self_sharing_age": "3"})
    assert bad.status_code == 400 and b"from 8 to 25" in bad.data
    assert not sharing.decides_for_self(world.child), "Alex is 13, under the new age of 14"


def test_an_unreadable_mailer_never_loses_the_notification(app, client, world, beach):
    class Broken:
        def send(self, message):
            raise OSError("smtp down")

    app.extensions["memorybox.mailer"] = Broken()
    login_as(client, world.young_person)
    assert _share(client, beach, "social_worker").status_code == 302
    assert _notes(world.social_worker)


def test_file_mailer_writes_messages(tmp_path: Path):
    from email.message import EmailMessage

    from memorybox.notifications.mail import FileMailer, make_mailer

    mailer = make_mailer(f"file://{tmp_path}/out")
    assert isinstance(mailer, FileMailer)
    message = EmailMessage()
    message["To"] = "a@example.org"
    message["Subject"] = "hi"
    message.set_content("body")
    mailer.send(message)
    assert len(list((tmp_path / "out").glob("*.eml"))) == 1
