"""Family and past carers who send memories (the letterbox): a contributor is an account
(role "contributor", stored like every role as a short string, so no type changes) tied to
one child, with who they are to the child, whether the child said "no more from this
person", and whether a social worker ended their access.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from memorybox.db import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contributors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=60), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("blocked_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_contributors_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_contributors_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_contributors_invitation_id_invitations"),
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"], ["users.id"], name=op.f("fk_contributors_invited_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"], ["users.id"], name=op.f("fk_contributors_ended_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributors")),
        sa.UniqueConstraint("user_id", name=op.f("uq_contributors_user_id")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_contributors_invitation_id")),
    )
    with op.batch_alter_table("contributors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contributors_child_id"), ["child_id"], unique=False)


def downgrade() -> None:
    # The code before this revision knows no "contributor" role: their accounts stay (what
    # they sent is still in children's boxes) but are switched off, and their unused
    # invitations are cancelled, both stored under a role it knows.
    op.execute(
        "UPDATE users SET disabled_at = CURRENT_TIMESTAMP, role = 'carer' "
        "WHERE role = 'contributor' AND disabled_at IS NULL"
    )
    op.execute("UPDATE users SET role = 'carer' WHERE role = 'contributor'")
    op.execute(
        "UPDATE invitations SET revoked_at = CURRENT_TIMESTAMP, role = 'carer' "
        "WHERE role = 'contributor' AND accepted_at IS NULL AND revoked_at IS NULL"
    )
    op.execute("UPDATE invitations SET role = 'carer' WHERE role = 'contributor'")
    with op.batch_alter_table("contributors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contributors_child_id"))
    op.drop_table("contributors")
