"""Resumable uploads on S3 over real HTTP: the app served by a real server, SeaweedFS behind
a relay that can change a byte of a part on its way. Parts are streamed through as they
arrive; what is assembled must be the file, byte for byte, after a dropped PATCH and after
a part that arrived changed."""

from __future__ import annotations

import hashlib
import io
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import requests
from werkzeug.serving import make_server

from memorybox.db import db
from memorybox.memories.models import UploadSession
from memorybox.storage import MIN_PART_SIZE
from tests import factories
from tests.factories import login_as
from tests.test_storage_streaming import PartRelay

if TYPE_CHECKING:
    from flask import Flask

    from memorybox.storage.s3 import S3Storage
    from tests.seaweed import SeaweedS3

MiB = 1024 * 1024
PART = 6 * MiB  # what this test's client sends per PATCH (the browser sends 8 MiB)
TUS = {"Tus-Resumable": "1.0.0"}


@dataclass
class Served:
    base: str
    http: requests.Session
    child_id: int
    storage: S3Storage
    relay: PartRelay
    cookie: str


@pytest.fixture
def served(app: Flask, world: factories.World, s3_server: SeaweedS3) -> Iterator[Served]:
    """The app on a real threaded HTTP server, on S3 through a relay, with the young
    person signed in through the login form."""
    relay = PartRelay(int(s3_server.endpoint.rsplit(":", 1)[1]))
    storage = s3_server.storage(endpoint_url=relay.endpoint)
    assert storage.part_check() == "crc32"  # probed now, so the relay counts parts only
    relay.part_requests = relay.part_bytes = 0
    app.extensions["memorybox.storage"] = storage
    email, child_id = world.young_person.email, world.child.id
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    http = requests.Session()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        signed_in = http.post(
            f"{base}/login",
            data={"email": email, "password": factories.PASSWORD},
            allow_redirects=False,
            timeout=30,
        )
        assert signed_in.status_code == 302
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        yield Served(base, http, child_id, storage, relay, cookie)
    finally:
        http.close()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        relay.close()


