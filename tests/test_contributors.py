"""Family and past carers who send memories (the letterbox): invited by the allocated social
worker for one child; everything they send waits for that worker's check whatever the
authority's setting, goes through the same upload pipeline (location removed), then reaches
the child as a suggestion "from your birth mum"; the contributor sees only waiting, passed
on or not passed on; the child can say "no more from this person"; the worker can end it;
and no page a contributor can reach shows anything else of the child's life."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from memorybox import policy
from memorybox.accounts.models import Invitation, Role, User
from memorybox.audit.models import AuditEvent
from memorybox.contributors.models import Contributor
from memorybox.db import db
from memorybox.memories.models import ItemStatus, MemoryItem, Processing
from memorybox.notifications.models import Notification
from memorybox.policy import Action
from tests import factories
from tests.factories import World, login_as
from tests.media import makers
from tests.media.conftest import assert_no_location
from tests.test_readability import HIGHEST_GRADE, _grade, words_of

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)

CARER_NAME = "Jocasta Fairweather"
SECRET_TITLE = "Sleepover at Grandma Ivy's"
SECRET_CAPTION = "At 14 Larch Close with everyone"
NEW_PASSWORD = "a long new password for Morgan"


def invite(client: FlaskClient, world: World, name: str = "Morgan Reed") -> str:
    """The allocated social worker invites a birth mum; returns the token from the link."""
    login_as(client, world.social_worker)
    response = client.post(
        f"/children/{world.child.id}/contributors",
        data={"display_name": name, "relation": "birth mum", "email": "morgan@example.org"},
    )
    assert response.status_code == 201, response.data.decode()[:2000]
    match = re.search(r'value="[^"]*/invite#([^"]+)"', response.data.decode())
    assert match is not None
    return match.group(1)


def join(app: Flask, token: str) -> FlaskClient:
    """The invited person sets a password through the invite form, and is signed in."""
    client = app.test_client()
    response = client.post(
        "/invite", data={"token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302, response.data.decode()[:2000]
    assert client.get("/").location.endswith("/send")
    return client


def send(client: FlaskClient, content: bytes | None = None, title: str = "You as a baby"):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {"title": title, "caption": "I think of you every day."}
    if content is not None:
        data["file"] = (io.BytesIO(content), "IMG_0042.jpg")
    return client.post("/send", data=data, content_type="multipart/form-data")


def contribution() -> MemoryItem:
    item = db.session.scalars(select(MemoryItem).order_by(MemoryItem.id.desc())).first()
    assert item is not None
    return item


@pytest.fixture
def joined(app: Flask, client: FlaskClient, world: World) -> FlaskClient:
    return join(app, invite(client, world))


def link() -> Contributor:
    found = db.session.scalar(select(Contributor))
    assert found is not None
    return found


def test_invited_birth_mum_sends_a_photo_that_is_checked_cleaned_passed_on_and_kept(
    app: Flask, client: FlaskClient, world: World, joined: FlaskClient, tmp_path: Path
) -> None:
    assert not world.authority.moderation_required  # checked anyway
    contributor = db.session.scalar(select(User).where(User.email == "morgan@example.org"))
    assert contributor is not None and contributor.role is Role.CONTRIBUTOR
    assert contributor.password_hash.startswith("$argon2")
    assert link().user_id == contributor.id and link().child_id == world.child.id
    page = joined.get("/send").data.decode()
    assert "Send something to Alex" in page

    assert send(joined, makers.camera_jpeg()).status_code == 302
    item = contribution()
    assert item.status is ItemStatus.AWAITING_APPROVAL
    assert item.processing is Processing.READY  # the same pipeline as every upload
    assert "Waiting to be checked" in joined.get("/send").data.decode()
    # the child sees nothing yet; the worker has it to check, with who sent it
    assert not policy.can(world.young_person, Action.ITEM_VIEW, item)
    login_as(client, world.social_worker)
    queue = client.get("/caseload/reviews").data.decode()
    assert "You as a baby" in queue and "birth mum" in queue
    assert "birth mum" in client.get(f"/items/{item.id}").data.decode()
    assert client.post(f"/items/{item.id}/approve").status_code == 302
    assert "Passed on" in joined.get("/send").data.decode()

    login_as(client, world.young_person)
    suggested = client.get(f"/children/{world.child.id}/suggested").data.decode()
    assert "From your birth mum, Morgan Reed" in suggested
    assert f"/children/{world.child.id}/senders" in suggested
    for route in ("download", "file", "thumbnail"):
        response = client.get(f"/items/{item.id}/{route}")
        assert response.status_code == 200, route
        served = tmp_path / f"{route}.bin"
        served.write_bytes(response.data)
        assert_no_location(served)
    assert client.post(f"/items/{item.id}/keep").status_code == 302
    db.session.refresh(item)
    assert item.status is ItemStatus.KEPT
    # The contributor learns it was passed on, never what the child chose.
    sent = joined.get("/send").data.decode()
    assert "Passed on" in sent and "kept" not in sent.lower().replace("kept safe", "")


def test_not_passed_on_says_only_that(
    client: FlaskClient, world: World, joined: FlaskClient
) -> None:
    send(joined, factories.jpeg_bytes())
    item = contribution()
    login_as(client, world.social_worker)
    assert client.post(f"/items/{item.id}/not-approve").status_code == 302
    page = joined.get("/send").data.decode()
    assert "Not passed on" in page and "social worker did not" not in page
    assert not policy.can(world.young_person, Action.ITEM_VIEW, item)
    # Their message about it leads to their own page, where it says so (never to the item,
    # which they cannot open).
    note = db.session.scalars(
        select(Notification).where(Notification.user_id == item.added_by_id)
    ).one()
    opened = joined.get(f"/notifications/{note.id}")
    assert opened.status_code == 302 and opened.location.endswith("/send#sent-heading")


def test_the_contributor_never_opens_what_they_sent_nor_anything_else(
    app: Flask, world: World, joined: FlaskClient
) -> None:
    send(joined, factories.jpeg_bytes())
    item = contribution()
    contributor = link().user
    assert contributor is not None
    for action in Action:
        for target in (world.child, item, world.carer, world.authority):
            decision = policy.can(contributor, action, target)
            assert not decision, (action, target)
    assert policy.can(contributor, Action.CONTRIBUTOR_HOME, link())
    assert policy.can(contributor, Action.CONTRIBUTOR_SEND, link())
    for route in ("", "/file", "/download", "/thumbnail", "/status"):
        assert joined.get(f"/items/{item.id}{route}").status_code == 404


def test_no_page_a_contributor_reaches_shows_the_carer_other_items_or_where_they_live(
    app: Flask, client: FlaskClient, world: World, joined: FlaskClient
) -> None:
    world.carer.display_name = CARER_NAME
    db.session.commit()
    other = factories.item(app, world.child, world.young_person, title=SECRET_TITLE)
    other.caption = SECRET_CAPTION
    db.session.commit()
    send(joined, factories.jpeg_bytes())
    mine = contribution()
    login_as(client, world.social_worker)
    client.post(f"/items/{mine.id}/approve")
    secrets = (CARER_NAME, "Jocasta", SECRET_TITLE, SECRET_CAPTION, "Larch Close")
    ids = {world.child.id, other.id, mine.id, world.carer.id, link().id, 1}
    reached = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        for ident in ids:
            values = {arg: ident for arg in rule.arguments}
            try:
                url = app.url_map.bind("localhost").build(rule.endpoint, values)
            except Exception:  # noqa: BLE001, S112 - a route with arguments of another kind
                continue
            response = joined.get(url)
            body = response.get_data(as_text=True)
            if response.status_code == 200:
                reached += 1
            for secret in secrets:
                assert secret not in body, (url, secret)
    assert reached >= 3  # their page, their messages, their password page at least


def test_the_child_says_no_more_and_can_undo_it_and_the_worker_sees(
    client: FlaskClient, world: World, joined: FlaskClient
) -> None:
    send(joined, factories.jpeg_bytes())
    item = contribution()
    login_as(client, world.social_worker)
    client.post(f"/items/{item.id}/approve")
    login_as(client, world.young_person)
    page = client.get(f"/items/{item.id}?open=1").data.decode()
    assert "No more from Morgan Reed" in page
    assert "Morgan Reed is not told what you choose." in page and "decide-words" not in page
    response = client.post(f"/senders/{link().id}/stop", data={"back": str(item.id)})
    assert response.status_code == 302 and f"/items/{item.id}" in response.location
    assert link().blocked

    page = joined.get("/send").data.decode()
    assert "You can't send anything just now." in page and 'type="file"' not in page
    before = db.session.query(MemoryItem).count()
    assert send(joined, factories.jpeg_bytes()).status_code == 302
    assert db.session.query(MemoryItem).count() == before

    login_as(client, world.social_worker)
    assert "Alex said no more from Morgan Reed (birth mum)." in client.get(
        f"/shared/{world.child.id}"
    ).data.decode().replace("&#39;", "'")
    assert (
        "said no more from this person"
        in client.get(f"/children/{world.child.id}/contributors").data.decode()
    )

    login_as(client, world.young_person)
    senders = client.get(f"/children/{world.child.id}/senders").data.decode()
    assert "Let Morgan Reed send things again" in senders
    assert client.post(f"/senders/{link().id}/allow").status_code == 302
    assert not link().blocked
    assert send(joined, factories.jpeg_bytes(), title="Again").status_code == 302
    assert contribution().title == "Again"
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"sender:stop", "sender:allow", "contribution:send"} <= actions


def test_the_worker_ends_access(client: FlaskClient, world: World, joined: FlaskClient) -> None:
    login_as(client, world.social_worker)
    assert client.post(f"/contributors/{link().id}/end").status_code == 302
    assert link().ended and link().user is not None and not link().user.is_active
    response = joined.get("/send")
    assert response.status_code == 302 and "/login" in response.location
    assert "Access ended" in client.get(f"/children/{world.child.id}/contributors").data.decode()


def test_nobody_to_check_means_nothing_can_be_sent(
    client: FlaskClient, world: World, joined: FlaskClient
) -> None:
    from memorybox.children.models import Allocation

    for allocation in db.session.scalars(
        select(Allocation).where(Allocation.child_id == world.child.id)
    ):
        db.session.delete(allocation)
    db.session.commit()
    assert "You can't send anything just now." in joined.get("/send").data.decode()


def test_only_the_allocated_worker_invites_and_checks(
    app: Flask, client: FlaskClient, world: World, joined: FlaskClient
) -> None:
    send(joined, factories.jpeg_bytes())
    item = contribution()
    for person in (
        world.unallocated_social_worker,
        world.ended_social_worker,
        world.carer,
        world.manager,
        world.young_person,
    ):
        assert not policy.can(person, Action.ITEM_REVIEW, item), person
        assert not policy.can(person, Action.CONTRIBUTORS_MANAGE, world.child), person
    assert policy.can(world.social_worker, Action.ITEM_REVIEW, item)
    # the SQL twin agrees with the rule for every person and the contribution
    for person in db.session.scalars(select(User)):
        listed = db.session.scalar(
            select(MemoryItem.id).where(MemoryItem.id == item.id, policy.viewable_items(person))
        )
        assert (listed is not None) == bool(policy.can(person, Action.ITEM_VIEW, item)), person


def test_bad_input_gets_a_friendly_4xx_and_loses_nothing(
    client: FlaskClient, world: World, joined: FlaskClient
) -> None:
    login_as(client, world.social_worker)
    response = client.post(
        f"/children/{world.child.id}/contributors",
        data={"display_name": "Nan", "relation": "", "email": "nan@example.org"},
    )
    assert response.status_code == 400 and "Please say who they are" in response.data.decode()
    response = client.post(
        f"/children/{world.child.id}/contributors",
        data={"display_name": "Nan", "relation": "nan", "email": "morgan@example.org"},
    )
    assert response.status_code == 400 and "already has an account" in response.data.decode()
    response = joined.post(
        "/send", data={"title": "Nothing in it", "caption": " "}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "Please write a message or choose a file to send." in response.data.decode()
    assert "Nothing in it" in response.data.decode()  # what they typed is still there
    response = send(joined, b"not a picture at all")
    assert response.status_code == 415


def test_a_manager_cannot_make_a_contributor_without_a_child(
    client: FlaskClient, world: World
) -> None:
    login_as(client, world.manager)
    response = client.post(
        "/manage/people/invite",
        data={"display_name": "X", "email": "x@example.org", "role": "contributor"},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(Invitation).where(Invitation.email == "x@example.org")) is None


def test_the_childs_pages_about_senders_are_plain_words(
    client: FlaskClient, world: World, joined: FlaskClient
) -> None:
    send(joined, factories.jpeg_bytes())
    item = contribution()
    login_as(client, world.social_worker)
    client.post(f"/items/{item.id}/approve")
    login_as(client, world.young_person)
    text = words_of(client.get(f"/children/{world.child.id}/senders").data.decode())
    assert "No more from Morgan Reed" in text
    assert _grade(text) <= HIGHEST_GRADE, text
    client.post(f"/senders/{link().id}/stop")
    text = words_of(client.get(f"/children/{world.child.id}/senders").data.decode())
    assert _grade(text) <= HIGHEST_GRADE, text


def test_words_alone_reach_the_child_as_a_letter(
    app: Flask, client: FlaskClient, world: World, joined: FlaskClient
) -> None:
    import pypdfium2 as pdfium

    words = "Dear Alex, happy birthday. Penblwydd hapus! عيد ميلاد سعيد"
    response = joined.post(
        "/send",
        data={"title": "A letter for you", "caption": words},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    item = contribution()
    assert item.kind.value == "document" and item.status is ItemStatus.AWAITING_APPROVAL
    assert item.processing is Processing.READY and item.rendition("preview") is not None
    login_as(client, world.social_worker)
    client.post(f"/items/{item.id}/approve")
    login_as(client, world.young_person)
    response = client.get(f"/items/{item.id}/download")
    assert response.status_code == 200
    document = pdfium.PdfDocument(response.data)
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert "A letter for you" in text and "Dear Alex, happy birthday." in text
    assert "Penblwydd hapus!" in text
