"""Resumable uploads: start, append a part, finish. Each part streams straight to storage.

Parts must be at least ``MIN_PART_SIZE`` (5 MiB) except the last, as S3 requires; the
browser sends 8 MiB parts. A part cut short (or stored with other bytes than were sent)
does not count, so the offset only moves when a whole part is safe, and the client resumes
from there. S3's own list of parts is the record of what is stored: the database keeps one
row per upload (offset, number of parts), written once per part.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import BinaryIO

from sqlalchemy import select

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories.models import UploadSession
from memorybox.memories.services import display_name_for_upload
from memorybox.storage import MIN_PART_SIZE, Storage, StorageError, new_key

MAX_PART_SIZE = 64 * 1024 * 1024
ABANDONED_AFTER = timedelta(days=2)


class UploadProblem(ValueError):
    """The request can't be used; ``status`` is the HTTP answer, the message is for people."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def start(
    *, user: User, child: Child, length: int, filename: str, storage: Storage, max_bytes: int
) -> UploadSession:
    if length <= 0:
        raise UploadProblem("That file is empty. Please choose another one.")
    if length > max_bytes:
        raise UploadProblem("That file is too big. Please choose a smaller one.", 413)
    key = new_key("upload")
    upload_id = storage.start_upload(key, "application/octet-stream")
    session = UploadSession(
        id=secrets.token_hex(16),
        user_id=user.id,
        child_id=child.id,
        length=length,
        filename=display_name_for_upload(filename),
        storage_key=key,
        storage_upload_id=upload_id,
    )
    db.session.add(session)
    db.session.commit()
    return session


def append(
    session: UploadSession, *, offset: int, stream: BinaryIO, length: int, storage: Storage
) -> int:
    """Store one part; returns the new offset."""
    if session.complete:
        raise UploadProblem("This upload is already finished.", 409)
    if offset != session.offset:
        raise UploadProblem("That part is not the next one.", 409)
    last = offset + length == session.length
    if length <= 0 or offset + length > session.length:
        raise UploadProblem("That part does not fit the file.", 400)
    if length > MAX_PART_SIZE or (not last and length < MIN_PART_SIZE):
        raise UploadProblem("Parts must be between 5 MB and 64 MB, except the last.", 400)
    number = session.parts + 1
    key, storage_upload_id = session.storage_key, session.storage_upload_id
    try:
        storage.upload_part(key, storage_upload_id, number, stream, length)
        if last:
            storage.complete_upload(key, storage_upload_id)
    except FileNotFoundError:  # finished or cancelled by another request meanwhile
        raise UploadProblem("This upload is already finished or was stopped.", 409) from None
    new_offset = offset + length
    session.parts = number
    session.offset = new_offset
    session.updated_at = clock.now()
    if last:
        session.completed_at = session.updated_at
    db.session.commit()  # one UPDATE of the upload's row (and no SELECT after it)
    return new_offset


def cancel(session: UploadSession, storage: Storage) -> None:
    if session.complete:
        storage.delete(session.storage_key)
    else:
        storage.abort_upload(session.storage_key, session.storage_upload_id)
    db.session.delete(session)
    db.session.commit()


def find(upload_id: str) -> UploadSession | None:
    if not upload_id or len(upload_id) != 32 or not all(c in "0123456789abcdef" for c in upload_id):
        return None
    return db.session.get(UploadSession, upload_id)


def abandon_old(storage: Storage) -> int:
    """Remove uploads nobody finished (or used) within two days, and their stored parts."""
    cutoff = clock.now() - ABANDONED_AFTER
    old = list(
        db.session.scalars(
            select(UploadSession).where(
                UploadSession.updated_at < cutoff, UploadSession.used_at.is_(None)
            )
        )
    )
    for session in old:
        try:
            cancel(session, storage)
        except (StorageError, FileNotFoundError):
            db.session.delete(session)
            db.session.commit()
    return len(old)
