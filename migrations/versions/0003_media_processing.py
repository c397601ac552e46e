"""media processing state and renditions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:06:05.187151
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from memorybox.db import UTCDateTime


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('renditions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['memory_items.id'], name=op.f('fk_renditions_item_id_memory_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renditions')),
    sa.UniqueConstraint('item_id', 'name', name=op.f('uq_renditions_item_id')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_renditions_storage_key'))
    )
    with op.batch_alter_table('renditions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_renditions_item_id'), ['item_id'], unique=False)

    with op.batch_alter_table('memory_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('processing', sa.Enum('waiting', 'working', 'ready', 'failed', name='processing', native_enum=False, length=20), server_default='ready', nullable=False))
        batch_op.add_column(sa.Column('processing_error', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('processing_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('taken_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('height', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duration_seconds', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('page_count', sa.Integer(), nullable=True))

    # Items stored before processing existed may carry location data: process them all.
    # `flask --app memorybox reprocess-media` queues them for the worker.
    op.execute("UPDATE memory_items SET processing = 'waiting'")


def downgrade() -> None:
    with op.batch_alter_table('memory_items', schema=None) as batch_op:
        batch_op.drop_column('page_count')
        batch_op.drop_column('duration_seconds')
        batch_op.drop_column('height')
        batch_op.drop_column('width')
        batch_op.drop_column('taken_at')
        batch_op.drop_column('processing_attempts')
        batch_op.drop_column('processing_error')
        batch_op.drop_column('processing')

    with op.batch_alter_table('renditions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_renditions_item_id'))

    op.drop_table('renditions')
