"""Resumable uploads (tus 1.0): parts go straight to storage, a dropped part stores nothing,
and the upload carries on from the last whole part."""

from __future__ import annotations

import base64
import io

import pytest
from sqlalchemy import func, select

from memorybox.db import db
from memorybox.memories.models import MemoryItem, Processing, UploadSession
from memorybox.storage import MIN_PART_SIZE, StorageUnavailable
from tests import factories
from tests.factories import login_as

TUS = {"Tus-Resumable": "1.0.0"}


def _start(client, child_id, length, filename="holiday.jpg"):
    meta = "filename " + base64.b64encode(filename.encode()).decode()
    return client.post(
        f"/children/{child_id}/uploads",
        headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": meta},
    )


def _patch(client, location, offset, data, declared=None):
    return client.patch(
        location,
        input_stream=io.BytesIO(data),
        headers={
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(declared if declared is not None else len(data)),
        },
    )


def _big_photo() -> bytes:
    """A real JPEG padded past one part, so the upload needs two parts."""
    return factories.jpeg_bytes(64, 48) + bytes(MIN_PART_SIZE + 12345)


def _add_from(client, child_id, location, title="From parts"):
    return client.post(
        f"/children/{child_id}/add",
        data={"upload": location.rsplit("/", 1)[1], "title": title},
    )


def _send_all(client, child_id, content, filename="holiday.jpg"):
    created = _start(client, child_id, len(content), filename)
    assert created.status_code == 201
    location = created.headers["Location"]
    offset = 0
    while offset < len(content):
        part = content[offset : offset + MIN_PART_SIZE]
        response = _patch(client, location, offset, part)
        assert response.status_code == 204, response.data
        offset = int(response.headers["Upload-Offset"])
    return location


def test_a_big_file_goes_up_in_parts_and_becomes_an_item(app, client, world):
    login_as(client, world.young_person)
    content = _big_photo()
    location = _send_all(client, world.child.id, content)
    head = client.head(location, headers=TUS)
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(content))
    response = _add_from(client, world.child.id, location)
    assert response.status_code == 302
    item = db.session.scalar(select(MemoryItem))
    assert item.title == "From parts" and item.original_name == "holiday.jpg"
    assert item.processing is Processing.READY, item.processing_error
    # the same upload cannot make a second item
    again = _add_from(client, world.child.id, location)
    assert again.status_code == 400 and b"We lost track of that file" in again.data
    assert db.session.scalar(select(func.count()).select_from(MemoryItem)) == 1


