"""Upload bodies read straight off gunicorn's socket reader (memorybox/web/request_body.py),
checked against gunicorn's own request parser on a real socket: every byte of the body in
order, nothing past it, and a request pipelined behind it still parsed."""

from __future__ import annotations

import io
import os
import socket
import threading

import pytest
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser
from werkzeug.exceptions import ClientDisconnected

from memorybox.web.request_body import GunicornBody, UploadBody


def _requests(raw: bytes) -> tuple[RequestParser, socket.socket]:
    """gunicorn's parser on one end of a socket pair; ``raw`` written to the other."""
    server, client = socket.socketpair()
    threading.Thread(target=client.sendall, args=(raw,), daemon=True).start()
    return RequestParser(Config(), server, ("127.0.0.1", 9)), client


@pytest.mark.parametrize("read_size", [1000, 65536, 3 * 1024 * 1024])
def test_the_body_is_read_whole_and_the_next_request_is_left_alone(read_size):
    body = os.urandom(2 * 1024 * 1024 + 11)
    first = b"PATCH /uploads/x HTTP/1.1\r\nHost: app\r\nContent-Length: %d\r\n\r\n" % len(body)
    second = b"HEAD /uploads/next HTTP/1.1\r\nHost: app\r\n\r\n"
    parser, client = _requests(first + body + second)
    with client:
        request = next(parser)
        fast = GunicornBody.of(request.body)
        assert fast is not None
        received = bytearray()
        while chunk := fast.read(read_size):
            assert len(chunk) <= read_size
            received += chunk
        assert bytes(received) == body
        following = next(parser)
        assert (following.method, following.path) == ("HEAD", "/uploads/next")


def test_a_body_cut_short_ends_early_and_a_broken_connection_is_a_disconnect():
    parser, client = _requests(b"PATCH /u HTTP/1.1\r\nHost: app\r\nContent-Length: 5000\r\n\r\n")
    request = next(parser)
    environ = {"wsgi.input_terminated": True}
    body = UploadBody(environ, request.body, guarded=None)
    client.sendall(b"x" * 1000)
    client.close()  # the phone lost its signal
    assert body.read(4096) == b"x" * 1000
    assert body.read(4096) == b""  # storage then calls the part incomplete

    class Reset(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise ConnectionResetError("reset by peer")

    with pytest.raises(ClientDisconnected):
        UploadBody({}, None, guarded=Reset()).read(10)


def test_other_servers_bodies_are_read_through_their_own_streams():
    """Werkzeug's server (tests, `flask run`) sets no ``wsgi.input_terminated``: its guarded
    stream is used; a terminated stream that is not gunicorn's is read as it is."""
    guarded, raw = io.BytesIO(b"guarded"), io.BytesIO(b"raw")
    assert UploadBody({}, raw, guarded).read(100) == b"guarded"
    assert UploadBody({"wsgi.input_terminated": True}, raw, guarded).read(100) == b"raw"
    assert GunicornBody.of(raw) is None
