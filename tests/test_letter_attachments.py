"""A later-life letter's photos and documents: added by the allocated social worker through
the same upload pipeline as every upload (checked, location removed, web copies made),
taken off again (files and all) while the letter can still change; nothing of them reaches
the child, or any list or search of the box, before the letter opens; once open the child
sees them on the letter's page, and they go with the child."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from urllib.parse import quote

import jsonschema
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from memorybox import clock, policy
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Allocation
from memorybox.db import db
from memorybox.leaving import services as leaving
from memorybox.letters import services as letters
from memorybox.letters.models import Letter
from memorybox.memories.models import ItemStatus, MemoryItem, Processing
from memorybox.policy import Action
from tests import factories
from tests.factories import World, login_as
from tests.media import makers
from tests.test_exports import SCHEMA, _ask, _download, _pdf_text
from tests.test_letters import move_clock, write

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)

TITLE = "You and your brother at the farm"


def attach(
    client: FlaskClient,
    letter: Letter,
    content: bytes | None = None,
    name: str = "farm.jpg",
    title: str = TITLE,
) -> MemoryItem:
    """The allocated social worker (signed in on ``client``) adds a file to ``letter``."""
    response = client.post(
        f"/letters/{letter.id}/attach",
        data={
            "title": title,
            "caption": "A sunny day.",
            "file": (io.BytesIO(content or makers.camera_jpeg()), name),
        },
    )
    assert response.status_code == 302, response.data.decode()[:2000]
    item = db.session.scalars(select(MemoryItem).order_by(MemoryItem.id.desc())).first()
    assert item is not None and item.letter_id == letter.id
    return item


def _client(app: Flask, person: object) -> FlaskClient:
    other = app.test_client()
    login_as(other, person)  # type: ignore[arg-type]
    return other


def test_a_photo_in_a_letter_is_processed_and_hidden_until_the_letter_opens(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = clock.today()
    letter = write(client, world, rule="date", opens_on=(today + timedelta(days=3)).isoformat())
    item = attach(client, letter)
    db.session.refresh(item)
    assert item.status is ItemStatus.IN_LETTER and item.processing is Processing.READY
    assert item.rendition("thumb") is not None and item.rendition("large") is not None
    # The writer sees it on the letter's page, and its file has no location left.
    page = client.get(f"/letters/{letter.id}/written").data.decode()
    assert TITLE in page and f"/items/{item.id}/file" in page
    original = client.get(f"/items/{item.id}/download")
    assert original.status_code == 200
    for token in makers.FORBIDDEN:
        assert token not in original.data
    young = _client(app, world.young_person)
    waiting = young.get(f"/letters/{letter.id}?open=1").data.decode()
    assert TITLE not in waiting and f"/items/{item.id}" not in waiting
    for route in ("", "/file", "/thumbnail", "/download", "/status", "/preview"):
        assert young.get(f"/items/{item.id}{route}").status_code == 404, route
    # Not in the box, its search, its timeline, its suggestions, nor in anyone's lists.
    for url in (
        f"/children/{world.child.id}/box",
        f"/children/{world.child.id}/timeline",
        f"/children/{world.child.id}/suggested",
        f"/children/{world.child.id}/bin",
        f"/children/{world.child.id}/search?q=farm",
        f"/children/{world.child.id}/search?q=brother",
    ):
        response = young.get(url)
        assert response.status_code == 200, url
        assert TITLE not in response.data.decode() and f"/items/{item.id}" not in (
            response.data.decode()
        ), url
    for person in (world.young_person, world.carer, world.social_worker, world.manager):
        visible = select(MemoryItem.id).where(policy.viewable_items(person))
        assert item.id not in set(db.session.scalars(visible))
    # Nobody else at all, not even the carer or a manager.
    for person in (world.carer, world.manager, world.unallocated_social_worker):
        other = _client(app, person)
        for route in ("", "/file", "/thumbnail", "/download"):
            assert other.get(f"/items/{item.id}{route}").status_code == 404

    # The day comes: the child opens the letter and sees the photo, and can download it.
    move_clock(monkeypatch, today + timedelta(days=3))
    page = young.get(f"/letters/{letter.id}?open=1").data.decode()
    assert TITLE in page and f"/items/{item.id}/file" in page and "A sunny day." in page
    assert young.get(f"/items/{item.id}/file").status_code == 200
    download = young.get(f"/items/{item.id}/download")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    # Still never in the box's lists, and nothing can be done to it but look.
    assert TITLE not in young.get(f"/children/{world.child.id}/box").data.decode()
    for action in (Action.ITEM_EDIT, Action.ITEM_DELETE, Action.ITEM_SHARE, Action.ITEM_COMMENT):
        assert not policy.can(world.young_person, action, item)
    # An open letter never changes: nothing more added, nothing taken off.
    login_as(client, world.social_worker)
    assert client.get(f"/letters/{letter.id}/attach").status_code == 404
    assert client.post(f"/attachments/{item.id}/remove").status_code == 404


def test_taking_a_photo_off_deletes_it_and_its_files(
    app: Flask, client: FlaskClient, world: World
) -> None:
    letter = write(client, world, rule="date", opens_on="2099-01-01")
    item = attach(client, letter)
    storage = app.extensions["memorybox.storage"]
    keys = [item.storage_key, *(r.storage_key for r in item.renditions)]
    assert all(storage.exists(key) for key in keys)
    item_id = item.id
    response = client.post(f"/attachments/{item_id}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(MemoryItem, item_id) is None
    assert not any(storage.exists(key) for key in keys)


def test_deleting_a_draft_deletes_its_photos(app: Flask, client: FlaskClient, world: World) -> None:
    login_as(client, world.social_worker)
    response = client.post(
        f"/children/{world.child.id}/letters/new",
        data={"title": "Draft", "body": "Words.", "rule": "date", "opens_on": "2099-01-01"},
    )
    assert response.status_code == 302
    letter = db.session.scalars(select(Letter).order_by(Letter.id.desc())).first()
    assert letter is not None and not letter.given
    item = attach(client, letter, makers.pdf(), "report.pdf", "Your school report")
    storage = app.extensions["memorybox.storage"]
    keys = [item.storage_key, *(r.storage_key for r in item.renditions)]
    item_id = item.id
    assert client.post(f"/letters/{letter.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(MemoryItem, item_id) is None
    assert not any(storage.exists(key) for key in keys)


def test_a_hostile_file_is_refused_kindly_and_nothing_is_kept(
    app: Flask, client: FlaskClient, world: World
) -> None:
    letter = write(client, world, rule="date", opens_on="2099-01-01")
    before = db.session.scalar(select(func.count()).select_from(MemoryItem))
    response = client.post(
        f"/letters/{letter.id}/attach",
        data={"title": "Zip", "file": (io.BytesIO(makers.zip_bytes()), "photo.jpg")},
    )
    assert response.status_code == 415
    assert "Error:" in response.data.decode()
    response = client.post(
        f"/letters/{letter.id}/attach",
        data={"title": "Nothing"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400 and response.json and response.json["error"]
    assert db.session.scalar(select(func.count()).select_from(MemoryItem)) == before


def test_a_letter_carries_at_most_ten(app: Flask, client: FlaskClient, world: World) -> None:
    letter = write(client, world, rule="date", opens_on="2099-01-01")
    for n in range(letters.ATTACHMENTS_MAX):
        factories_item = factories.item(app, world.child, world.social_worker, title=f"P{n}")
        factories_item.status = ItemStatus.IN_LETTER
        factories_item.letter_id = letter.id
    db.session.commit()
    response = client.post(
        f"/letters/{letter.id}/attach",
        data={"title": "One more", "file": (io.BytesIO(factories.jpeg_bytes()), "a.jpg")},
    )
    assert response.status_code == 400
    assert "up to 10" in response.data.decode()


def test_an_open_letters_photos_go_with_the_child_in_every_export(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = clock.today()
    letter = write(client, world, rule="date", opens_on=(today + timedelta(days=3)).isoformat())
    photo = attach(client, letter)
    waiting = write(client, world, rule="date", opens_on=(today + timedelta(days=300)).isoformat())
    unopened = attach(client, waiting, title="Not for you yet")
    young = _client(app, world.young_person)
    cid = world.child.id

    # Before it opens: in no export at all, not even as an item.
    document = json.loads(_download(young, _ask(young, cid, "json")))
    assert document["letters"] == []
    assert not [i for i in document["items"] if i["id"] in (photo.id, unopened.id)]

    move_clock(monkeypatch, today + timedelta(days=5))
    assert young.post(f"/letters/{letter.id}/gentle", data={"choice": "open"}).status_code == 302
    document = json.loads(_download(young, _ask(young, cid, "json")))
    jsonschema.validate(document, SCHEMA)
    [opened] = document["letters"]
    [attached] = opened["attachments"]
    assert attached["id"] == photo.id and attached["title"] == TITLE
    assert attached["kind"] == "photo" and len(attached["sha256"]) == 64
    assert attached["caption"] == "A sunny day."
    assert not [i for i in document["items"] if i["id"] in (photo.id, unopened.id)]

    archive = zipfile.ZipFile(io.BytesIO(_download(young, _ask(young, cid, "zip"))))
    names = archive.namelist()
    [text] = [n for n in names if n.startswith("letters/") and n.endswith(".txt")]
    [file] = [n for n in names if n.startswith(text.removesuffix(".txt") + "/")]
    body = archive.read(file)
    assert body[:2] == b"\xff\xd8"
    for token in makers.FORBIDDEN:
        assert token not in body
    index = archive.read("index.html").decode()
    assert TITLE in index and quote(file) in index
    assert "Not for you yet" not in index and not [n for n in names if "Not-for-you" in n]

    book = _pdf_text(_download(young, _ask(young, cid, "pdf")))
    assert TITLE in book and "Not for you yet" not in book
    pdf = pdfium.PdfDocument(_download(young, _ask(young, cid, "pdf")))
    try:
        images = sum(
            1
            for page in pdf
            for obj in page.get_objects()
            if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE
        )
    finally:
        pdf.close()
    assert images >= 1  # the photo is printed under the letter

    # The social worker's own export holds no letter and none of its photos.
    login_as(client, world.social_worker)
    document = json.loads(_download(client, _ask(client, cid, "json")))
    assert document["letters"] == [] and not document["items"]


def test_the_purge_of_an_account_takes_letters_photos_too(
    app: Flask, client: FlaskClient, world: World
) -> None:
    letter = write(client, world, rule="date", opens_on="2099-01-01")
    item = attach(client, letter)
    storage = app.extensions["memorybox.storage"]
    keys = [item.storage_key, *(r.storage_key for r in item.renditions)]
    item_id, letter_id = item.id, letter.id
    deletion = leaving.ask_to_delete(world.child)
    db.session.commit()
    leaving.delete_everything(deletion, storage)
    db.session.expire_all()
    assert db.session.get(MemoryItem, item_id) is None
    assert db.session.get(Letter, letter_id) is None
    assert not any(storage.exists(key) for key in keys)


def test_a_letters_photos_follow_the_allocation_as_its_words_do(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """A new social worker (after a move, or a change of worker) sees the letter and its
    photos; the one whose allocation ended sees neither."""
    letter = write(client, world, rule="date", opens_on="2099-01-01")
    item = attach(client, letter)
    assert policy.can(world.social_worker, Action.ITEM_VIEW, item)
    for allocation in db.session.scalars(
        select(Allocation).where(
            Allocation.child_id == world.child.id,
            Allocation.social_worker_id == world.social_worker.id,
        )
    ):
        allocation.end_date = clock.today() - timedelta(days=1)
    newcomer = world.unallocated_social_worker
    factories.allocation(world.child, newcomer)
    db.session.commit()
    assert not policy.can(world.social_worker, Action.ITEM_VIEW, item)
    assert policy.can(newcomer, Action.ITEM_VIEW, item)
    assert policy.can(newcomer, Action.ATTACHMENT_REMOVE, item)
    other = _client(app, newcomer)
    assert other.get(f"/items/{item.id}/file").status_code == 200
    old = _client(app, world.social_worker)
    assert old.get(f"/items/{item.id}/file").status_code == 404


def test_the_childs_who_looked_never_tells_of_a_letters_photo(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """The worker's looks are recorded (by the photo's id, as part of a letter), but the
    child's "who looked" page says nothing of them, before or after the photo is taken off."""
    letter = write(client, world, rule="date", opens_on="2099-01-01")
    item = attach(client, letter)
    assert client.get(f"/items/{item.id}/file").status_code == 200
    assert client.get(f"/items/{item.id}").status_code == 200
    looks = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.target_type == "attachment", AuditEvent.target_id == item.id
        )
    ).all()
    assert {e.action for e in looks} >= {"item:view", "item:view-file"}
    assert all(e.actor_id == world.social_worker.id and e.item_id is None for e in looks)
    young = _client(app, world.young_person)
    seen = young.get(f"/children/{world.child.id}/seen").data.decode()
    assert TITLE not in seen and "something you deleted" not in seen
    assert client.post(f"/attachments/{item.id}/remove").status_code == 302
    seen = young.get(f"/children/{world.child.id}/seen").data.decode()
    assert TITLE not in seen and "something you deleted" not in seen


