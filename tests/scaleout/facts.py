"""Looking behind the app's back: what the database and the object store say, straight from
PostgreSQL and SeaweedFS (not through the proxies the app uses), to count what was lost."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from huey.serializer import Serializer
from sqlalchemy import text

from tests.scaleout.stack import Stack


@dataclass
class Stored:
    key: str
    size: int | None  # what the database says
    present: int | None  # what S3 holds (None: no object)


def item(stack: Stack, item_id: int) -> dict[str, Any]:
    with stack.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT processing, processing_error, processing_attempts, storage_key,"
                " size_bytes FROM memory_items WHERE id = :id"
            ),
            {"id": item_id},
        ).one()
    return dict(row._mapping)


def processing(stack: Stack, item_id: int) -> str:
    return str(item(stack, item_id)["processing"])


def _object_size(stack: Stack, key: str) -> int | None:
    try:
        answer = stack.s3.client().head_object(Bucket=stack.s3.bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return int(answer["ContentLength"])


def stored_files(stack: Stack, item_id: int) -> list[Stored]:
    """The item's own object and its renditions, each with what S3 holds for it."""
    with stack.engine.connect() as conn:
        rows = list(
            conn.execute(
                text(
                    "SELECT storage_key, size_bytes FROM memory_items WHERE id = :id"
                    " UNION ALL SELECT storage_key, size_bytes FROM renditions"
                    " WHERE item_id = :id"
                ),
                {"id": item_id},
            )
        )
    return [Stored(key, size, _object_size(stack, key)) for key, size in rows]


def ready_without_objects(stack: Stack) -> list[int]:
    """Items the app would show as ready whose object, or a rendition's, is missing or not
    the size the database says. The target is none, ever."""
    with stack.engine.connect() as conn:
        ready = list(conn.scalars(text("SELECT id FROM memory_items WHERE processing = 'ready'")))
    broken = []
    for item_id in ready:
        files = stored_files(stack, item_id)
        if len(files) < 2 or any(f.present is None or f.present != f.size for f in files):
            broken.append(item_id)
    return broken


def object_sha256(stack: Stack, key: str) -> str:
    body = stack.s3.client().get_object(Bucket=stack.s3.bucket, Key=key)["Body"]
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


def upload_session(stack: Stack, location: str) -> dict[str, Any]:
    with stack.engine.connect() as conn:
        row = conn.execute(
            text(
                'SELECT storage_key, storage_upload_id, "offset", parts, completed_at'
                " FROM upload_sessions WHERE id = :id"
            ),
            {"id": location.rsplit("/", 1)[1]},
        ).one()
    return dict(row._mapping)


def parts_in_storage(stack: Stack, location: str) -> int:
    """How many parts S3 holds for an unfinished upload."""
    session = upload_session(stack, location)
    listed = stack.s3.client().list_parts(
        Bucket=stack.s3.bucket, Key=session["storage_key"], UploadId=session["storage_upload_id"]
    )
    return len(listed.get("Parts", []))


_ORPHAN_COUNT = re.compile(r"^(\d+) orphan\(s\)", re.MULTILINE)


def orphans(stack: Stack) -> list[str]:
    """``flask storage-orphans --older-than-hours 0``, as an operator would run it: the keys
    of stored objects no row names."""
    out = stack.flask("storage-orphans", "--older-than-hours", "0")
    found = _ORPHAN_COUNT.search(out)
    assert found, out
    keys = [line.split("\t", 1)[0] for line in out.splitlines() if "\t" in line]
    assert len(keys) == int(found.group(1)), out
    return keys


def queued_items(stack: Stack) -> list[int]:
    """The items whose processing job waits in the Redis queue (huey's list), by id."""
    client = stack.redis.client(0)
    serializer = Serializer()
    found = []
    for key in client.scan_iter("huey.redis.*"):
        for raw in client.lrange(key, 0, -1):
            message = serializer.deserialize(raw)
            if message.name.endswith("process_item"):
                found.extend(message.args)
    return sorted(found)


def items_not_done(stack: Stack) -> list[int]:
    with stack.engine.connect() as conn:
        return list(
            conn.scalars(
                text("SELECT id FROM memory_items WHERE processing IN ('waiting', 'working')")
            )
        )
