"""Full-text search on each database, behind one small interface.

The index table (``search_documents``) is the same everywhere; a backend adds what its
database needs to find words in it quickly, and turns a search's words into a condition on
that table:

* PostgreSQL: two GIN expression indexes (migration 0010) over vectors built from the stored
  words without the text-search parser (``array_to_tsvector``), one of the words alone and
  one of the words and the child's tags. They follow the table by themselves.
* SQLite: an FTS5 table, ``search_fts``, whose rowid is the document's id, with the same two
  columns; rows are written beside the documents.

Both look for every word, each as the start of a word. The words reach the database as one
bound parameter, and are letters and digits only (``memorybox.search.text``), so nothing a
person types can change the meaning of the search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    bindparam,
    cast,
    column,
    delete,
    insert,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import TSQUERY

from memorybox.search.models import SearchDocument

#: The PostgreSQL index expressions (the same text as in migration 0010, which makes them).
WORDS_VECTOR = "array_to_tsvector(string_to_array(search_documents.words, ' '))"
ALL_VECTOR = f"({WORDS_VECTOR} || array_to_tsvector(string_to_array(search_documents.tags, ' ')))"
POSTGRES_INDEXES = frozenset({"ix_search_documents_fts_words", "ix_search_documents_fts_all"})
FTS_TABLE = "search_fts"

Stored = tuple[int, str, str]  # a document's id, words and tags


class Backend(Protocol):
    def stored(self, connection: Connection, rows: Sequence[Stored]) -> None:
        """These documents were just written (new ids, or ids that may have been used)."""

    def removed(self, connection: Connection, ids: Sequence[int]) -> None:
        """These documents were just deleted."""

    def matching(self, terms: Sequence[str], *, with_tags: bool) -> ColumnElement[bool]:
        """Documents holding every one of ``terms`` (in their words, or their words and tags)."""


class Postgres:
    def stored(self, connection: Connection, rows: Sequence[Stored]) -> None:
        return None

    def removed(self, connection: Connection, ids: Sequence[int]) -> None:
        return None

    def matching(self, terms: Sequence[str], *, with_tags: bool) -> ColumnElement[bool]:
        query = " & ".join(f"'{term}':*" for term in terms)
        vector: ColumnElement[Any] = literal_column(ALL_VECTOR if with_tags else WORDS_VECTOR)
        return vector.bool_op("@@")(cast(bindparam("search_terms", query), TSQUERY))


_fts = table(FTS_TABLE, column("rowid"), column("words"), column("tags"))


class Sqlite:
    def stored(self, connection: Connection, rows: Sequence[Stored]) -> None:
        if not rows:
            return
        # An id SQLite hands out again may still have an old row here (a bulk delete of the
        # documents that did not come through the index): replace it.
        self.removed(connection, [row[0] for row in rows])
        connection.execute(
            insert(_fts),
            [{"rowid": doc_id, "words": words, "tags": tags} for doc_id, words, tags in rows],
        )

    def removed(self, connection: Connection, ids: Sequence[int]) -> None:
        if ids:
            connection.execute(delete(_fts).where(_fts.c.rowid.in_(list(ids))))

    def matching(self, terms: Sequence[str], *, with_tags: bool) -> ColumnElement[bool]:
        query = " ".join(f'"{term}"*' for term in terms)
        if not with_tags:
            query = f"{{words}} : ({query})"
        found = select(_fts.c.rowid).where(
            literal_column(FTS_TABLE, Boolean).bool_op("MATCH")(bindparam("search_terms", query))
        )
        return SearchDocument.id.in_(found)


_BACKENDS: dict[str, Backend] = {"postgresql": Postgres(), "sqlite": Sqlite()}


def for_dialect(name: str) -> Backend:
    try:
        return _BACKENDS[name]
    except KeyError:
        raise RuntimeError(f"search has no backend for {name}") from None


def for_connection(connection: Connection) -> Backend:
    return for_dialect(connection.dialect.name)


def upsert(connection: Connection, documents: Any, key: str, rows: list[dict[str, Any]]) -> Any:
    """One statement writing ``rows`` over the documents with the same ``key`` (``item_id``
    or ``section_id``, each unique), returning each one's id, words and tags."""
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(documents).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[key],
        set_={name: statement.excluded[name] for name in ("child_id", "words", "tags")},
    )
    return statement.returning(documents.c.id, documents.c.words, documents.c.tags)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """For Alembic's comparisons: leave out what a backend makes beside the models, which
    SQLAlchemy cannot describe (SQLite's FTS5 table and the shadow tables it keeps; the
    PostgreSQL expression indexes, which exist on PostgreSQL only)."""
    fts = name == FTS_TABLE or f"{name}".startswith(f"{FTS_TABLE}_")
    if type_ == "table" and reflected and fts:
        return False
    return not (type_ == "index" and reflected and name in POSTGRES_INDEXES)
