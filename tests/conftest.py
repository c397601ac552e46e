"""Fixtures: a migrated database (SQLite by default, PostgreSQL when
MEMORYBOX_TEST_DATABASE_URL is set), a fresh app per test, and a world of people."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import make_url, text

from memorybox import create_app, memo
from memorybox.cli import upgrade_database
from memorybox.db import Base, db, make_engine
from memorybox.extensions import limiter
from tests import factories

pytest_plugins = ["tests.seaweed"]

TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-only-for-tests",
    "WTF_CSRF_ENABLED": False,
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 8 * 1024,
    "ARGON2_PARALLELISM": 1,
    "BASE_URL": "http://memorybox.test",
    "QUEUE_IMMEDIATE": True,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "app_config(**settings): extra app settings for a test")


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("MEMORYBOX_TEST_DATABASE_URL")
    return f"memorybox database: {'PostgreSQL ' + url if url else 'SQLite (temporary file)'}"


def worker_number() -> int:
    """Which pytest-xdist worker this is (0 without xdist), for what workers cannot share."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


def _database_of_this_worker(url: str) -> str:
    """With xdist each worker gets its own PostgreSQL database beside the one named (made
    here if it is not there yet): the suites empty every table between tests."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return url
    base = make_url(url)
    name = f"{base.database}_{os.environ['PYTEST_XDIST_WORKER']}"
    engine = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        known = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if known.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("MEMORYBOX_TEST_DATABASE_URL")
    if url:
        url = _database_of_this_worker(url)
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'memorybox.sqlite3'}"
    upgrade_database(url)
    return url


def _empty_tables() -> None:
    for table in reversed(Base.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    settings = dict(TEST_CONFIG)
    settings.update(
        DATABASE_URL=database_url,
        STORAGE_URL=f"file://{tmp_path / 'storage'}",
        INSTANCE_PATH=str(tmp_path / "instance"),
    )
    marker = request.node.get_closest_marker("app_config")
    if marker:
        settings.update(marker.kwargs)
    application = create_app(settings)
    limiter.reset()

    def _fresh_like_production() -> None:
        """pytest-flask keeps one app context open for the whole test, so requests would
        share ``g`` (where Flask-Login caches the user) and one session. Start each request
        as production does: no cached user, nothing read before trusted. First of all the
        app's own hooks (the second factor's asks who is signed in)."""
        g.pop("_login_user", None)
        db.session.expire_all()
        memo.forget()

    application.before_request_funcs.setdefault(None, []).insert(0, _fresh_like_production)

    with application.app_context():
        yield application
        db.session.rollback()
        _empty_tables()
        db.session.remove()
    assert db.engine is not None
    db.engine.dispose()


@pytest.fixture
def world(app: Flask) -> factories.World:
    return factories.build_world(app)
