"""sharing: consents, collections, notifications, moderation

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:00:06.472966
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from memorybox.db import UTCDateTime


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('collections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_collections_child_id_children')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collections'))
    )
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collections_child_id'), ['child_id'], unique=False)

    op.create_table('help_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('sent_to', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_help_requests_child_id_children')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_help_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_help_requests'))
    )
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_help_requests_child_id'), ['child_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('read_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_notifications_child_id_children')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_user_id'), ['user_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('viewer_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('last_seen_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_visits_child_id_children')),
    sa.ForeignKeyConstraint(['viewer_id'], ['users.id'], name=op.f('fk_visits_viewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('viewer_id', 'child_id', name=op.f('uq_visits_viewer_id'))
    )
    op.create_table('collection_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collection_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('added_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_collection_items_collection_id_collections')),
    sa.ForeignKeyConstraint(['item_id'], ['memory_items.id'], name=op.f('fk_collection_items_item_id_memory_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_items')),
    sa.UniqueConstraint('collection_id', 'item_id', name=op.f('uq_collection_items_collection_id'))
    )
    with op.batch_alter_table('collection_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_items_collection_id'), ['collection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_items_item_id'), ['item_id'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['memory_items.id'], name=op.f('fk_comments_item_id_memory_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_item_id'), ['item_id'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('collection_id', sa.Integer(), nullable=True),
    sa.Column('audience', sa.Enum('carers', 'social_worker', 'person', name='audience', native_enum=False, length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('basis', sa.Enum('own_decision', 'on_behalf', name='consent_basis', native_enum=False, length=20), nullable=False),
    sa.Column('childs_wishes', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(audience = 'person') = (person_id IS NOT NULL)", name=op.f('ck_consents_person_only_for_person')),
    sa.CheckConstraint('(item_id IS NULL) <> (collection_id IS NULL)', name=op.f('ck_consents_exactly_one_subject')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_consents_child_id_children')),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_consents_collection_id_collections')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_consents_decided_by_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['memory_items.id'], name=op.f('fk_consents_item_id_memory_items')),
    sa.ForeignKeyConstraint(['person_id'], ['users.id'], name=op.f('fk_consents_person_id_users')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_consents_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_collection_id'), ['collection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_item_id'), ['item_id'], unique=False)

    with op.batch_alter_table('authorities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('self_sharing_age', sa.Integer(), server_default='12', nullable=False))
        batch_op.add_column(sa.Column('moderation_required', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('duty_email', sa.String(length=254), server_default='', nullable=False))

    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decides_sharing_since', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('decides_sharing_recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_children_decides_sharing_recorded_by_id_users'), 'users', ['decides_sharing_recorded_by_id'], ['id'])

    with op.batch_alter_table('memory_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_memory_items_reviewed_by_id_users'), 'users', ['reviewed_by_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('memory_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_memory_items_reviewed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')

    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_children_decides_sharing_recorded_by_id_users'), type_='foreignkey')
        batch_op.drop_column('decides_sharing_recorded_by_id')
        batch_op.drop_column('decides_sharing_since')

    with op.batch_alter_table('authorities', schema=None) as batch_op:
        batch_op.drop_column('duty_email')
        batch_op.drop_column('moderation_required')
        batch_op.drop_column('self_sharing_age')

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_item_id'))
        batch_op.drop_index(batch_op.f('ix_consents_collection_id'))
        batch_op.drop_index(batch_op.f('ix_consents_child_id'))

    op.drop_table('consents')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_item_id'))

    op.drop_table('comments')
    with op.batch_alter_table('collection_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_items_item_id'))
        batch_op.drop_index(batch_op.f('ix_collection_items_collection_id'))

    op.drop_table('collection_items')
    op.drop_table('visits')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_user_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_created_at'))

    op.drop_table('notifications')
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_help_requests_child_id'))

    op.drop_table('help_requests')
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collections_child_id'))

    op.drop_table('collections')
