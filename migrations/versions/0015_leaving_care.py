"""Leaving care: a young person's own email and password, the day they left care, and deleting an account with time to change their mind (being written: nothing yet).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
