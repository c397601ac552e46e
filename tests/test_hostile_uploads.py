"""Hostile files through the whole app: each gets a clear 4xx message or a "could not
process" state. Never a 5xx, never a hung job, never a local file's contents in any output."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select

from memorybox.db import db
from memorybox.memories.models import MemoryItem, Processing
from tests import factories
from tests.factories import login_as
from tests.media import makers


def _mp4_header_only() -> bytes:
    return b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x10free" + b"\0" * 8


def _jpeg_zip_polyglot() -> bytes:
    return factories.jpeg_bytes() + makers.zip_bytes()


HOSTILE = {
    "decompression-bomb-png": (lambda canary: makers.png_bomb(), "bomb.png"),
    "absurd-dimensions-jpeg": (lambda canary: makers.jpeg_with_size(60_000, 60_000), "huge.jpg"),
    "corrupt-jpeg": (lambda canary: makers.corrupt_jpeg(), "broken.jpg"),
    "corrupt-png": (lambda canary: makers.corrupt_png(), "broken.png"),
    "truncated-jpeg": (lambda canary: factories.jpeg_bytes(400, 300)[:300], "cut.jpg"),
    "zero-bytes": (lambda canary: b"", "empty.jpg"),
    "jpeg-zip-polyglot": (lambda canary: _jpeg_zip_polyglot(), "poly.jpg"),
    "html-named-jpg": (lambda canary: b"<html><body onload=alert(1)></body></html>", "x.jpg"),
    "svg": (lambda canary: b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "x.svg"),
    "zip": (lambda canary: makers.zip_bytes(), "photos.zip"),
    "avi-with-hls-playlist": (lambda canary: makers.avi_with_hls_playlist(canary), "clip.avi"),
    "hls-playlist-as-mp3": (lambda canary: makers.hls_playlist(canary), "song.mp3"),
    "mp4-header-only": (lambda canary: _mp4_header_only(), "clip.mp4"),
    "encrypted-pdf": (lambda canary: makers.encrypted_pdf(False), "locked.pdf"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_upload_gets_a_clear_answer(app, client, world, tmp_path: Path, name: str):
    canary_text = "CANARY-" + secrets.token_hex(8)
    canary = tmp_path / "canary.txt"
    canary.write_text(canary_text)
    make, filename = HOSTILE[name]
    login_as(client, world.young_person)
    response = client.post(
        f"/children/{world.child.id}/add",
        data={"file": (io.BytesIO(make(canary)), filename), "title": "Test"},
        content_type="multipart/form-data",
    )
    assert response.status_code < 500
    outputs = [response.data]
    if 400 <= response.status_code < 500:
        assert b"field__error" in response.data, "a message people can read"
    else:
        assert response.status_code == 302
        item = db.session.scalar(select(MemoryItem))
        assert item.processing is Processing.FAILED, "bad input never becomes ready"
        assert item.processing_error
        for url in (
            "",
            "/status",
            "/file",
            "/download",
            "/thumbnail",
            "/play",
            "/poster",
            "/preview",
        ):
            page = client.get(f"/items/{item.id}{url}")
            assert page.status_code < 500, url
            outputs.append(page.data)
    for stored in (tmp_path / "storage").rglob("*"):
        if stored.is_file():
            outputs.append(stored.read_bytes())
    assert all(canary_text.encode() not in output for output in outputs)