def _content(size: int) -> bytes:
    block = hashlib.sha256(b"memory box").digest() * (MiB // 32)
    data = bytearray((block * (size // MiB + 1))[:size])
    for at in range(0, size, 4093):  # no two megabytes alike
        data[at] = (at // 4093) % 251
    return bytes(data)


def _start(served: Served, length: int) -> str:
    created = served.http.post(
        f"{served.base}/children/{served.child_id}/uploads",
        headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": "filename YS5tcDQ="},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return served.base + created.headers["Location"]


def _patch(served: Served, url: str, offset: int, data: bytes) -> requests.Response:
    return served.http.patch(
        url,
        data=io.BytesIO(data),
        headers={
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(len(data)),
        },
        timeout=60,
    )


def _offset(served: Served, url: str) -> int:
    head = served.http.head(url, headers=TUS, timeout=30)
    assert head.status_code == 200
    return int(head.headers["Upload-Offset"])


def _send_rest(served: Served, url: str, content: bytes) -> None:
    offset = _offset(served, url)
    while offset < len(content):
        sent = _patch(served, url, offset, content[offset : offset + PART])
        assert sent.status_code == 204, sent.text
        offset = int(sent.headers["Upload-Offset"])


def _stored_sha256(served: Served, url: str) -> str:
    session = db.session.get(UploadSession, url.rsplit("/", 1)[1])
    assert session is not None and session.complete
    digest = hashlib.sha256()
    for chunk in served.storage.iter_bytes(session.storage_key, chunk_size=MiB):
        digest.update(chunk)
    return digest.hexdigest()


def _drop_mid_part(served: Served, url: str, offset: int, data: bytes, sent: int) -> bytes:
    """A PATCH declaring all of ``data`` whose connection closes after ``sent`` bytes (its
    sending side; the answer is read, so the app has finished with it)."""
    path = url.removeprefix(served.base)
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: {served.base.removeprefix('http://')}\r\n"
        f"Cookie: {served.cookie}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n"
        "Content-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    host, port = served.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head.encode() + data[:sent])
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_file_streamed_in_parts_lands_byte_for_byte(served):
    content = _content(2 * PART + 12345)
    url = _start(served, len(content))
    _send_rest(served, url, content)
    assert served.relay.part_requests == 3
    assert _stored_sha256(served, url) == hashlib.sha256(content).hexdigest()


def test_a_patch_dropped_mid_part_moves_nothing_and_the_upload_resumes(served):
    content = _content(2 * PART + 999)
    url = _start(served, len(content))
    assert _patch(served, url, 0, content[:PART]).status_code == 204
    answer = _drop_mid_part(served, url, PART, content[PART : 2 * PART], sent=2 * MiB + 3)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"connection dropped" in answer
    # part 2 was on its way to S3 when it broke off (the relay may still be passing it on)
    assert served.relay.wait_for_part_bytes(PART + 1, timeout=10)
    assert _offset(served, url) == PART
    _send_rest(served, url, content)
    assert _stored_sha256(served, url) == hashlib.sha256(content).hexdigest()


def test_a_part_changed_on_the_way_to_storage_is_refused_and_sent_again(served):
    """The relay flips a byte of the second part on its way to S3: the app answers 409 (the
    tus client retries), the offset stays, and the file assembled after the retry is exact."""
    content = _content(2 * PART + 4321)
    url = _start(served, len(content))
    assert _patch(served, url, 0, content[:PART]).status_code == 204
    served.relay.corrupt = 1
    refused = _patch(served, url, PART, content[PART : 2 * PART])
    assert refused.status_code == 409
    assert "did not arrive intact" in refused.text
    assert served.relay.corrupt == 0
    assert _offset(served, url) == PART
    _send_rest(served, url, content)
    assert _stored_sha256(served, url) == hashlib.sha256(content).hexdigest()


def test_a_server_that_ends_the_body_itself_is_read_directly(app, client, world):
    """With ``wsgi.input_terminated`` (gunicorn) the body is read without Werkzeug's guard;
    a body shorter than declared is still a dropped part that moves nothing."""
    login_as(client, world.young_person)
    content = factories.jpeg_bytes(64, 48) + bytes(MIN_PART_SIZE + 10)
    created = client.post(
        f"/children/{world.child.id}/uploads",
        headers={**TUS, "Upload-Length": str(len(content))},
    )
    location = created.headers["Location"]
    terminated = {"wsgi.input_terminated": True}

    def patch(offset: int, data: bytes, declared: int) -> object:
        return client.patch(
            location,
            input_stream=io.BytesIO(data),
            environ_overrides=terminated,
            headers={
                **TUS,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(declared),
            },
        )

    dropped = patch(0, content[: MIN_PART_SIZE // 2], MIN_PART_SIZE)
    assert dropped.status_code == 400  # type: ignore[attr-defined]
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == "0"
    first = patch(0, content[:MIN_PART_SIZE], MIN_PART_SIZE)
    assert first.status_code == 204  # type: ignore[attr-defined]
    rest = content[MIN_PART_SIZE:]
    last = patch(MIN_PART_SIZE, rest, len(rest))
    assert last.headers["Upload-Offset"] == str(len(content))  # type: ignore[attr-defined]
    response = client.post(
        f"/children/{world.child.id}/add",
        data={"upload": location.rsplit("/", 1)[1], "title": "Read directly"},
    )
    assert response.status_code == 302


def test_a_part_for_an_upload_storage_no_longer_has_is_a_409_not_a_500(app, client, world):
    """Finished or stopped behind this request's back (another copy of it, a clean-up)."""
    login_as(client, world.young_person)
    content = bytes(MIN_PART_SIZE + 100)
    created = client.post(
        f"/children/{world.child.id}/uploads",
        headers={**TUS, "Upload-Length": str(len(content))},
    )
    location = created.headers["Location"]
    session = db.session.get(UploadSession, location.rsplit("/", 1)[1])
    assert session is not None
    app.extensions["memorybox.storage"].abort_upload(session.storage_key, session.storage_upload_id)
    response = client.patch(
        location,
        input_stream=io.BytesIO(content[:MIN_PART_SIZE]),
        headers={
            **TUS,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(MIN_PART_SIZE),
        },
    )
    assert response.status_code == 409
    assert client.head(location, headers=TUS).headers["Upload-Offset"] == "0"


def _stored_parts(served: Served, url: str) -> list[tuple[int, int]]:
    session = db.session.get(UploadSession, url.rsplit("/", 1)[1])
    assert session is not None
    return served.storage.uploaded_parts(session.storage_key, session.storage_upload_id)


def test_a_big_patch_is_stored_as_8_mib_parts(served):
    """The browser sends 64 MiB per PATCH; each is stored as 8 MiB parts as it arrives, a
    remainder under 5 MiB joining the part before (S3's least for any but the last)."""
    content = _content(30 * MiB)
    url = _start(served, len(content))
    first = _patch(served, url, 0, content[: 20 * MiB])
    assert first.status_code == 204, first.text
    assert first.headers["Upload-Offset"] == str(20 * MiB)
    assert _stored_parts(served, url) == [(1, 8 * MiB), (2, 12 * MiB)]
    rest = _patch(served, url, 20 * MiB, content[20 * MiB :])
    assert rest.status_code == 204 and rest.headers["Upload-Offset"] == str(len(content))
    assert served.relay.part_requests == 4  # 8 + 12, then 8 + 2 (the end of the file)
    assert _stored_sha256(served, url) == hashlib.sha256(content).hexdigest()


def test_a_patch_that_drops_part_way_keeps_the_parts_it_had_stored(served):
    """A phone losing signal halfway through a PATCH loses at most the part in flight."""
    content = _content(20 * MiB + 77)
    url = _start(served, len(content))
    answer = _drop_mid_part(served, url, 0, content, sent=11 * MiB)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert _offset(served, url) == 8 * MiB
    _send_rest(served, url, content)
    assert _stored_sha256(served, url) == hashlib.sha256(content).hexdigest()