def test_the_child_keeps_a_copy_of_an_open_letters_photo_in_their_box(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = clock.today()
    letter = write(client, world, rule="date", opens_on=(today + timedelta(days=3)).isoformat())
    item = attach(client, letter)
    young = _client(app, world.young_person)
    assert young.post(f"/attachments/{item.id}/keep").status_code == 404  # not open yet
    move_clock(monkeypatch, today + timedelta(days=3))
    page = young.get(f"/letters/{letter.id}?open=1").data.decode()
    assert f"Keep “{TITLE}” in my box too" in page
    response = young.post(f"/attachments/{item.id}/keep")
    assert response.status_code == 302
    kept = db.session.scalars(
        select(MemoryItem).where(MemoryItem.status == ItemStatus.KEPT, MemoryItem.title == TITLE)
    ).one()
    assert response.headers["Location"].endswith(f"/items/{kept.id}")
    assert kept.letter_id is None and kept.child_id == world.child.id
    assert kept.storage_key != item.storage_key
    assert {r.name for r in kept.renditions} == {r.name for r in item.renditions}
    assert TITLE in young.get(f"/children/{world.child.id}/box").data.decode()
    assert young.get(f"/items/{kept.id}/file").status_code == 200
    # Asked again: the same copy, not a second one; the letter keeps its own.
    again = young.post(f"/attachments/{item.id}/keep")
    assert again.headers["Location"].endswith(f"/items/{kept.id}")
    db.session.expire_all()
    assert db.session.get(MemoryItem, item.id) is not None
    assert young.get(f"/letters/{letter.id}?open=1").data.decode().count(TITLE) >= 1
    # The copy is the child's own: private (the social worker does not see it).
    assert not policy.can(world.social_worker, Action.ITEM_VIEW, kept)
    assert not policy.can(world.social_worker, Action.ATTACHMENT_KEEP, item)


def test_the_upload_forms_answer_the_progress_script_with_a_message_not_a_500(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """The script sends the form as JSON; a missing title (or file) is a friendly 400 on the
    box's own add page as on a letter's (their errors are translated words, made lazily)."""
    login_as(client, world.young_person)
    response = client.post(
        f"/children/{world.child.id}/add",
        data={"file": (io.BytesIO(factories.jpeg_bytes()), "a.jpg")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400 and response.json
    assert "Please give it a title." in response.json["error"]
