"""Exports: the life-story PDF, the JSON for case records and "Take it with me" (ZIP)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pypdfium2 as pdfium
import pytest
from sqlalchemy import select

from memorybox.audit.models import AuditEvent
from memorybox.children import services as children
from memorybox.children.models import Allocation, Placement
from memorybox.db import db
from memorybox.exports.models import Export, ExportKind, ExportState
from memorybox.memories.models import ItemKind, MemoryItem, Processing
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience
from memorybox.storage import new_key
from memorybox.story import services as story
from tests import factories
from tests.factories import login_as

SCHEMA = json.loads((Path(__file__).parent.parent / "docs/export-schema.json").read_text())


@pytest.fixture
def box(app, world):
    """Alex's box: one item and one story part shared with their social worker, one of each
    kept private."""
    yp, child = world.young_person, world.child
    shared = factories.item(app, child, yp, title="Shared beach day")
    shared.caption = "Me and Nan at the sea"
    private = factories.item(app, child, yp, title="Secret diary photo")
    private.caption = "Nobody else sees this"
    db.session.commit()
    sharing.grant(
        child=child, decided_by=yp, on_behalf=False, audience=Audience.SOCIAL_WORKER, item=shared
    )
    open_part = story.add_own_section(child, "My football team")
    story.save_version(open_part, "I play in goal on Saturdays.", [shared], yp)
    closed_part = story.add_own_section(child, "Hidden worries")
    story.save_version(closed_part, "Something only I know.", [], yp)
    sharing.grant(
        child=child,
        decided_by=yp,
        on_behalf=False,
        audience=Audience.SOCIAL_WORKER,
        story_section=open_part,
    )
    db.session.commit()
    return {"shared": shared, "private": private, "open": open_part, "closed": closed_part}


def _ask(client, child_id: int, kind: str) -> Export:
    response = client.post(f"/children/{child_id}/exports", data={"kind": kind})
    assert response.status_code == 302, response.status_code
    export = db.session.scalars(select(Export).order_by(Export.id.desc())).first()
    assert export is not None
    db.session.refresh(export)
    return export


def _download(client, export: Export) -> bytes:
    response = client.get(f"/exports/{export.id}/download")
    assert response.status_code == 200, response.status_code
    assert "attachment" in response.headers["Content-Disposition"]
    return response.get_data()


def _pdf_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_take_it_with_me_zip_has_originals_captions_story_and_offline_index(
    app, client, world, box
):
    login_as(client, world.young_person)
    page = client.get(f"/children/{world.child.id}/exports")
    assert page.status_code == 200
    assert b"Take my things with me" in page.data
    export = _ask(client, world.child.id, "zip")
    assert export.state is ExportState.READY and export.progress == 100

    archive = zipfile.ZipFile(io.BytesIO(_download(client, export)))
    names = archive.namelist()
    storage = app.extensions["memorybox.storage"]
    for item in (box["shared"], box["private"]):
        db.session.refresh(item)
        original = b"".join(storage.iter_bytes(item.storage_key))
        [path] = [n for n in names if n.endswith(".jpg") and item.title.replace(" ", "-") in n]
        assert archive.read(path) == original
        caption_file = path.rsplit(".", 1)[0] + "-caption.txt"
        assert item.caption in archive.read(caption_file).decode()

    story_text = archive.read("story.txt").decode()
    assert "I play in goal on Saturdays." in story_text
    assert "Something only I know." in story_text  # the child's own export has all of it

    index = archive.read("index.html").decode()
    assert "<script" not in index.lower()
    assert "Me and Nan at the sea" in index and "Hidden worries" in index
    links = re.findall(r'(?:href|src)="([^"]+)"', index)
    assert links
    for link in links:
        assert "://" not in link and not link.startswith("/"), link
        assert link.replace("%20", " ") in names, link


def test_social_worker_pdf_holds_only_what_is_shared(app, client, world, box):
    login_as(client, world.social_worker)
    shared_page = client.get(f"/shared/{world.child.id}")
    assert f"/children/{world.child.id}/exports".encode() in shared_page.data
    export = _ask(client, world.child.id, "pdf")
    assert export.state is ExportState.READY
    data = _download(client, export)
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    assert "Alex" in text
    assert "Shared beach day" in text and "Me and Nan at the sea" in text
    assert "My football team" in text and "I play in goal on Saturdays." in text
    for secret in ("Secret diary photo", "Nobody else sees this", "Hidden worries", "only I know"):
        assert secret not in text
    # The photo is in the book (the large rendition, as JPEG).
    pdf = pdfium.PdfDocument(data)
    images = [
        obj
        for page in pdf
        for obj in page.get_objects()
        if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE
    ]
    assert len(images) == 1
    pdf.close()


def test_childs_own_pdf_has_their_whole_story_with_non_latin_text(app, client, world, box):
    story.save_version(box["closed"], "Zażółć gęślą jaźń — 你好", [], world.young_person)
    login_as(client, world.young_person)
    export = _ask(client, world.child.id, "pdf")
    text = _pdf_text(_download(client, export))
    assert "Hidden worries" in text and "Zażółć gęślą jaźń" in text
    assert "Secret diary photo" in text


def test_social_worker_json_validates_and_holds_only_what_is_shared(app, client, world, box):
    login_as(client, world.social_worker)
    export = _ask(client, world.child.id, "json")
    document = json.loads(_download(client, export))
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [i["title"] for i in document["items"]] == ["Shared beach day"]
    assert [s["title"] for s in document["story"]] == ["My football team"]
    assert document["story"][0]["item_ids"] == [box["shared"].id]
    raw = json.dumps(document)
    for secret in ("Secret diary photo", "Nobody else sees this", "Hidden worries", "IMG_0001"):
        assert secret not in raw


def test_childs_json_validates_too(app, client, world, box):
    login_as(client, world.young_person)
    document = json.loads(_download(client, _ask(client, world.child.id, "json")))
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert {i["title"] for i in document["items"]} == {"Shared beach day", "Secret diary photo"}


def test_professionals_cannot_take_the_whole_box_and_strangers_see_nothing(app, client, world, box):
    login_as(client, world.social_worker)
    assert (
        client.post(f"/children/{world.child.id}/exports", data={"kind": "zip"}).status_code == 404
    )
    page = client.get(f"/children/{world.child.id}/exports")
    assert b'value="zip"' not in page.data and b'value="pdf"' in page.data
    for outsider in (world.manager, world.unallocated_social_worker, world.other_young_person):
        login_as(client, outsider)
        assert client.get(f"/children/{world.child.id}/exports").status_code == 404
        assert (
            client.post(f"/children/{world.child.id}/exports", data={"kind": "pdf"}).status_code
            == 404
        )
    assert db.session.scalar(select(Export.id)) is None


def test_someone_elses_export_is_not_found(app, client, world, box):
    login_as(client, world.young_person)
    export = _ask(client, world.child.id, "zip")
    for other in (world.social_worker, world.carer, world.other_young_person, world.manager):
        login_as(client, other)
        assert client.get(f"/exports/{export.id}/download").status_code == 404
        assert client.get(f"/exports/{export.id}/status").status_code == 404
    assert client.get("/exports/999999/download").status_code == 404
    denied = [e for e in _events("export:download") if e.outcome == "denied"]
    assert len(denied) == 8  # the download and the status, for each of the four


def test_download_refused_once_the_allocation_ends(app, client, world, box):
    login_as(client, world.social_worker)
    export = _ask(client, world.child.id, "pdf")
    assert client.get(f"/exports/{export.id}/download").status_code == 200
    allocation = db.session.scalar(
        select(Allocation).where(
            Allocation.child_id == world.child.id,
            Allocation.social_worker_id == world.social_worker.id,
        )
    )
    children.end_now(allocation)
    assert client.get(f"/exports/{export.id}/download").status_code == 404
    assert client.get(f"/exports/{export.id}/status").status_code == 404


def test_a_carer_loses_the_export_when_the_placement_ends(app, client, world, box):
    sharing.grant(
        child=world.child,
        decided_by=world.young_person,
        on_behalf=False,
        audience=Audience.CARERS,
        item=box["shared"],
    )
    db.session.commit()
    login_as(client, world.carer)
    export = _ask(client, world.child.id, "json")
    document = json.loads(_download(client, export))
    assert [i["title"] for i in document["items"]] == ["Shared beach day"]
    assert document["story"] == []
    placement = db.session.scalar(
        select(Placement).where(
            Placement.child_id == world.child.id, Placement.carer_id == world.carer.id
        )
    )
    children.end_now(placement)
    assert client.get(f"/exports/{export.id}/download").status_code == 404


def test_an_expired_export_is_refused(app, client, world, box):
    from datetime import timedelta

    from memorybox import clock

    login_as(client, world.young_person)
    export = _ask(client, world.child.id, "json")
    export.expires_at = clock.now() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"/exports/{export.id}/download").status_code == 404


def test_status_endpoint_reports_progress_and_link(app, client, world, box):
    login_as(client, world.young_person)
    waiting = Export(
        child_id=world.child.id, requested_by_id=world.young_person.id, kind=ExportKind.ZIP
    )
    db.session.add(waiting)
    db.session.commit()
    data = client.get(f"/exports/{waiting.id}/status").get_json()
    assert data["state"] == "waiting" and data["progress"] == 0 and data["download_url"] is None
    page = client.get(f"/children/{world.child.id}/exports")
    assert b"data-export" in page.data and b"<progress" in page.data
    assert b"<script>" not in page.data

    export = _ask(client, world.child.id, "zip")
    data = client.get(f"/exports/{export.id}/status").get_json()
    assert data["state"] == "ready" and data["progress"] == 100
    assert data["download_url"] == f"/exports/{export.id}/download"


def test_requests_and_downloads_are_audited(app, client, world, box):
    login_as(client, world.social_worker)
    export = _ask(client, world.child.id, "pdf")
    _download(client, export)
    [asked] = _events("export:request")
    [got] = [e for e in _events("export:download") if e.outcome == "allowed"]
    for event in (asked, got):
        assert event.actor_id == world.social_worker.id
        assert event.child_id == world.child.id
        assert event.target_type == "export" and event.target_id == export.id


def test_relationship_ended_before_the_build_makes_nothing(app, client, world, box):
    from memorybox.exports import services

    export = services.request(world.social_worker, world.child, ExportKind.JSON)
    allocation = db.session.scalar(
        select(Allocation).where(
            Allocation.child_id == world.child.id,
            Allocation.social_worker_id == world.social_worker.id,
        )
    )
    children.end_now(allocation)
    assert services.build(export.id, app.extensions["memorybox.storage"]) is ExportState.FAILED
    db.session.refresh(export)
    assert export.storage_key is None


def _generated(size: int, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    block = bytes(range(256)) * (chunk // 256)
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece


def test_zip_of_a_large_box_keeps_memory_flat(app, client, world):
    from memorybox.exports.streams import reader

    size = 200 * 1024 * 1024
    storage = app.extensions["memorybox.storage"]
    key = new_key("mp4")
    digest = hashlib.sha256()
    for piece in _generated(size):
        digest.update(piece)
    storage.save(key, reader(_generated(size)), "video/mp4")
    item = MemoryItem(
        child_id=world.child.id,
        added_by_id=world.young_person.id,
        kind=ItemKind.VIDEO,
        status=factories.ItemStatus.KEPT,
        title="Long video",
        content_type="video/mp4",
        extension="mp4",
        size_bytes=size,
        sha256=digest.hexdigest(),
        storage_backend=storage.backend_name,
        storage_key=key,
        processing=Processing.READY,
    )
    db.session.add(item)
    db.session.commit()

    login_as(client, world.young_person)
    tracemalloc.start()
    try:
        export = _ask(client, world.child.id, "zip")
        response = client.get(f"/exports/{export.id}/download")
        assert response.status_code == 200
        seen = hashlib.sha256()
        total = 0
        for chunk in response.response:
            total += len(chunk)
        response.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert export.state is ExportState.READY
    assert total == export.size > size
    print(f"zip export of a 200 MB box: tracemalloc peak {peak / 1e6:.1f} MB")
    assert peak < 32 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    # And the video in it is the stored one, byte for byte (read back from the stored zip).
    with storage.open(export.storage_key) as handle, zipfile.ZipFile(handle) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".mp4")]
        with archive.open(name) as member:
            while piece := member.read(1024 * 1024):
                seen.update(piece)
    assert seen.hexdigest() == digest.hexdigest()


def test_expired_exports_are_deleted_and_lost_ones_rebuilt(app, client, world, monkeypatch):
    from datetime import timedelta

    from memorybox import clock
    from memorybox.exports.models import Export, ExportState
    from memorybox.jobs import tasks

    login_as(client, world.young_person)
    client.post(f"/children/{world.child.id}/exports", data={"kind": "json"})
    done = db.session.scalar(select(Export))
    key = done.storage_key
    assert done.state is ExportState.READY and app.extensions["memorybox.storage"].exists(key)
    lost = Export(
        child_id=world.child.id,
        requested_by_id=world.young_person.id,
        kind=done.kind,
        state=ExportState.WORKING,
        expires_at=clock.now() + timedelta(days=30),
    )
    db.session.add(lost)
    db.session.commit()
    later = clock.now() + timedelta(days=8)
    monkeypatch.setattr(clock, "now", lambda: later)
    tasks.tidy_exports.call_local()
    assert db.session.get(Export, done.id) is None
    assert not app.extensions["memorybox.storage"].exists(key)
    db.session.refresh(lost)
    assert lost.state is ExportState.READY


def test_zip_index_shows_no_picture_of_what_the_child_hid_but_keeps_the_file(
    app, client, world, box
):
    """Hidden until they're ready: the offline page names it and links to it (the child opens
    it when they choose), with no picture or caption; the file itself is in the ZIP. A story
    part they hid is named, not printed (its words are still in story.txt, theirs to open)."""
    from memorybox.memories import services as memories

    memories.choose(box["private"], memories.Gentle.HIDE)
    story.set_gentle(box["closed"], "hide_until_ready", True)
    db.session.commit()
    login_as(client, world.young_person)
    archive = zipfile.ZipFile(io.BytesIO(_download(client, _ask(client, world.child.id, "zip"))))
    index = archive.read("index.html").decode()
    assert "<main>" in index and "</main>" in index
    levels = [int(n) for n in re.findall(r"<h([1-6])", index)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    images = re.findall(r"<img [^>]*>", index)
    assert len(images) == 1 and 'alt=""' in images[0]  # the shared photo, named by its heading
    [hidden_path] = [n for n in archive.namelist() if "Secret-diary-photo" in n and ".jpg" in n]
    assert hidden_path not in images[0]
    assert f'href="{hidden_path}"' in index and "Hidden until you&#x27;re ready." in index
    assert "Nobody else sees this" not in index and "Something only I know." not in index
    assert "Hidden worries" in index
    assert "Something only I know." in archive.read("story.txt").decode()
    db.session.refresh(box["private"])
    original = b"".join(app.extensions["memorybox.storage"].iter_bytes(box["private"].storage_key))
    assert archive.read(hidden_path) == original
