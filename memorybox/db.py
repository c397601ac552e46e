"""SQLAlchemy 2 wiring: one engine per app, one scoped session per app context."""

from __future__ import annotations

import enum
import os
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone (portable to SQLite) and always hands back aware datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use memorybox.clock.now()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def string_enum(cls: type[enum.Enum], name: str) -> Enum:
    """An enum stored as its values in a short string column (no database enum type, so
    adding a value needs no ALTER TYPE)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def make_engine(url: str, pool_size: int = 5) -> Engine:
    """``pool_size``: connections kept open per process (PostgreSQL); one per web thread."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # Pre-ping: a pooled connection the server (or the network) dropped is noticed at
    # checkout and replaced, instead of failing the request that drew it. A connection that
    # cannot be made fails within seconds (and the request gets the 503 page), not after
    # the operating system's minutes-long TCP timeout.
    #
    # No parallel query by default: the app's queries are short and many at once, and on a
    # small machine starting parallel workers for one of them doubled its time under load
    # (docs/benchmarks.md); MEMORYBOX_DB_PARALLEL_WORKERS sets PostgreSQL's
    # max_parallel_workers_per_gather for the app's sessions.
    # Options already in the address (say, a search_path) are kept: connect_args' options
    # would replace them.
    parallel = int(os.environ.get("MEMORYBOX_DB_PARALLEL_WORKERS", "0") or 0)
    given = make_url(url).query.get("options", "")
    options = " ".join(
        part
        for part in (
            *(given if isinstance(given, tuple) else (given,)),
            f"-c max_parallel_workers_per_gather={parallel}",
        )
        if part
    )
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        connect_args={"connect_timeout": 5, "options": options},
    )


class Database:
    """Holds the engine and the request-scoped session for the current app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session: scoped_session[Session] = scoped_session(sessionmaker())

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"], app.config.get("DB_POOL_SIZE", 5))
        self.session.remove()
        self.session.configure(bind=self.engine)
        app.extensions["memorybox.db"] = self

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            self.session.remove()


db = Database()
