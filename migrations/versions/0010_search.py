"""Find anything: the child's own tags, and a search index of the words of every item and
story section (PostgreSQL: GIN indexes over the stored words; SQLite: an FTS5 table), filled
in for what is there already.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-14 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from memorybox.search.text import document

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000

# The expressions of the PostgreSQL indexes: memorybox.search.backends uses the very same.
WORDS_VECTOR = "array_to_tsvector(string_to_array(words, ' '))"
ALL_VECTOR = f"({WORDS_VECTOR} || array_to_tsvector(string_to_array(tags, ' ')))"


def _fill_items(connection: Any, documents: Any) -> None:
    items = sa.table(
        "memory_items",
        sa.column("id", sa.Integer()),
        sa.column("child_id", sa.Integer()),
        sa.column("title", sa.String()),
        sa.column("caption", sa.Text()),
    )
    transcripts = sa.table(
        "story_transcripts",
        sa.column("item_id", sa.Integer()),
        sa.column("text", sa.Text()),
        sa.column("used_in_version_id", sa.Integer()),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(items.c.id, items.c.child_id, items.c.title, items.c.caption)
            .where(items.c.id > last)
            .order_by(items.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        heard: dict[int, list[str]] = {}
        for item_id, words in connection.execute(
            sa.select(transcripts.c.item_id, transcripts.c.text).where(
                transcripts.c.item_id.in_([r.id for r in rows]),
                transcripts.c.used_in_version_id.is_not(None),
            )
        ):
            heard.setdefault(item_id, []).append(words)
        connection.execute(
            sa.insert(documents),
            [
                {
                    "child_id": r.child_id,
                    "item_id": r.id,
                    "section_id": None,
                    "words": document([r.title, r.caption, *heard.get(r.id, [])]),
                    "tags": "",
                }
                for r in rows
            ],
        )
        last = rows[-1].id


def _fill_sections(connection: Any, documents: Any) -> None:
    sections = sa.table(
        "story_sections",
        sa.column("id", sa.Integer()),
        sa.column("child_id", sa.Integer()),
        sa.column("prompt_id", sa.Integer()),
        sa.column("own_title", sa.String()),
    )
    prompts = sa.table("story_prompts", sa.column("id", sa.Integer()), sa.column("title"))
    versions = sa.table(
        "story_versions",
        sa.column("section_id", sa.Integer()),
        sa.column("number", sa.Integer()),
        sa.column("body", sa.Text()),
    )
    newest = (
        sa.select(versions.c.section_id, sa.func.max(versions.c.number).label("number"))
        .group_by(versions.c.section_id)
        .subquery()
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(
                sections.c.id,
                sections.c.child_id,
                sa.func.coalesce(prompts.c.title, sections.c.own_title).label("title"),
                versions.c.body,
            )
            .join(newest, newest.c.section_id == sections.c.id)
            .join(
                versions,
                sa.and_(
                    versions.c.section_id == newest.c.section_id,
                    versions.c.number == newest.c.number,
                ),
            )
            .outerjoin(prompts, prompts.c.id == sections.c.prompt_id)
            .where(sections.c.id > last)
            .order_by(sections.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            sa.insert(documents),
            [
                {
                    "child_id": r.child_id,
                    "item_id": None,
                    "section_id": r.id,
                    "words": document([r.title, r.body]),
                    "tags": "",
                }
                for r in rows
            ],
        )
        last = rows[-1].id


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("name_key", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_tags_child_id_children")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("child_id", "name_key", name=op.f("uq_tags_child_id")),
    )
    op.create_table(
        "item_tags",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["memory_items.id"], name=op.f("fk_item_tags_item_id_memory_items")
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f("fk_item_tags_tag_id_tags")),
        sa.PrimaryKeyConstraint("item_id", "tag_id", name=op.f("pk_item_tags")),
    )
    op.create_index(op.f("ix_item_tags_tag_id"), "item_tags", ["tag_id"], unique=False)
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("section_id", sa.Integer(), nullable=True),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("item_id", name=op.f("uq_search_documents_item_id")),
        sa.UniqueConstraint("section_id", name=op.f("uq_search_documents_section_id")),
    )
    op.create_index(
        op.f("ix_search_documents_child_id"), "search_documents", ["child_id"], unique=False
    )
    connection = op.get_bind()
    documents = sa.table(
        "search_documents",
        sa.column("child_id", sa.Integer()),
        sa.column("item_id", sa.Integer()),
        sa.column("section_id", sa.Integer()),
        sa.column("words", sa.Text()),
        sa.column("tags", sa.Text()),
    )
    _fill_items(connection, documents)
    _fill_sections(connection, documents)
    dialect = connection.dialect.name
    if dialect == "postgresql":
        op.execute(
            f"CREATE INDEX ix_search_documents_fts_words ON search_documents USING gin ({WORDS_VECTOR})"
        )
        op.execute(
            f"CREATE INDEX ix_search_documents_fts_all ON search_documents USING gin ({ALL_VECTOR})"
        )
        op.execute("ANALYZE search_documents")
    elif dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            "words, tags, tokenize='unicode61 remove_diacritics 0', prefix='2 3')"
        )
        op.execute(
            "INSERT INTO search_fts (rowid, words, tags) SELECT id, words, tags FROM search_documents"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX ix_search_documents_fts_all")
        op.execute("DROP INDEX ix_search_documents_fts_words")
    elif dialect == "sqlite":
        op.execute("DROP TABLE search_fts")
    op.drop_index(op.f("ix_search_documents_child_id"), table_name="search_documents")
    op.drop_table("search_documents")
    op.drop_index(op.f("ix_item_tags_tag_id"), table_name="item_tags")
    op.drop_table("item_tags")
    op.drop_table("tags")
