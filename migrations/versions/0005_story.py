"""story: sections, versions, drafts, read receipts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 12:49:54.037584
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from memorybox.db import UTCDateTime

ONE_OF_TWO = "(item_id IS NULL) <> (collection_id IS NULL)"
ONE_OF_THREE = (
    "(CASE WHEN item_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN collection_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN story_section_id IS NULL THEN 0 ELSE 1 END) = 1"
)


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('story_prompts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('authority_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=True),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('hint', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('hidden_at', UTCDateTime(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['authority_id'], ['authorities.id'], name=op.f('fk_story_prompts_authority_id_authorities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_story_prompts')),
    sa.UniqueConstraint('authority_id', 'key', name=op.f('uq_story_prompts_authority_id'))
    )
    with op.batch_alter_table('story_prompts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_story_prompts_authority_id'), ['authority_id'], unique=False)

    op.create_table('story_sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('prompt_id', sa.Integer(), nullable=True),
    sa.Column('own_title', sa.String(length=80), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_story_sections_child_id_children')),
    sa.ForeignKeyConstraint(['prompt_id'], ['story_prompts.id'], name=op.f('fk_story_sections_prompt_id_story_prompts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_story_sections')),
    sa.UniqueConstraint('child_id', 'prompt_id', name=op.f('uq_story_sections_child_id'))
    )
    with op.batch_alter_table('story_sections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_story_sections_child_id'), ['child_id'], unique=False)

    op.create_table('story_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['section_id'], ['story_sections.id'], name=op.f('fk_story_drafts_section_id_story_sections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_story_drafts')),
    sa.UniqueConstraint('section_id', name=op.f('uq_story_drafts_section_id'))
    )
    op.create_table('story_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_story_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['section_id'], ['story_sections.id'], name=op.f('fk_story_versions_section_id_story_sections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_story_versions')),
    sa.UniqueConstraint('section_id', 'number', name=op.f('uq_story_versions_section_id'))
    )
    with op.batch_alter_table('story_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_story_versions_section_id'), ['section_id'], unique=False)

    op.create_table('story_read_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=False),
    sa.Column('read_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], name=op.f('fk_story_read_receipts_reader_id_users')),
    sa.ForeignKeyConstraint(['section_id'], ['story_sections.id'], name=op.f('fk_story_read_receipts_section_id_story_sections')),
    sa.ForeignKeyConstraint(['version_id'], ['story_versions.id'], name=op.f('fk_story_read_receipts_version_id_story_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_story_read_receipts')),
    sa.UniqueConstraint('version_id', 'reader_id', name=op.f('uq_story_read_receipts_version_id'))
    )
    with op.batch_alter_table('story_read_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_story_read_receipts_reader_id'), ['reader_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_story_read_receipts_section_id'), ['section_id'], unique=False)

    op.create_table('story_version_items',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['memory_items.id'], name=op.f('fk_story_version_items_item_id_memory_items')),
    sa.ForeignKeyConstraint(['version_id'], ['story_versions.id'], name=op.f('fk_story_version_items_version_id_story_versions')),
    sa.PrimaryKeyConstraint('version_id', 'item_id', name=op.f('pk_story_version_items'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('story_section_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_consents_story_section_id'), ['story_section_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_consents_story_section_id_story_sections'), 'story_sections', ['story_section_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_consents_exactly_one_subject'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_consents_exactly_one_subject'), ONE_OF_THREE)

def downgrade() -> None:
    # Consents about story sections can't exist without their sections.
    op.execute("DELETE FROM consents WHERE story_section_id IS NOT NULL")
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_consents_exactly_one_subject'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_consents_exactly_one_subject'), ONE_OF_TWO)
        batch_op.drop_constraint(batch_op.f('fk_consents_story_section_id_story_sections'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_consents_story_section_id'))
        batch_op.drop_column('story_section_id')

    op.drop_table('story_version_items')
    with op.batch_alter_table('story_read_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_story_read_receipts_section_id'))
        batch_op.drop_index(batch_op.f('ix_story_read_receipts_reader_id'))

    op.drop_table('story_read_receipts')
    with op.batch_alter_table('story_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_story_versions_section_id'))

    op.drop_table('story_versions')
    op.drop_table('story_drafts')
    with op.batch_alter_table('story_sections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_story_sections_child_id'))

    op.drop_table('story_sections')
    with op.batch_alter_table('story_prompts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_story_prompts_authority_id'))

    op.drop_table('story_prompts')
