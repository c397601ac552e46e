"""The memory box: adding, sniffing, suggestions, editing, the bin."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from memorybox import clock
from memorybox.db import db
from memorybox.memories import services
from memorybox.memories.models import ItemKind, ItemStatus, MemoryItem, Processing
from memorybox.storage import LocalStorage, StorageUnavailable
from tests import factories
from tests.factories import login_as


def _upload(client, child_id, content, name="file.bin", title="A memory", **extra):
    data = {"file": (io.BytesIO(content), name), "title": title, "caption": "", "memory_date": ""}
    data.update(extra)
    return client.post(f"/children/{child_id}/add", data=data, content_type="multipart/form-data")


def _count_items() -> int:
    return db.session.scalar(select(func.count()).select_from(MemoryItem)) or 0


def _stored_files(app) -> list[Path]:
    root = Path(app.config["STORAGE_URL"].removeprefix("file://"))
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("maker", "name", "kind", "content_type"),
    [
        (factories.jpeg_bytes, "holiday.jpg", ItemKind.PHOTO, "image/jpeg"),
        (factories.png_bytes, "drawing.png", ItemKind.PHOTO, "image/png"),
        (factories.pdf_bytes, "report.pdf", ItemKind.DOCUMENT, "application/pdf"),
        (factories.wav_bytes, "voice.wav", ItemKind.AUDIO, "audio/wav"),
        (factories.mp4_bytes, "clip.mp4", ItemKind.VIDEO, "video/mp4"),
    ],
)
def test_young_person_adds_each_kind_and_it_is_kept(
    app, client, world, maker, name, kind, content_type
):
    login_as(client, world.young_person)
    content = maker()
    response = _upload(client, world.child.id, content, name, title="My thing", caption="hello")
    assert response.status_code == 302
    item = db.session.scalar(select(MemoryItem))
    assert item.kind is kind and item.content_type == content_type
    assert item.status is ItemStatus.KEPT
    assert item.processing is Processing.READY, item.processing_error
    assert item.original_name == name
    assert name not in item.storage_key
    downloaded = client.get(f"/items/{item.id}/download")
    assert downloaded.status_code == 200
    assert downloaded.headers["Content-Disposition"].startswith("attachment;")
    assert len(downloaded.data) == item.size_bytes > 0


def test_the_type_comes_from_the_bytes_not_the_browsers_claim(client, world):
    login_as(client, world.young_person)
    data = {
        "file": (io.BytesIO(factories.png_bytes()), "drawing", "image/jpeg"),
        "title": "Mislabelled",
    }
    response = client.post(
        f"/children/{world.child.id}/add", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    item = db.session.scalar(select(MemoryItem))
    assert item.content_type == "image/png" and item.extension == "png"


def test_a_name_that_disagrees_with_the_bytes_is_refused(client, world):
    login_as(client, world.young_person)
    response = _upload(client, world.child.id, factories.png_bytes(), "photo.jpg", title="Odd")
    assert response.status_code == 415
    assert b"its name says it is one kind of file" in response.data
    assert _count_items() == 0


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "hi")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            b"<html><script>alert(1)</script></html>",
            "photo.jpg",
            b"can&#39;t keep that kind of file",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "a.svg",
            b"can&#39;t keep that kind of file",
        ),
        (_zip_bytes(), "photos.zip", b"can&#39;t keep that kind of file"),
        (b"MZ\x90\x00" + b"\x00" * 200, "game.exe", b"can&#39;t keep that kind of file"),
        (b"", "empty.jpg", b"That file is empty"),
        (b"\xff\xd8\xff\xe0" + b"garbage" * 50, "broken.jpg", b"seems to be damaged"),
        (factories.jpeg_bytes()[:40], "truncated.jpg", b"seems to be damaged"),
    ],
    ids=["html-as-jpg", "svg", "zip", "exe", "empty", "fake-jpeg", "truncated-jpeg"],
)
def test_unsupported_or_broken_files_get_a_friendly_4xx_and_nothing_is_kept(
    app, client, world, content, name, message
):
    login_as(client, world.young_person)
    response = _upload(client, world.child.id, content, name, title="Keep my title")
    assert 400 <= response.status_code < 500
    assert message in response.data
    assert b'value="Keep my title"' in response.data, "what was typed is kept"
    assert _count_items() == 0
    assert _stored_files(app) == []


def test_a_missing_file_or_title_is_explained(client, world):
    login_as(client, world.young_person)
    response = client.post(
        f"/children/{world.child.id}/add", data={"title": ""}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert b"Please choose a file to add." in response.data
    assert b"Please give it a title." in response.data


@pytest.mark.app_config(MAX_CONTENT_LENGTH=200_000, MAX_UPLOAD_BYTES=150_000)
def test_a_file_too_large_gets_a_friendly_413(app, client, world):
    login_as(client, world.young_person)
    response = _upload(client, world.child.id, factories.jpeg_bytes() + b"\0" * 300_000, "big.jpg")
    assert response.status_code == 413
    assert b"That file is too big" in response.data
    json_response = client.post(
        f"/children/{world.child.id}/add",
        data={"file": (io.BytesIO(b"\0" * 300_000), "big.jpg"), "title": "x"},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert json_response.status_code == 413
    assert json_response.get_json()["error"] == "That file is too big"
    assert _count_items() == 0


@pytest.mark.app_config(MAX_CONTENT_LENGTH=2_000_000, MAX_UPLOAD_BYTES=100_000)
def test_a_file_over_the_per_file_limit_is_refused_while_streaming(app, client, world):
    login_as(client, world.young_person)
    content = factories.jpeg_bytes() + b"\0" * 200_000
    response = _upload(client, world.child.id, content, "big.jpg")
    assert response.status_code == 413
    assert _count_items() == 0
    assert _stored_files(app) == []


def test_json_clients_get_json_errors_and_a_redirect_on_success(client, world):
    login_as(client, world.young_person)
    bad = client.post(
        f"/children/{world.child.id}/add",
        data={"file": (io.BytesIO(b"not a photo"), "a.jpg"), "title": "x"},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 415 and "can't keep" in bad.get_json()["error"]
    good = client.post(
        f"/children/{world.child.id}/add",
        data={"file": (io.BytesIO(factories.jpeg_bytes()), "a.jpg"), "title": "x"},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert good.status_code == 201
    assert good.get_json()["redirect"].startswith("/items/")


class RecordingStorage(LocalStorage):
    """Local storage that notes the largest single read it made from the upload."""

    largest_read = 0

    def save(self, key, stream, content_type):  # type: ignore[no-untyped-def]
        original = stream.read

        def read(size=-1):  # type: ignore[no-untyped-def]
            assert size is not None and size > 0, "uploads are read in chunks, never whole"
            chunk = original(size)
            RecordingStorage.largest_read = max(RecordingStorage.largest_read, len(chunk))
            return chunk

        stream.read = read  # type: ignore[method-assign]
        return super().save(key, stream, content_type)


def test_uploads_stream_to_storage_in_chunks(app, client, world, tmp_path):
    app.extensions["memorybox.storage"] = RecordingStorage(tmp_path / "rec")
    login_as(client, world.young_person)
    content = factories.jpeg_bytes() + b"\0" * (5 * 1024 * 1024)
    assert _upload(client, world.child.id, content, "big.jpg").status_code == 302
    assert 0 < RecordingStorage.largest_read <= 1024 * 1024


class BrokenStorage(LocalStorage):
    def save(self, key, stream, content_type):  # type: ignore[no-untyped-def]
        raise StorageUnavailable("disk on fire")


def test_a_storage_outage_says_try_again_and_saves_nothing(app, client, world, tmp_path):
    app.extensions["memorybox.storage"] = BrokenStorage(tmp_path / "broken")
    login_as(client, world.young_person)
    response = _upload(client, world.child.id, factories.jpeg_bytes(), "a.jpg", title="Keep me")
    assert response.status_code == 503
    assert b"try again" in response.data
    assert b'value="Keep me"' in response.data
    assert _count_items() == 0


def test_a_carers_item_waits_in_suggested_until_the_child_keeps_it(app, client, world):
    login_as(client, world.carer)
    response = _upload(
        client, world.child.id, factories.jpeg_bytes(), "sports-day.jpg", title="Sports day"
    )
    assert response.status_code == 302
    item = db.session.scalar(select(MemoryItem))
    assert item.status is ItemStatus.SUGGESTED and item.added_by_id == world.carer.id

    child_browser = app.test_client()
    login_as(child_browser, world.young_person)
    assert b"Sports day" not in child_browser.get(f"/children/{world.child.id}/box").data
    suggested = child_browser.get(f"/children/{world.child.id}/suggested")
    assert b"Sports day" in suggested.data and b"Keep it" in suggested.data
    assert child_browser.post(f"/items/{item.id}/keep").status_code == 302
    assert b"Sports day" in child_browser.get(f"/children/{world.child.id}/box").data
    assert b"Sports day" not in child_browser.get(f"/children/{world.child.id}/suggested").data
    # the carer sees that it was kept
    assert b"kept in Alex" in client.get("/carer").data


def test_a_declined_item_leaves_the_box_and_the_carer_is_told(app, client, world):
    it = factories.item(
        app, world.child, world.carer, title="Old school", status=ItemStatus.SUGGESTED
    )
    login_as(client, world.young_person)
    assert client.post(f"/items/{it.id}/decline").status_code == 302
    link = f'href="/items/{it.id}"'.encode()
    assert link not in client.get(f"/children/{world.child.id}/box").data
    assert link not in client.get(f"/children/{world.child.id}/suggested").data
    # deciding twice is not possible
    assert client.post(f"/items/{it.id}/keep").status_code == 404
    carer = app.test_client()
    login_as(carer, world.carer)
    assert b"chose not to keep it" in carer.get("/carer").data


def test_gallery_is_newest_first_and_timeline_is_grouped_by_year(app, client, world):
    factories.item(
        app, world.child, world.young_person, title="Baby photo", memory_date=date(2014, 6, 1)
    )
    factories.item(
        app, world.child, world.young_person, title="New bike", memory_date=date(2023, 8, 9)
    )
    factories.item(
        app, world.child, world.young_person, title="First tooth", memory_date=date(2014, 2, 1)
    )
    login_as(client, world.young_person)
    gallery = client.get(f"/children/{world.child.id}/box").data.decode()
    assert gallery.index("New bike") < gallery.index("Baby photo") < gallery.index("First tooth")
    page = client.get(f"/children/{world.child.id}/timeline").data.decode()
    jump, timeline = page.split('id="timeline"')
    assert jump.index(">2014<") < jump.index(">2023<"), "jump to a year, oldest first"
    assert timeline.index("2014") < timeline.index("First tooth") < timeline.index("Baby photo")
    assert timeline.index("Baby photo") < timeline.index("2023") < timeline.index("New bike")


def test_the_child_edits_the_words_and_date(app, client, world):
    it = factories.item(app, world.child, world.young_person, title="Beach")
    login_as(client, world.young_person)
    response = client.post(
        f"/items/{it.id}/edit",
        data={"title": "Beach with Nan", "caption": "We had chips", "memory_date": "2019-07-20"},
    )
    assert response.status_code == 302
    page = client.get(f"/items/{it.id}").data
    assert b"Beach with Nan" in page and b"We had chips" in page and b"20 July 2019" in page


def test_a_too_long_caption_is_refused_kindly_and_kept_in_the_form(app, client, world):
    it = factories.item(app, world.child, world.young_person, title="Beach")
    login_as(client, world.young_person)
    long_caption = "x" * (services.CAPTION_MAX + 1)
    response = client.post(f"/items/{it.id}/edit", data={"title": "Beach", "caption": long_caption})
    assert response.status_code == 400
    assert b"Please keep this under" in response.data
    assert long_caption.encode() in response.data


def test_a_bad_date_is_explained_not_a_500(app, client, world):
    it = factories.item(app, world.child, world.young_person, title="Beach")
    login_as(client, world.young_person)
    response = client.post(
        f"/items/{it.id}/edit", data={"title": "Beach", "memory_date": "31/02/2020"}
    )
    assert response.status_code == 400


def test_deleted_items_go_to_the_bin_and_can_come_back(app, client, world):
    it = factories.item(app, world.child, world.young_person, title="Nan's letter")
    login_as(client, world.young_person)
    assert client.post(f"/items/{it.id}/delete").status_code == 302
    assert (
        f'href="/items/{it.id}"'.encode() not in client.get(f"/children/{world.child.id}/box").data
    )
    bin_page = client.get(f"/children/{world.child.id}/bin").data
    assert b"Nan&#39;s letter" in bin_page and b"Put it back" in bin_page
    assert client.post(f"/items/{it.id}/restore").status_code == 302
    assert f'href="/items/{it.id}"'.encode() in client.get(f"/children/{world.child.id}/box").data


def test_after_30_days_in_the_bin_an_item_cannot_be_restored_and_is_purged(
    app, client, world, monkeypatch
):
    it = factories.item(app, world.child, world.young_person, title="Old")
    key = it.storage_key
    storage = app.extensions["memorybox.storage"]
    login_as(client, world.young_person)
    client.post(f"/items/{it.id}/delete")
    later = clock.now() + timedelta(days=31)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert client.post(f"/items/{it.id}/restore").status_code == 404
    from memorybox.jobs.tasks import purge_expired_bin

    assert purge_expired_bin.call_local() == 1
    assert _count_items() == 0
    assert not storage.exists(key)


def test_the_bin_purge_keeps_items_younger_than_30_days(app, world, monkeypatch):
    it = factories.item(app, world.child, world.young_person, title="Recent")
    services.move_to_bin(it)
    later = clock.now() + timedelta(days=29)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert services.purge_expired_bin(app.extensions["memorybox.storage"]) == 0
    assert _count_items() == 1


def test_delete_for_ever_from_the_bin(app, client, world):
    it = factories.item(app, world.child, world.young_person, title="Gone")
    key = it.storage_key
    login_as(client, world.young_person)
    assert client.post(f"/items/{it.id}/purge").status_code == 404, "only from the bin"
    client.post(f"/items/{it.id}/delete")
    assert client.post(f"/items/{it.id}/purge").status_code == 302
    assert _count_items() == 0
    assert not app.extensions["memorybox.storage"].exists(key)


def test_files_are_served_safely(app, client, world):
    it = factories.item(app, world.child, world.young_person, title="Beach / <b>day</b>")
    login_as(client, world.young_person)
    inline = client.get(f"/items/{it.id}/file")
    assert inline.headers["Content-Disposition"].startswith("inline;")
    download = client.get(f"/items/{it.id}/download")
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "IMG_0001" not in disposition, "the uploaded file name is never sent in a header"
    assert '"Beach--bday.jpg"' in disposition or "Beach" in disposition
    for response in (inline, download):
        assert response.headers["Cache-Control"].startswith("no-store")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert inline.mimetype == "image/webp", "pages show the web copy"
    assert download.mimetype == "image/jpeg", "downloads are the original"


def test_documents_are_always_downloads(app, client, world):
    login_as(client, world.young_person)
    _upload(client, world.child.id, factories.pdf_bytes(), "report.pdf", title="Report")
    item = db.session.scalar(select(MemoryItem))
    response = client.get(f"/items/{item.id}/download")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "application/pdf"
    preview = client.get(f"/items/{item.id}/preview")
    assert preview.status_code == 200 and preview.mimetype == "image/webp"


def test_a_missing_stored_file_is_a_friendly_error(app, client, world):
    it = factories.item(app, world.child, world.young_person)
    app.extensions["memorybox.storage"].delete(it.storage_key)
    login_as(client, world.young_person)
    response = client.get(f"/items/{it.id}/download")
    assert response.status_code == 503
    assert b"try again" in response.data


def test_a_real_browser_style_upload_over_http_works(app, world, tmp_path):
    """Through a real HTTP server, as a browser without scripts sends it (multipart with a
    file name), a photo of a few megabytes is accepted: the form limits must not refuse it."""
    import os
    import threading

    import requests
    from PIL import Image
    from werkzeug.serving import make_server

    photo = io.BytesIO()
    Image.frombytes("RGB", (1600, 1200), os.urandom(1600 * 1200 * 3)).save(photo, "JPEG")
    assert len(photo.getvalue()) > 1_000_000
    email, child_id = world.young_person.email, world.child.id
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        browser = requests.Session()
        signed_in = browser.post(
            f"{base}/login",
            data={"email": email, "password": factories.PASSWORD},
            allow_redirects=False,
            timeout=30,
        )
        assert signed_in.status_code == 302
        response = browser.post(
            f"{base}/children/{child_id}/add",
            files={"file": ("photo.jpg", photo.getvalue(), "image/jpeg")},
            data={"title": "Big photo"},
            allow_redirects=False,
            timeout=60,
        )
        assert response.status_code == 302, response.text[:500]
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
