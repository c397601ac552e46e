"""Orphans: stored objects no row names (left by a storage outage during a delete), found by
``flask storage-orphans`` and deleted with ``--delete``; nothing a row names is touched."""

from __future__ import annotations

import io
from datetime import timedelta

from memorybox.db import db
from memorybox.memories import orphans
from memorybox.memories import services as memories
from memorybox.storage import StorageUnavailable, new_key
from tests import factories


def _storage(app):
    return app.extensions["memorybox.storage"]


def _named_objects(item) -> list[str]:
    return [item.storage_key, *(r.storage_key for r in item.renditions)]


def test_an_outage_during_delete_leaves_orphans_the_check_finds_and_deletes(
    app, world, monkeypatch
):
    storage = _storage(app)
    kept = factories.item(app, world.child, world.young_person, title="Keep me")
    gone = factories.item(app, world.child, world.young_person, title="Delete me")
    left_behind = _named_objects(gone)
    assert len(left_behind) >= 2  # the original and its renditions

    def outage(key: str) -> None:
        raise StorageUnavailable("storage is down")

    monkeypatch.setattr(storage, "delete", outage)
    memories.delete_for_ever(gone, storage)  # the row goes; the objects cannot
    monkeypatch.undo()
    assert all(storage.exists(key) for key in left_behind)

    # Young objects are left alone by default (a worker may not have committed their row).
    assert list(orphans.find(storage)) == []
    found = sorted(o.key for o in orphans.find(storage, timedelta(0)))
    assert found == sorted(left_behind)

    runner = app.test_cli_runner()
    listed = runner.invoke(args=["storage-orphans", "--older-than-hours", "0"])
    assert listed.exit_code == 0, listed.output
    assert f"{len(left_behind)} orphan(s)" in listed.output
    assert all(key in listed.output for key in left_behind)
    assert all(storage.exists(key) for key in left_behind)  # listing deletes nothing

    deleted = runner.invoke(args=["storage-orphans", "--older-than-hours", "0", "--delete"])
    assert deleted.exit_code == 0, deleted.output
    assert f"Deleted {len(left_behind)}; kept 0." in deleted.output
    assert not any(storage.exists(key) for key in left_behind)
    # What rows still name is untouched and still readable.
    db.session.refresh(kept)
    for key in _named_objects(kept):
        assert storage.exists(key)
    assert runner.invoke(args=["storage-orphans", "--older-than-hours", "0"]).output.startswith(
        "0 orphan(s)"
    )


def test_an_object_named_meanwhile_is_not_deleted(app, world):
    storage = _storage(app)
    key = new_key("jpg")
    storage.save(key, io.BytesIO(factories.jpeg_bytes()), "image/jpeg")
    found = list(orphans.find(storage, timedelta(0)))
    assert [o.key for o in found] == [key]
    # A row names it before the delete runs (say, a slow worker's rendition commit).
    item = factories.item(app, world.child, world.young_person, process=False)
    item.storage_key = key
    db.session.commit()
    assert orphans.remove(storage, found) == (0, 1)
    assert storage.exists(key)


def test_a_storage_outage_while_listing_is_a_clear_message(app, monkeypatch):
    storage = _storage(app)

    def outage():
        raise StorageUnavailable("object storage could not be reached")

    monkeypatch.setattr(storage, "objects", outage)
    result = app.test_cli_runner().invoke(args=["storage-orphans"])
    assert result.exit_code != 0
    assert "Could not list the storage" in result.output