def test_a_dropped_part_stores_nothing_and_the_upload_carries_on(app, client, world):
    login_as(client, world.young_person)
    content = _big_photo()
    location = _start(client, world.child.id, len(content)).headers["Location"]
    first = content[:MIN_PART_SIZE]
    dropped = _patch(client, location, 0, first[: MIN_PART_SIZE // 2], declared=MIN_PART_SIZE)
    assert dropped.status_code == 400
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == "0"
    assert _patch(client, location, 0, first).status_code == 204
    # a part sent again for an old offset is refused, not stored twice
    assert _patch(client, location, 0, first).status_code == 409
    rest = _patch(client, location, MIN_PART_SIZE, content[MIN_PART_SIZE:])
    assert rest.status_code == 204
    assert _add_from(client, world.child.id, location).status_code == 302


def test_parts_too_small_are_refused_except_the_last(client, world):
    login_as(client, world.young_person)
    location = _start(client, world.child.id, MIN_PART_SIZE * 2).headers["Location"]
    response = _patch(client, location, 0, b"x" * 1000)
    assert response.status_code == 400 and b"5 MB" in response.data


@pytest.mark.app_config(MAX_RESUMABLE_BYTES=10 * 1024 * 1024)
def test_a_file_over_the_limit_is_refused_before_anything_is_sent(client, world):
    login_as(client, world.young_person)
    response = _start(client, world.child.id, 11 * 1024 * 1024)
    assert response.status_code == 413
    assert db.session.scalar(select(func.count()).select_from(UploadSession)) == 0


def test_someone_elses_upload_is_not_there(app, client, world):
    login_as(client, world.young_person)
    location = _start(client, world.child.id, 100).headers["Location"]
    other = app.test_client()
    login_as(other, world.other_young_person)
    assert other.head(location, headers=TUS).status_code == 404
    assert _patch(other, location, 0, b"x" * 100).status_code == 404
    assert other.delete(location, headers=TUS).status_code == 404
    assert client.head(location, headers=TUS).status_code == 200


def test_an_upload_stops_when_the_placement_ends(app, world):
    carer = app.test_client()
    login_as(carer, world.carer)
    location = _start(carer, world.child.id, 100).headers["Location"]
    from memorybox.children import services as children

    for placement in children.placements_of(world.child):
        if placement.carer_id == world.carer.id and placement.is_active:
            children.end_now(placement)
    assert carer.head(location, headers=TUS).status_code == 404


def test_a_disguised_file_sent_in_parts_is_refused_and_removed(app, client, world, tmp_path):
    login_as(client, world.young_person)
    content = b"<html><script>alert(1)</script></html>"
    location = _send_all(client, world.child.id, content, "photo.jpg")
    response = _add_from(client, world.child.id, location)
    assert response.status_code == 415
    assert db.session.scalar(select(func.count()).select_from(MemoryItem)) == 0
    stored = [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]
    assert stored == []


def test_cancelling_removes_the_parts(app, client, world, tmp_path):
    login_as(client, world.young_person)
    content = _big_photo()
    location = _start(client, world.child.id, len(content)).headers["Location"]
    _patch(client, location, 0, content[:MIN_PART_SIZE])
    assert client.delete(location, headers=TUS).status_code == 204
    assert client.head(location, headers=TUS).status_code == 404
    stored = [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]
    assert stored == []


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_parts_need_the_csrf_token_in_a_header(client, world):
    login_as(client, world.young_person)
    assert _start(client, world.child.id, 100).status_code == 400
    page = client.get(f"/children/{world.child.id}/add").data.decode()
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    created = client.post(
        f"/children/{world.child.id}/uploads",
        headers={**TUS, "Upload-Length": "100", "X-CSRFToken": token},
    )
    assert created.status_code == 201


def test_on_s3_parts_become_a_multipart_upload(app, client, world, s3_server):
    app.extensions["memorybox.storage"] = s3_server.storage()
    login_as(client, world.young_person)
    location = _send_all(client, world.child.id, _big_photo())
    assert _add_from(client, world.child.id, location).status_code == 302
    item = db.session.scalar(select(MemoryItem))
    assert item.storage_backend == "s3" and item.processing is Processing.READY


def test_a_file_that_cannot_be_joined_keeps_its_last_part_to_send_again(
    app, client, world, monkeypatch
):
    """Every part stored but storage failing to join them: the answer is 503 and the offset
    stops before the last part, so the client sends it again and joining is tried again
    (an offset at the end would look finished while nothing was joined)."""
    login_as(client, world.young_person)
    content = factories.jpeg_bytes(64, 48) + bytes(20 * 1024 * 1024)
    location = _start(client, world.child.id, len(content)).headers["Location"]
    storage = app.extensions["memorybox.storage"]
    joined = storage.complete_upload

    def outage(*args):
        raise StorageUnavailable("storage is down")

    monkeypatch.setattr(storage, "complete_upload", outage)
    failed = _patch(client, location, 0, content)  # one PATCH: parts of 8, 8 and the rest
    assert failed.status_code == 503
    offset = int(client.head(location, headers=TUS).headers["Upload-Offset"])
    assert offset == 16 * 1024 * 1024
    monkeypatch.setattr(storage, "complete_upload", joined)
    rest = _patch(client, location, offset, content[offset:])
    assert rest.status_code == 204 and rest.headers["Upload-Offset"] == str(len(content))
    assert _add_from(client, world.child.id, location).status_code == 302
