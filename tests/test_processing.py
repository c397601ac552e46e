"""Uploads become safe, web-ready items: location removed, renditions made, state shown,
retried when storage blinks, and served with Range (local) or short-lived URLs (S3)."""

from __future__ import annotations

import io
import urllib.request
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from memorybox import clock
from memorybox.db import db
from memorybox.jobs import tasks
from memorybox.memories import processing
from memorybox.memories.models import MemoryItem, Processing, Rendition
from memorybox.storage import LocalStorage, StorageUnavailable
from tests import factories
from tests.factories import login_as
from tests.media import makers
from tests.media.conftest import assert_no_location


def _upload(client, child_id, content, name, title="A memory"):
    return client.post(
        f"/children/{child_id}/add",
        data={"file": (io.BytesIO(content), name), "title": title},
        content_type="multipart/form-data",
    )


def _only_item() -> MemoryItem:
    return db.session.scalar(select(MemoryItem))


def test_a_phone_photo_with_location_is_cleaned_and_its_date_kept(app, client, world, tmp_path):
    login_as(client, world.young_person)
    assert _upload(client, world.child.id, makers.camera_jpeg(), "IMG_1234.jpg").status_code == 302
    item = _only_item()
    assert item.processing is Processing.READY
    assert {r.name for r in item.renditions} == {"thumb", "large"}
    assert (
        item.taken_at is not None
        and item.memory_date == item.taken_at.astimezone(clock.LOCAL_ZONE).date()
    )
    for url in (
        f"/items/{item.id}/download",
        f"/items/{item.id}/file",
        f"/items/{item.id}/thumbnail",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        served = tmp_path / url.rsplit("/", 1)[1]
        served.write_bytes(response.data)
        assert_no_location(served)
    # every object the app stored is clean too, and the raw upload is gone
    root = tmp_path / "storage"
    stored = [p for p in root.rglob("*") if p.is_file()]
    assert len(stored) == 3
    for path in stored:
        assert_no_location(path)


def test_a_video_gets_a_web_copy_a_poster_and_plays_with_range_requests(app, client, world):
    login_as(client, world.young_person)
    assert _upload(client, world.child.id, factories.mp4_bytes(), "clip.mp4").status_code == 302
    item = _only_item()
    assert item.processing is Processing.READY, item.processing_error
    assert {r.name for r in item.renditions} == {"web", "poster", "thumb"}
    assert item.duration_seconds and 0.3 < item.duration_seconds < 1.0
    page = client.get(f"/items/{item.id}").data
    assert b"<video" in page and b"/poster" in page
    whole = client.get(f"/items/{item.id}/play")
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    part = client.get(f"/items/{item.id}/play", headers={"Range": "bytes=10-109"})
    assert part.status_code == 206
    assert part.data == whole.data[10:110]
    assert part.headers["Content-Range"] == f"bytes 10-109/{len(whole.data)}"
    tail = client.get(f"/items/{item.id}/play", headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.data == whole.data[-5:]
    beyond = client.get(
        f"/items/{item.id}/play", headers={"Range": f"bytes={len(whole.data) + 5}-"}
    )
    assert beyond.status_code == 416


def test_a_file_that_cannot_be_processed_says_so_and_keeps_nothing_risky(
    app, client, world, tmp_path
):
    login_as(client, world.young_person)
    fake_video = (
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x10free" + b"\0" * 8
    )
    response = _upload(client, world.child.id, fake_video, "clip.mp4", title="Broken clip")
    assert response.status_code == 302
    item = _only_item()
    assert item.processing is Processing.FAILED
    assert "damaged" in item.processing_error
    page = client.get(f"/items/{item.id}")
    assert page.status_code == 200 and b"damaged" in page.data
    for url in ("download", "file", "thumbnail", "play", "poster"):
        assert client.get(f"/items/{item.id}/{url}").status_code == 404
    assert client.get(f"/items/{item.id}/status").get_json() == {
        "state": "failed",
        "ready": False,
        "message": item.processing_error,
    }
    stored = [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]
    assert stored == [], "the unusable upload is not kept"


class BlinkingStorage(LocalStorage):
    """Storage that is unreachable for its first ``failures`` writes."""

    def __init__(self, root, failures: int) -> None:
        super().__init__(root)
        self.failures = failures

    def save(self, key, stream, content_type):  # type: ignore[no-untyped-def]
        if self.failures > 0:
            self.failures -= 1
            raise StorageUnavailable("blink")
        return super().save(key, stream, content_type)


def _waiting_item(app, world) -> MemoryItem:
    return factories.item(app, world.child, world.young_person, title="Blink", process=False)


def test_a_storage_blip_is_retried_with_backoff_and_then_succeeds(app, world, tmp_path):
    item = _waiting_item(app, world)
    storage = BlinkingStorage(tmp_path / "storage", failures=1)
    storage_root_items = app.extensions["memorybox.storage"]
    # the item's upload lives in the app's storage; copy it across
    with storage_root_items.open(item.storage_key) as handle:
        LocalStorage(tmp_path / "storage").save(item.storage_key, handle, "image/jpeg")
    with pytest.raises(processing.TryAgainLater) as raised:
        processing.process(item.id, storage, max_attempts=3)
    assert raised.value.attempt == 1
    db.session.refresh(item)
    assert item.processing is Processing.WAITING
    assert "keep trying" in item.processing_error
    assert item.renditions == []
    assert processing.process(item.id, storage, max_attempts=3) is Processing.READY
    assert tasks.BACKOFF_SECONDS[0] < tasks.BACKOFF_SECONDS[1]


def test_after_the_last_attempt_the_item_fails_with_a_reason(app, world, tmp_path):
    item = _waiting_item(app, world)
    storage = BlinkingStorage(tmp_path / "s", failures=99)
    with app.extensions["memorybox.storage"].open(item.storage_key) as handle:
        LocalStorage(tmp_path / "s").save(item.storage_key, handle, "image/jpeg")
    for _ in range(2):
        with pytest.raises(processing.TryAgainLater):
            processing.process(item.id, storage, max_attempts=3)
    assert processing.process(item.id, storage, max_attempts=3) is Processing.FAILED
    db.session.refresh(item)
    assert item.processing_error == processing.GAVE_UP_MESSAGE
    assert db.session.scalar(select(func.count()).select_from(Rendition)) == 0


def test_processing_twice_changes_nothing(app, world):
    item = factories.item(app, world.child, world.young_person)
    keys = sorted(r.storage_key for r in item.renditions)
    assert processing.process(item.id, app.extensions["memorybox.storage"]) is Processing.READY
    db.session.refresh(item)
    assert sorted(r.storage_key for r in item.renditions) == keys


def test_a_job_lost_with_its_worker_is_queued_again(app, world, monkeypatch):
    item = _waiting_item(app, world)
    item.processing = Processing.WORKING
    db.session.commit()
    later = clock.now() + timedelta(minutes=tasks.STALLED_AFTER_MINUTES + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert tasks.requeue_stalled.call_local() == 1
    db.session.refresh(item)
    assert item.processing is Processing.READY


def test_the_page_shows_progress_until_ready(app, client, world):
    item = _waiting_item(app, world)
    login_as(client, world.young_person)
    page = client.get(f"/items/{item.id}").data
    assert b"Getting your photo ready" in page and b"data-status-url" in page
    assert client.get(f"/items/{item.id}/file").status_code == 404
    assert client.get(f"/items/{item.id}/status").get_json()["ready"] is False
    processing.process(item.id, app.extensions["memorybox.storage"])
    assert client.get(f"/items/{item.id}/status").get_json() == {
        "state": "ready",
        "ready": True,
        "message": "",
    }


def test_reprocess_command_queues_unfinished_items(app, world):
    item = _waiting_item(app, world)
    result = app.test_cli_runner().invoke(args=["reprocess-media"])
    assert result.exit_code == 0 and "Queued 1 item" in result.output
    db.session.refresh(item)
    assert item.processing is Processing.READY


@pytest.fixture
def s3_app(app, s3_server):
    app.extensions["memorybox.storage"] = s3_server.storage()
    return app


def test_on_s3_media_is_served_through_urls_that_live_a_minute(s3_app, client, world):
    login_as(client, world.young_person)
    assert _upload(client, world.child.id, makers.camera_jpeg(), "IMG_9.jpg").status_code == 302
    item = _only_item()
    assert item.processing is Processing.READY and item.storage_backend == "s3"
    response = client.get(f"/items/{item.id}/download")
    assert response.status_code == 303
    url = response.location
    query = parse_qs(urlparse(url).query)
    assert int(query["X-Amz-Expires"][0]) <= 60
    assert "IMG_9" not in url
    with urllib.request.urlopen(url, timeout=10) as fetched:  # noqa: S310 - our test server
        body = fetched.read()
        assert fetched.headers["Cache-Control"] == "no-store"
        assert fetched.headers["Content-Disposition"].startswith("attachment;")
    assert body[:2] == b"\xff\xd8" and b"GPS" not in body[:65536]


def test_on_s3_a_refused_viewer_gets_no_url(s3_app, client, world):
    item = factories.item(s3_app, world.child, world.young_person)
    login_as(client, world.social_worker)
    for route in ("download", "file", "thumbnail"):
        response = client.get(f"/items/{item.id}/{route}")
        assert response.status_code == 404 and "Location" not in response.headers
