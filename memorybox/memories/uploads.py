"""Resumable uploads: start, append, finish. Each PATCH streams straight to storage.

A PATCH (at most 64 MiB; the browser sends 64 MiB) is stored as parts of 8 MiB, one after
another as its bytes arrive; a remainder under ``MIN_PART_SIZE`` (5 MiB, S3's least for any
part but the last) joins the part before it. So a PATCH other than the last must be at least
5 MiB. A part cut short (or stored with other bytes than were sent) does not count, so the
offset only moves past whole parts that are safe, and the client resumes from there: a
connection that drops halfway through a PATCH keeps the parts already stored. S3's own list
of parts is the record of what is stored: the database keeps one row per upload (offset,
number of parts), written once per PATCH (and when one fails part-way). No transaction is
held open while the bytes arrive, which can take minutes on a phone.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import BinaryIO

from sqlalchemy import select, update

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories.models import UploadSession
from memorybox.memories.services import display_name_for_upload
from memorybox.storage import MIN_PART_SIZE, Storage, StorageError, new_key
from memorybox.words import N_

#: A PATCH is stored as parts of this size (see ``_parts``).
PART_SIZE = 8 * 1024 * 1024
#: The most one PATCH may carry (proxies such as Cloudflare's refuse requests over 100 MB).
MAX_PATCH_SIZE = 64 * 1024 * 1024
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
        raise UploadProblem(N_("That file is empty. Please choose another one."))
    if length > max_bytes:
        raise UploadProblem(N_("That file is too big. Please choose a smaller one."), 413)
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
    """Store the ``length`` bytes of one PATCH as one or more parts; returns the new offset.
    When it fails part-way, the parts already stored count and the error is raised."""
    if session.complete:
        raise UploadProblem(N_("This upload is already finished."), 409)
    if offset != session.offset:
        raise UploadProblem(N_("That part is not the next one."), 409)
    last = offset + length == session.length
    if length <= 0 or offset + length > session.length:
        raise UploadProblem(N_("That part does not fit the file."), 400)
    if length > MAX_PATCH_SIZE or (not last and length < MIN_PART_SIZE):
        raise UploadProblem(N_("Parts must be between 5 MB and 64 MB, except the last."), 400)
    upload_id, parts = session.id, session.parts
    key, storage_upload_id = session.storage_key, session.storage_upload_id
    db.session.commit()  # nothing is held open while the bytes arrive
    stored = 0
    sizes = _parts(length, last)
    try:
        for size in sizes:
            storage.upload_part(key, storage_upload_id, parts + 1, stream, size)
            parts += 1
            stored += size
        if last:
            storage.complete_upload(key, storage_upload_id)
    except FileNotFoundError:  # finished or cancelled by another request meanwhile
        raise UploadProblem(N_("This upload is already finished or was stopped."), 409) from None
    except BaseException:
        if last and stored == length:  # stored, but not joined into the file: the last part
            parts, stored = parts - 1, stored - sizes[-1]  # is to be sent again, and then joined
        if stored:
            _record(upload_id, offset, parts, offset + stored, complete=False)
        raise
    _record(upload_id, offset, parts, offset + stored, complete=last)
    return offset + stored


def _parts(length: int, last: bool) -> list[int]:
    """The sizes of the parts a PATCH of ``length`` bytes is stored as: PART_SIZE each, and
    what is left over as a part of its own, unless it is under MIN_PART_SIZE and does not
    end the file (it then joins the part before)."""
    whole, rest = divmod(length, PART_SIZE)
    sizes = [PART_SIZE] * whole
    if rest:
        if sizes and rest < MIN_PART_SIZE and not last:
            sizes[-1] += rest
        else:
            sizes.append(rest)
    return sizes


def _record(upload_id: str, offset: int, parts: int, new_offset: int, *, complete: bool) -> None:
    """Move the upload from ``offset`` to ``new_offset`` (one UPDATE, no SELECT). If another
    request moved it meanwhile, that one's parts were the same bytes: this one is refused."""
    now = clock.now()
    moved = db.session.execute(
        update(UploadSession)
        .where(UploadSession.id == upload_id, UploadSession.offset == offset)
        .values(
            parts=parts,
            offset=new_offset,
            updated_at=now,
            **({"completed_at": now} if complete else {}),
        )
    )
    db.session.commit()
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise UploadProblem(N_("That part is not the next one."), 409)


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
