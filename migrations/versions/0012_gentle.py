"""Gentle with hard memories: a content note on an item (and who wrote it, and when the child
first chose to open it), the child's own "hide until I'm ready" and "only open with someone I
trust" on items and story parts, and the trusted adult they picked.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from memorybox.db import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memory_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_note", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("content_note_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("note_opened_at", UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("hide_until_ready", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("with_someone", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_memory_items_content_note_by_id_users"),
            "users",
            ["content_note_by_id"],
            ["id"],
        )
    with op.batch_alter_table("story_sections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hide_until_ready", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("with_someone", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trusted_person_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("trusted_how", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_children_trusted_person_id_users"),
            "users",
            ["trusted_person_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_children_trusted_person_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("trusted_how")
        batch_op.drop_column("trusted_person_id")
    with op.batch_alter_table("story_sections", schema=None) as batch_op:
        batch_op.drop_column("with_someone")
        batch_op.drop_column("hide_until_ready")
    with op.batch_alter_table("memory_items", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_memory_items_content_note_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("with_someone")
        batch_op.drop_column("hide_until_ready")
        batch_op.drop_column("note_opened_at")
        batch_op.drop_column("content_note_by_id")
        batch_op.drop_column("content_note")
