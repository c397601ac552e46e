"""Lists a page at a time: each item's sort date stored (and filled in for every item there
is), and indexes for the box, the audit trail, messages in order and consents naming a
person.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 17:40:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

import sqlalchemy as sa
from alembic import op

from memorybox import clock

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _fill_sort_dates() -> None:
    """The memory's date, else the day (where the children live) it was added."""
    items = sa.table(
        "memory_items",
        sa.column("id", sa.Integer()),
        sa.column("memory_date", sa.Date()),
        sa.column("created_at", sa.DateTime()),
        sa.column("sort_date", sa.Date()),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(items.c.id, items.c.memory_date, items.c.created_at)
            .where(items.c.id > last)
            .order_by(items.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            sa.update(items).where(items.c.id == sa.bindparam("row_id")),
            [
                {
                    "row_id": row.id,
                    "sort_date": row.memory_date
                    or row.created_at.replace(tzinfo=UTC).astimezone(clock.LOCAL_ZONE).date(),
                }
                for row in rows
            ],
        )
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("memory_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_date", sa.Date(), nullable=True))
    _fill_sort_dates()
    with op.batch_alter_table("memory_items", schema=None) as batch_op:
        batch_op.alter_column("sort_date", existing_type=sa.Date(), nullable=False)
        batch_op.create_index(
            "ix_memory_items_box",
            ["child_id", "sort_date", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'kept' AND deleted_at IS NULL"),
            sqlite_where=sa.text("status = 'kept' AND deleted_at IS NULL"),
        )
        batch_op.create_index(
            "ix_memory_items_waiting", ["child_id", "status", "created_at", "id"], unique=False
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_events_child_trail", ["child_id", "occurred_at", "id"], unique=False
        )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_inbox", ["user_id", "urgent", "created_at", "id"], unique=False
        )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index("ix_consents_person_id", ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_person_id")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_inbox")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_child_trail")
    with op.batch_alter_table("memory_items", schema=None) as batch_op:
        batch_op.drop_index("ix_memory_items_waiting")
        batch_op.drop_index("ix_memory_items_box")
        batch_op.drop_column("sort_date")
