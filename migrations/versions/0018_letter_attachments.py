"""A later-life letter's photos and documents.

An attachment is an ordinary memory item of the child (stored, checked and processed by
the same upload pipeline: location removed, renditions made) with a status of its own,
``in_letter``, and a nullable ``letter_id`` naming its letter. A column rather than a link
table: an item belongs to at most one letter, and every rule about it (policy, exports, the
purge of a leaving young person's account, a move to another authority) starts from the item
and needs its letter in one step. Statuses are short strings (no database enum type), so
the new status needs no type change.

Downgrading: the code before this revision knows neither the status nor the column, so an
attachment becomes ``not_approved`` (a status no list shows and nobody but its adder can
open): nothing is lost, and nothing of an unopened letter reaches the child.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memory_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("letter_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_memory_items_letter_id"), ["letter_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_memory_items_letter_id_letters"), "letters", ["letter_id"], ["id"]
        )


def downgrade() -> None:
    op.execute("UPDATE memory_items SET status = 'not_approved' WHERE status = 'in_letter'")
    with op.batch_alter_table("memory_items", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_memory_items_letter_id_letters"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_memory_items_letter_id"))
        batch_op.drop_column("letter_id")
