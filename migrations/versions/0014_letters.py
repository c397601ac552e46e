"""Later-life letters: a letter to a child with its release rule (a day, a birthday, or when
the child asks and the social worker agrees), its saved versions, the child's own private
note about it, and "I'd like to talk about this" for a letter.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-12 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from memorybox.db import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("written_by_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("content_note", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "rule",
            sa.Enum("date", "age", "asked", name="release_rule", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("opens_on", sa.Date(), nullable=True),
        sa.Column("opens_at_age", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("given_at", UTCDateTime(), nullable=True),
        sa.Column("given_by_id", sa.Integer(), nullable=True),
        sa.Column("asked_at", UTCDateTime(), nullable=True),
        sa.Column("agreed_at", UTCDateTime(), nullable=True),
        sa.Column("agreed_by_id", sa.Integer(), nullable=True),
        sa.Column("announced_at", UTCDateTime(), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=True),
        sa.Column("note_read_at", UTCDateTime(), nullable=True),
        sa.Column("with_someone", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_letters_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["written_by_id"], ["users.id"], name=op.f("fk_letters_written_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["given_by_id"], ["users.id"], name=op.f("fk_letters_given_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["agreed_by_id"], ["users.id"], name=op.f("fk_letters_agreed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letters")),
    )
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_letters_child_id"), ["child_id"], unique=False)

    op.create_table(
        "letter_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_letter_versions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["letter_id"], ["letters.id"], name=op.f("fk_letter_versions_letter_id_letters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter_versions")),
        sa.UniqueConstraint("letter_id", "number", name=op.f("uq_letter_versions_letter_id")),
    )
    with op.batch_alter_table("letter_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_letter_versions_letter_id"), ["letter_id"], unique=False
        )

    op.create_table(
        "letter_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["letter_id"], ["letters.id"], name=op.f("fk_letter_notes_letter_id_letters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter_notes")),
        sa.UniqueConstraint("letter_id", name=op.f("uq_letter_notes_letter_id")),
    )
    with op.batch_alter_table("talk_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("letter_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_talk_requests_letter_id_letters"), "letters", ["letter_id"], ["id"]
        )


def downgrade() -> None:
    # Requests to talk about a letter can't exist without their letters.
    op.execute("DELETE FROM talk_requests WHERE letter_id IS NOT NULL")
    with op.batch_alter_table("talk_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_talk_requests_letter_id_letters"), type_="foreignkey"
        )
        batch_op.drop_column("letter_id")
    op.drop_table("letter_notes")
    with op.batch_alter_table("letter_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_letter_versions_letter_id"))
    op.drop_table("letter_versions")
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_letters_child_id"))
    op.drop_table("letters")
