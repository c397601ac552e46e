"""Moving a child to another authority: the request, its answer, and when the child moved.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from memorybox.db import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("from_authority_id", sa.Integer(), nullable=False),
        sa.Column("to_authority_id", sa.Integer(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "waiting",
                "accepted",
                "declined",
                "withdrawn",
                name="transfer_state",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("moved_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_transfers_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["from_authority_id"],
            ["authorities.id"],
            name=op.f("fk_transfers_from_authority_id_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["to_authority_id"],
            ["authorities.id"],
            name=op.f("fk_transfers_to_authority_id_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_transfers_requested_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_transfers_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfers_child_id"), ["child_id"], unique=False)
        batch_op.create_index(
            "ix_transfers_from_authority", ["from_authority_id", "state"], unique=False
        )
        batch_op.create_index(
            "ix_transfers_to_authority", ["to_authority_id", "state"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_transfers_to_authority")
        batch_op.drop_index("ix_transfers_from_authority")
        batch_op.drop_index(batch_op.f("ix_transfers_child_id"))
    op.drop_table("transfers")
