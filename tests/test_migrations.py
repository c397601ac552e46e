"""Every table comes from a migration: an empty database goes up (and down) cleanly, and the
result matches the models exactly."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from memorybox.cli import alembic_config
from memorybox.db import make_engine
from memorybox.models import Base
from memorybox.search.backends import include_object


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database of the kind this run uses."""
    pg = os.environ.get("MEMORYBOX_TEST_DATABASE_URL")
    if not pg:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    schema = f"migration_{uuid.uuid4().hex[:8]}"
    engine = make_engine(pg)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in pg else "?"
    yield f"{pg}{separator}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def test_upgrade_through_every_migration_then_down_and_up_again(empty_database_url):
    cfg = alembic_config(empty_database_url)
    revisions = list(reversed(list(ScriptDirectory.from_config(cfg).walk_revisions())))
    assert revisions, "there is at least one migration"
    for revision in revisions:
        command.upgrade(cfg, revision.revision)
    command.downgrade(cfg, "base")
    engine = make_engine(empty_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    engine.dispose()


def test_the_migrated_schema_matches_the_models(empty_database_url):
    command.upgrade(alembic_config(empty_database_url), "head")
    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        # The search backends' FTS5 table and PostgreSQL expression indexes are made beside
        # the models (SQLAlchemy cannot describe them): include_object leaves them out.
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == [], f"models and migrations disagree: {differences}"


def test_there_is_one_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1


def test_items_already_there_get_their_sort_date(empty_database_url):
    """0009 fills in each item's sort date: the memory's date, else the day it was added
    where the children live (a photo added at 00:30 in British Summer Time is from that day,
    though it was still the day before in UTC)."""
    cfg = alembic_config(empty_database_url)
    command.upgrade(cfg, "0008")
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO authorities (id, name, slug, self_sharing_age, moderation_required,"
                " duty_email, created_at) VALUES (1, 'A', 'a', 12, false, '', '2024-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO users (id, authority_id, email, display_name, role, password_hash,"
                " session_version, created_at) VALUES (1, 1, 'a@example.org', 'A', 'young_person',"
                " 'x', 1, '2024-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO children (id, authority_id, display_name, user_id, created_at)"
                " VALUES (1, 1, 'A', 1, '2024-01-01')"
            )
        )
        for item_id, memory_date, created in (
            (1, "2019-05-04", "2024-06-01 12:00:00"),
            (2, None, "2024-06-01 23:30:00"),  # 00:30 on 2 June in London
        ):
            conn.execute(
                text(
                    "INSERT INTO memory_items (id, child_id, added_by_id, kind, status, title,"
                    " caption, memory_date, content_type, extension, size_bytes, sha256,"
                    " storage_backend, storage_key, original_name, created_at, updated_at)"
                    " VALUES (:id, 1, 1, 'photo', 'kept', 'T', '', :memory_date, 'image/jpeg',"
                    " 'jpg', 1, '', 'local', :key, '', :created, :created)"
                ),
                {
                    "id": item_id,
                    "memory_date": memory_date,
                    "key": f"k{item_id}",
                    "created": created,
                },
            )
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        dates = dict(conn.execute(text("SELECT id, sort_date FROM memory_items")).all())
    engine.dispose()
    assert {k: str(v) for k, v in dates.items()} == {1: "2019-05-04", 2: "2024-06-02"}
