"""Bulk writes for the scale seed: rows by COPY on PostgreSQL (executemany elsewhere), ids
taken from the table's own sequence, and many tiny stored objects at once."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, select, text

from memorybox.db import UTCDateTime
from memorybox.storage import LocalStorage, Storage

Row = dict[str, Any]


class BulkWriter:
    """Inserts plain rows (dicts) into a table on one connection, inside its transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self._handed_out: dict[str, int] = {}

    def new_ids(self, table: Table, count: int) -> list[int]:
        """``count`` fresh primary keys: from the sequence on PostgreSQL (so later inserts by
        the app never collide), after the largest id elsewhere (one writer: the seed)."""
        if count <= 0:
            return []
        if self.postgres:
            query = text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            )
            return list(self.connection.scalars(query, {"table": table.name, "count": count}))
        start = (self.connection.scalar(select(func.max(table.c.id))) or 0) + 1
        start = max(start, self._handed_out.get(table.name, 0) + 1)
        self._handed_out[table.name] = start + count - 1
        return list(range(start, start + count))

    def insert(self, table: Table, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        if self.postgres:
            self._copy(table, rows)
        else:
            self.connection.execute(table.insert(), list(rows))
        return len(rows)

    def _copy(self, table: Table, rows: Sequence[Row]) -> None:
        rows = _with_python_defaults(table, rows)
        names = list(rows[0])
        stamps = {n for n in names if isinstance(table.c[n].type, UTCDateTime)}
        raw: Any = self.connection.connection.driver_connection
        columns = ", ".join(f'"{n}"' for n in names)
        statement = f'COPY "{table.name}" ({columns}) FROM STDIN'
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([_naive_utc(row[n]) if n in stamps else row[n] for n in names])


class _Parameters:
    """Enough of SQLAlchemy's execution context for a column default that reads the row."""

    def __init__(self, row: Row) -> None:
        self.current_parameters = row

    def get_current_parameters(self) -> Row:
        return self.current_parameters


def _with_python_defaults(table: Table, rows: Sequence[Row]) -> list[Row]:
    """COPY skips SQLAlchemy's Python-side column defaults; fill them in as an insert would."""
    missing = [c for c in table.columns if c.name not in rows[0] and c.default is not None]
    if not missing:
        return list(rows)
    filled = []
    for row in rows:
        row = dict(row)
        for column in missing:
            default: Any = column.default
            if default.is_scalar:
                row[column.name] = default.arg
            elif default.is_callable:
                row[column.name] = default.arg(_Parameters(row))
        filled.append(row)
    return filled


def _naive_utc(value: datetime | None) -> datetime | None:
    """What ``UTCDateTime`` stores, for COPY, which bypasses SQLAlchemy's type processing."""
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None


class ObjectWriter:
    """Writes many small objects. On local disk straight to their files (no temporary file
    and rename per object: a half-written object only ever belongs to a row never inserted);
    elsewhere through the storage interface, several at a time."""

    def __init__(self, storage: Storage, threads: int = 8) -> None:
        self.storage = storage
        self.threads = threads
        self._root = storage.root if isinstance(storage, LocalStorage) else None
        if self._root is not None:
            for n in range(256):
                (self._root / "items" / f"{n:02x}").mkdir(parents=True, exist_ok=True)

    def write(self, objects: Iterable[tuple[str, bytes, str]]) -> int:
        batch = list(objects)
        if not batch:
            return 0
        with ThreadPoolExecutor(self.threads) as pool:
            if self._root is not None:
                root = self._root
                list(pool.map(lambda o: _write_file(root / o[0], o[1]), batch, chunksize=256))
            else:
                list(pool.map(self._save, batch))
        return len(batch)

    def _save(self, obj: tuple[str, bytes, str]) -> None:
        key, data, content_type = obj
        self.storage.save(key, io.BytesIO(data), content_type)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
