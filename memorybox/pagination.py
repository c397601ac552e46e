"""Lists a page at a time, by keyset: each page starts after the last row of the one before,
named by a cursor (the values of the sort columns of that row), so the tenth page of a box of
thousands costs what the first does and nothing is skipped or shown twice when rows are added
meanwhile. Used by services; the web layer reads the cursor from ``?after=``."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select

from memorybox.db import db

T = TypeVar("T")

PAGE_SIZE = 60


class BadCursor(ValueError):
    """A cursor that this app did not make (edited by hand, or cut short)."""


@dataclass(frozen=True)
class Order:
    """One sort column, newest (or largest) first when ``descending``."""

    column: Any
    descending: bool = True

    @property
    def clause(self) -> Any:
        return self.column.desc() if self.descending else self.column.asc()


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    more: str | None = None  # the cursor of the next page, if there is one

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)


def _encode_value(value: Any) -> list[Any]:
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, str):
        return ["s", value]
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


def _decode_value(raw: Any) -> Any:
    if not isinstance(raw, list) or len(raw) != 2:
        raise BadCursor("not a cursor")
    kind, value = raw
    try:
        if kind == "t" and isinstance(value, str):
            return datetime.fromisoformat(value)
        if kind == "d" and isinstance(value, str):
            return date.fromisoformat(value)
        if kind == "b" and isinstance(value, bool):
            return value
        if kind == "i" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind == "s" and isinstance(value, str):
            return value
    except ValueError:
        raise BadCursor("not a cursor") from None
    raise BadCursor("not a cursor")


def encode(values: Sequence[Any]) -> str:
    text = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, length: int) -> list[Any]:
    """The values a cursor names; BadCursor if it is not one of ours for this list."""
    if len(cursor) > 400:
        raise BadCursor("too long")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValueError):
        raise BadCursor("not a cursor") from None
    if not isinstance(raw, list) or len(raw) != length:
        raise BadCursor("not a cursor for this list")
    return [_decode_value(v) for v in raw]


def after(order: Sequence[Order], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows that come after ``values`` in this order (columns must not be NULL)."""
    alternatives = []
    bound = [literal(v) for v in values]  # True/False too, which SQLAlchemy won't compare bare
    for i, key in enumerate(order):
        earlier_equal = [order[j].column == bound[j] for j in range(i)]
        beyond = key.column < bound[i] if key.descending else key.column > bound[i]
        alternatives.append(and_(*earlier_equal, beyond))
    return or_(*alternatives)


def keyset(
    query: Select[Any],
    order: Sequence[Order],
    cursor: str | None,
    *,
    size: int = PAGE_SIZE,
    values_of: Callable[[Any], Sequence[Any]],
    scalars: bool = True,
) -> Page[Any]:
    """One page of ``query`` in ``order``, after ``cursor``. ``values_of`` gives a row's
    values of the order columns (for the next cursor). ``scalars``: rows are single objects
    (``select(Model)``) rather than tuples."""
    if cursor:
        query = query.where(after(order, decode(cursor, len(order))))
    query = query.order_by(*(key.clause for key in order)).limit(size + 1)
    result = db.session.scalars(query) if scalars else db.session.execute(query)
    rows = list(result)
    more = None
    if len(rows) > size:
        rows = rows[:size]
        more = encode(values_of(rows[-1]))
    return Page(rows, more)


def slice_of(rows: Sequence[T], cursor: str | None, *, size: int = PAGE_SIZE) -> Page[T]:
    """A page of a short list already in memory and in order (a story's parts): the cursor
    names how many came before."""
    start = decode(cursor, 1)[0] if cursor else 0
    if not isinstance(start, int) or start < 0:
        raise BadCursor("not a cursor")
    end = start + size
    return Page(list(rows[start:end]), encode([end]) if end < len(rows) else None)


def by_name(model: Any, condition: Any, cursor: str | None) -> Page[Any]:
    """One page of ``model`` rows meeting ``condition``, by ``display_name`` regardless of
    case. The cursor holds the database's own lower-cased name (Python's ``lower`` and
    SQLite's differ beyond ASCII), read alongside each row."""
    name = func.lower(model.display_name)
    page = keyset(
        select(model, name).where(condition),
        (Order(name, False), Order(model.id, False)),
        cursor,
        values_of=lambda row: (row[1], row[0].id),
        scalars=False,
    )
    return Page([row[0] for row in page.rows], page.more)
