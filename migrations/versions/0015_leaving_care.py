"""Leaving care: the day a young person left care, people a manager adds for them to share
with by name (a personal adviser), asking to delete an account (with 30 days to change
their mind; afterwards the record that it existed), and how long an authority keeps that
record.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from memorybox.db import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_years", sa.Integer(), server_default="6", nullable=False)
        )

    op.create_table(
        "care_leavings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_care_leavings_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_care_leavings_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_leavings")),
        sa.UniqueConstraint("child_id", name=op.f("uq_care_leavings_child_id")),
    )

    op.create_table(
        "named_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_named_people_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_named_people_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_named_people_added_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_named_people")),
        sa.UniqueConstraint("child_id", "user_id", name=op.f("uq_named_people_child_id")),
    )
    with op.batch_alter_table("named_people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_named_people_child_id"), ["child_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_named_people_user_id"), ["user_id"], unique=False)

    op.create_table(
        "account_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("delete_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("keep_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_account_deletions_child_id_children")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_deletions")),
        sa.UniqueConstraint("child_id", name=op.f("uq_account_deletions_child_id")),
    )


def downgrade() -> None:
    op.drop_table("account_deletions")
    with op.batch_alter_table("named_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_named_people_user_id"))
        batch_op.drop_index(batch_op.f("ix_named_people_child_id"))
    op.drop_table("named_people")
    op.drop_table("care_leavings")
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.drop_column("retention_years")
