"""Closing the loops: notification targets, help acknowledged and escalated, talk requests,
message settings and team managers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 16:10:01.321525
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from memorybox.db import UTCDateTime


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('talk_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('words', sa.Text(), nullable=False),
    sa.Column('shows_item', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('acknowledged_at', UTCDateTime(), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_talk_requests_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_talk_requests_child_id_children')),
    sa.ForeignKeyConstraint(['item_id'], ['memory_items.id'], name=op.f('fk_talk_requests_item_id_memory_items')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_talk_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_talk_requests'))
    )
    with op.batch_alter_table('talk_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_talk_requests_child_id'), ['child_id'], unique=False)

    with op.batch_alter_table('authorities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('help_escalation_hours', sa.Integer(), server_default='4', nullable=False))

    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalate_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('escalated_to', sa.Text(), server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_help_requests_acknowledged_by_id_users'), 'users', ['acknowledged_by_id'], ['id'])

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_type', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('target_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_notifications_target', ['target_type', 'target_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_messages', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('tell_me_reads', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('team_manager_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_users_team_manager_id_users'), 'users', ['team_manager_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_team_manager_id_users'), type_='foreignkey')
        batch_op.drop_column('team_manager_id')
        batch_op.drop_column('tell_me_reads')
        batch_op.drop_column('email_messages')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_target')
        batch_op.drop_column('target_id')
        batch_op.drop_column('target_type')

    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_help_requests_acknowledged_by_id_users'), type_='foreignkey')
        batch_op.drop_column('escalated_to')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('acknowledged_by_id')
        batch_op.drop_column('acknowledged_at')
        batch_op.drop_column('escalate_at')

    with op.batch_alter_table('authorities', schema=None) as batch_op:
        batch_op.drop_column('help_escalation_hours')

    with op.batch_alter_table('talk_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_talk_requests_child_id'))

    op.drop_table('talk_requests')
