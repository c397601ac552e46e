"""Getting an item ready for the web: location removed, renditions made, state recorded.

Runs in the worker (``memorybox.jobs.tasks.process_item``), never in a request. Idempotent:
an item that is already done is left alone; a half-finished run leaves no rendition row
pointing at a missing object, because objects are written before the rows that name them,
and rows are committed together with the READY state.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from memorybox import clock
from memorybox.db import db
from memorybox.media import pipeline
from memorybox.media.errors import MediaError
from memorybox.memories.models import MemoryItem, Processing, Rendition
from memorybox.storage import Storage, StorageError, new_key
from memorybox.words import N_

log = logging.getLogger(__name__)

TRANSIENT_MESSAGE = N_("We couldn't get that ready right now. We will keep trying.")
GAVE_UP_MESSAGE = N_("We couldn't get that ready. Please try adding it again later.")
#: A worker processing an item records so at least three times within this; an item left
#: waiting or working longer than this has lost its job (``jobs.tasks.requeue_stalled``).
STALLED_AFTER = timedelta(minutes=15)


class TryAgainLater(Exception):
    """A passing problem (storage unreachable): the job should be retried."""

    def __init__(self, attempt: int) -> None:
        super().__init__(f"attempt {attempt}")
        self.attempt = attempt


def process(
    item_id: int,
    storage: Storage,
    *,
    max_attempts: int = 1,
    stalled_after: timedelta = STALLED_AFTER,
    forget_later: Callable[[list[str]], None] | None = None,
) -> Processing | None:
    """Process the item unless it is done, or another worker has it (and is alive: it beats
    more often than ``stalled_after``). Objects a failed attempt wrote but could not delete
    (storage went down between writes) go to ``forget_later``, to be deleted once it is
    back (:func:`forget_unnamed`)."""
    attempt = _claim(item_id, stalled_after)
    item = db.session.get(MemoryItem, item_id)
    if item is None or attempt is None:
        return item.processing if item else None
    with _heartbeat(item_id, stalled_after / 3):
        return _process(item, attempt, storage, max_attempts, forget_later)


def _claim(item_id: int, stalled_after: timedelta) -> int | None:
    """Take the item for this worker, in one UPDATE: waiting, or working for a worker that
    has stopped beating. Two workers can be handed the same item (the sweepers of both
    queue it, a retry meets a sweep); only one gets it. The attempt number, or None."""
    now = clock.now()
    attempt = db.session.scalar(
        update(MemoryItem)
        .where(
            MemoryItem.id == item_id,
            or_(
                MemoryItem.processing == Processing.WAITING,
                and_(
                    MemoryItem.processing == Processing.WORKING,
                    MemoryItem.updated_at < now - stalled_after,
                ),
            ),
        )
        .values(
            processing=Processing.WORKING,
            updated_at=now,
            processing_attempts=MemoryItem.processing_attempts + 1,
        )
        .returning(MemoryItem.processing_attempts)
    )
    db.session.commit()
    return attempt


@contextmanager
def _heartbeat(item_id: int, every: timedelta) -> Iterator[None]:
    """While the work goes on, say so every ``every`` (a long video takes many minutes), so
    the sweeper only ever finds items whose worker is gone."""
    stop = threading.Event()
    engine = db.engine
    assert engine is not None

    def beat() -> None:
        while not stop.wait(every.total_seconds()):
            try:
                with engine.begin() as conn:
                    conn.execute(
                        update(MemoryItem)
                        .where(
                            MemoryItem.id == item_id,
                            MemoryItem.processing == Processing.WORKING,
                        )
                        .values(updated_at=clock.now())
                    )
            except SQLAlchemyError:
                log.warning("item %s: could not record that it is still being worked on", item_id)

    beating = threading.Thread(target=beat, name=f"heartbeat-{item_id}", daemon=True)
    beating.start()
    try:
        yield
    finally:
        stop.set()
        beating.join()


def _process(
    item: MemoryItem,
    attempt: int,
    storage: Storage,
    max_attempts: int,
    forget_later: Callable[[list[str]], None] | None,
) -> Processing:
    item_id = item.id
    log.info("processing item %s (attempt %d)", item_id, attempt)
    work = Path(tempfile.mkdtemp(prefix="memorybox-media-"))
    written: list[str] = []
    try:
        source = work / f"upload.{item.extension}"
        with source.open("wb") as out:
            for chunk in storage.iter_bytes(item.storage_key):
                out.write(chunk)
        result = pipeline.process(source, item.content_type, item.kind.value, work / "out")
        clean_key = new_key(result.original.extension)
        with result.original.path.open("rb") as handle:
            # The checksum of what is kept (location removed), as exports promise.
            sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
            handle.seek(0)
            size = storage.save(clean_key, handle, result.original.content_type)
        written.append(clean_key)
        renditions = []
        for made in result.renditions:
            key = new_key(made.path.suffix.lstrip(".") or "bin")
            with made.path.open("rb") as handle:
                rendition_size = storage.save(key, handle, made.content_type)
            written.append(key)
            renditions.append(
                Rendition(
                    name=made.name,
                    storage_key=key,
                    content_type=made.content_type,
                    size_bytes=rendition_size,
                    width=made.width,
                    height=made.height,
                )
            )
        upload_key = item.storage_key
        item.kind = result.kind
        item.storage_key = clean_key
        item.content_type = result.original.content_type
        item.extension = result.original.extension
        item.size_bytes = size
        item.sha256 = sha256
        item.renditions = renditions
        item.taken_at = result.taken_at
        item.width, item.height = result.width, result.height
        item.duration_seconds = result.duration_seconds
        item.page_count = result.page_count
        if item.memory_date is None and result.taken_at is not None:
            item.memory_date = result.taken_at.astimezone(clock.LOCAL_ZONE).date()
        item.processing = Processing.READY
        item.processing_error = ""
        db.session.commit()
        written.clear()
        _forget(storage, upload_key)
        return Processing.READY
    except MediaError as exc:
        db.session.rollback()
        _fail(item_id, exc.message)
        # The upload can never be shown, and it may carry location data: remove it.
        failed = db.session.get(MemoryItem, item_id)
        if failed is not None:
            _forget(storage, failed.storage_key)
        return Processing.FAILED
    except (StorageError, OSError) as exc:
        db.session.rollback()
        log.warning("processing item %s hit a passing problem: %s", item_id, type(exc).__name__)
        if attempt >= max_attempts:
            _fail(item_id, GAVE_UP_MESSAGE)
            return Processing.FAILED
        _set_state(item_id, Processing.WAITING, TRANSIENT_MESSAGE)
        raise TryAgainLater(attempt) from exc
    finally:
        left = [key for key in written if not _forget(storage, key)]
        if left and forget_later is not None:
            forget_later(left)
        shutil.rmtree(work, ignore_errors=True)


def stalled_items(after: timedelta = STALLED_AFTER) -> list[int]:
    """Items left waiting, or working without a heartbeat, for longer than ``after``
    (their job was lost)."""
    cutoff = clock.now() - after
    query = select(MemoryItem.id).where(
        MemoryItem.processing.in_([Processing.WAITING, Processing.WORKING]),
        MemoryItem.updated_at < cutoff,
    )
    return list(db.session.scalars(query))


def reset_for_reprocessing(item_ids: list[int] | None = None) -> list[int]:
    """Mark items to be processed again (all unfinished ones when no ids are given)."""
    query = select(MemoryItem)
    if item_ids:
        query = query.where(MemoryItem.id.in_(item_ids))
    else:
        query = query.where(MemoryItem.processing != Processing.READY)
    items = list(db.session.scalars(query))
    for item in items:
        item.processing = Processing.WAITING
        item.processing_attempts = 0
        item.updated_at = clock.now()
    db.session.commit()
    return [i.id for i in items]


def forget_unnamed(storage: Storage, keys: list[str]) -> int:
    """Delete those of ``keys`` that no item or rendition names (checked first: never an
    object something is shown from); storage errors propagate, for the job to retry."""
    named = set(
        db.session.scalars(select(MemoryItem.storage_key).where(MemoryItem.storage_key.in_(keys)))
    )
    named.update(
        db.session.scalars(select(Rendition.storage_key).where(Rendition.storage_key.in_(keys)))
    )
    unnamed = [key for key in keys if key not in named]
    for key in unnamed:
        storage.delete(key)
    return len(unnamed)


def _forget(storage: Storage, key: str) -> bool:
    try:
        storage.delete(key)
    except StorageError:
        log.warning("could not delete stored object %s; it is now an orphan", key)
        return False
    return True


def _set_state(item_id: int, state: Processing, message: str) -> None:
    item = db.session.get(MemoryItem, item_id)
    if item is not None:
        item.processing = state
        item.processing_error = message
        db.session.commit()


def _fail(item_id: int, message: str) -> None:
    _set_state(item_id, Processing.FAILED, message)
