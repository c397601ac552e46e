"""A file object that reads from a generator, so ``Storage.save`` can take a stream that is
being made as it is read (a ZIP) without holding it whole."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator


class IterStream(io.RawIOBase):
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def reader(chunks: Iterable[bytes], buffer_size: int = 1024 * 1024) -> io.BufferedReader:
    return io.BufferedReader(IterStream(chunks), buffer_size=buffer_size)
