"""Static files with versioned URLs, cached by browsers for a year.

Every ``url_for('static', filename=...)`` gets ``?v=<hash of the file's bytes>``. A request
that carries the file's current hash is answered with ``Cache-Control: public,
max-age=31536000, immutable``, so a browser never asks for it again; when the file changes,
its hash and so its URL change with it. A request without the hash, or with an old one,
gets the file as it is now with ``no-cache`` (the browser checks back each time).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask.typing import ResponseReturnValue

IMMUTABLE = "public, max-age=31536000, immutable"
HASH_LENGTH = 12


@dataclass(frozen=True)
class _Seen:
    mtime_ns: int
    size: int
    digest: str


class StaticHashes:
    """Content hashes of the files in one static folder, read again when a file changes."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder).resolve()
        self._seen: dict[str, _Seen] = {}

    def digest(self, filename: str) -> str | None:
        path = (self.folder / filename).resolve()
        if not path.is_relative_to(self.folder):
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        seen = self._seen.get(filename)
        if seen is None or (seen.mtime_ns, seen.size) != (stat.st_mtime_ns, stat.st_size):
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
            except OSError:
                return None
            seen = _Seen(stat.st_mtime_ns, stat.st_size, digest)
            self._seen[filename] = seen
        return seen.digest


def init_app(app: Flask) -> None:
    if not app.static_folder or "static" not in app.view_functions:
        return
    hashes = StaticHashes(app.static_folder)

    @app.url_defaults
    def _versioned(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            digest = hashes.digest(str(values["filename"]))
            if digest:
                values["v"] = digest

    def static(filename: str) -> ResponseReturnValue:
        response = app.send_static_file(filename)
        asked = request.args.get("v")
        if response.status_code in (200, 304) and asked and asked == hashes.digest(filename):
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response

    app.view_functions["static"] = static
