"""The app under gunicorn, as the Procfile serves it: a resumable upload sent in several
PATCHes on one kept-alive connection (bodies read straight off gunicorn's socket reader,
memorybox/web/request_body.py) lands byte for byte and becomes an item.

Uses the benchmark's helpers to start gunicorn on a fresh SQLite database seeded with the
demo (this checks the server, not the database; the rest of the suite covers both)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from benchmarks._upload_server import MIB, Client, WebApp, make_file, prepare_database


def _environment(folder: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "MEMORYBOX_", "REDIS_", "QUEUE_", "DATABASE_", "STORAGE_"))
    }
    env.update(
        MEMORYBOX_INSTANCE_PATH=str(folder),
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        QUEUE_URL=f"sqlite://{folder / 'queue.sqlite3'}",
        PYTHONUNBUFFERED="1",
    )
    return env


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


def test_an_upload_through_gunicorn_lands_byte_for_byte(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    env = _environment(instance)
    prepare_database(env)
    clip = make_file(tmp_path / "clip.mp4", 19 * MIB + 4321, seed=11)
    web = WebApp(env, tmp_path / "gunicorn.log")
    try:
        client = Client(web.base)
        client.sign_in()
        csrf = client.add_form_token()
        upload_id = client.upload(clip, csrf, patch_size=6 * MIB)  # four PATCHes, kept alive
        assert client.add(upload_id, csrf, title="Through gunicorn") == 201
        client.close()
    finally:
        web.stop()
    stored = [path for path in (instance / "storage" / "items").rglob("*") if path.is_file()]
    assert [_sha256(path) for path in stored] == [_sha256(clip)], web.log_tail()
