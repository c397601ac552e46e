"""story transcripts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 14:29:01.505419
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from memorybox.db import UTCDateTime


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('story_transcripts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('waiting', 'working', 'ready', 'failed', name='transcript_state', native_enum=False, length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('used_in_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['memory_items.id'], name=op.f('fk_story_transcripts_item_id_memory_items')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_story_transcripts_requested_by_id_users')),
    sa.ForeignKeyConstraint(['section_id'], ['story_sections.id'], name=op.f('fk_story_transcripts_section_id_story_sections')),
    sa.ForeignKeyConstraint(['used_in_version_id'], ['story_versions.id'], name=op.f('fk_story_transcripts_used_in_version_id_story_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_story_transcripts')),
    sa.UniqueConstraint('section_id', 'item_id', name=op.f('uq_story_transcripts_section_id'))
    )
    with op.batch_alter_table('story_transcripts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_story_transcripts_section_id'), ['section_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('story_transcripts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_story_transcripts_section_id'))

    op.drop_table('story_transcripts')
