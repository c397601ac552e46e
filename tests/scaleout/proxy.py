"""A small TCP proxy the tests put between the app and a service they must not stop for
real (the machine's PostgreSQL) or want to cut at a moment of their choosing (SeaweedFS).

``drop()`` resets every connection open through it, as a restarted database or a failed
network link does, and keeps accepting new ones; ``cut()`` also stops listening, so new
connections are refused, as when the service is down; ``restore()`` listens again on the
same port. ``cut_when(sees)`` cuts at an exact moment: before forwarding the first bytes
sent to the service for which ``sees`` answers True (a request's first line, say).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable

_READ = 256 * 1024


def _reset(sock: socket.socket) -> None:
    """Close with a reset (RST), as a crashed peer or a dead link looks to the other end."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._lock = threading.Lock()
        self._pairs: dict[tuple[socket.socket, socket.socket], int] = {}
        self._listener: socket.socket | None = None
        self._trip: Callable[[bytes], bool] | None = None
        self.tripped = threading.Event()
        self.accepted = 0
        self.port = self._listen(0)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.settimeout(0.1)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return int(listener.getsockname()[1])

    def _accept(self, listener: socket.socket) -> None:
        while True:
            with self._lock:
                if self._listener is not listener:
                    break
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            pair = (client, upstream)
            with self._lock:
                if self._listener is not listener:
                    _reset(client)
                    _reset(upstream)
                    break
                self._pairs[pair] = 2  # directions still running
                self.accepted += 1
            for source, target, outbound in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(
                    target=self._pump, args=(source, target, pair, outbound), daemon=True
                ).start()
        listener.close()

    def _pump(
        self,
        source: socket.socket,
        target: socket.socket,
        pair: tuple[socket.socket, socket.socket],
        outbound: bool,
    ) -> None:
        try:
            while data := source.recv(_READ):
                trip = self._trip
                if outbound and trip is not None and trip(data):
                    self._trip = None
                    self.cut()
                    self.tripped.set()
                    break
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)  # pass the end of one direction on
        except OSError:
            for sock in pair:  # one side failed: the whole connection is gone
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        with self._lock:
            left = self._pairs.get(pair, 1) - 1
            if left:
                self._pairs[pair] = left
            else:
                self._pairs.pop(pair, None)
        if not left:
            for sock in pair:
                sock.close()

    def cut_when(self, sees: Callable[[bytes], bool]) -> None:
        """Cut (as ``cut()``) before forwarding the first outgoing bytes ``sees`` is True for."""
        self.tripped.clear()
        self._trip = sees

    def drop(self) -> int:
        """Reset every open connection; returns how many there were."""
        with self._lock:
            pairs = list(self._pairs)
            self._pairs.clear()
        for client, upstream in pairs:
            _reset(client)
            _reset(upstream)
        return len(pairs)

    def cut(self) -> int:
        """Refuse new connections and reset the open ones (the service is down)."""
        self._trip = None
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        return self.drop()

    def restore(self) -> None:
        """Listen again on the same port (the service is back)."""
        if self._listener is not None:
            return
        deadline = time.monotonic() + 10
        while True:
            try:
                self._listen(self.port)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self.cut()
