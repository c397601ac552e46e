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
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == [], f"models and migrations disagree: {differences}"


def test_there_is_one_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1
