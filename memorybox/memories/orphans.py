"""Stored objects no row names any more: "orphans".

Deleting an item removes its row first and its objects after (see
``services.delete_for_ever``), so a storage outage in between leaves objects behind, logged
with their keys. This finds them by listing the store and comparing with every key the
database names (items, their renditions, exports, resumable uploads), and can delete them.

Only objects older than a safety margin count: a worker writes renditions before it commits
their rows, and an export is written before its row names it, so a young object without a
row may simply not be finished yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import select

from memorybox import clock
from memorybox.db import db
from memorybox.exports.models import Export
from memorybox.memories.models import MemoryItem, Rendition, UploadSession
from memorybox.storage import Storage, StorageError, StoredObject

log = logging.getLogger(__name__)

SAFETY_MARGIN = timedelta(hours=24)


def named_keys() -> set[str]:
    """Every storage key a row names."""
    keys: set[str] = set()
    for column in (
        MemoryItem.storage_key,
        Rendition.storage_key,
        Export.storage_key,
        UploadSession.storage_key,
    ):
        keys.update(k for k in db.session.scalars(select(column)) if k)
    return keys


def find(storage: Storage, older_than: timedelta = SAFETY_MARGIN) -> Iterator[StoredObject]:
    """Objects no row names, last changed more than ``older_than`` ago."""
    named = named_keys()
    cutoff = clock.now() - older_than
    for found in storage.objects():
        if found.key not in named and found.modified < cutoff:
            yield found


def remove(storage: Storage, orphans: list[StoredObject]) -> tuple[int, int]:
    """Delete the orphans, checking each again first (a row may have appeared since).
    Returns (deleted, kept back)."""
    named = named_keys()
    deleted = kept = 0
    for orphan in orphans:
        if orphan.key in named:
            kept += 1
            continue
        try:
            storage.delete(orphan.key)
        except (StorageError, OSError):
            log.warning("could not delete orphan %s", orphan.key)
            kept += 1
            continue
        log.info("deleted orphan %s (%d bytes)", orphan.key, orphan.size)
        deleted += 1
    return deleted, kept
