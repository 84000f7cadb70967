"""per-kind review checklists entered by counsel, document numbers (issue 14, documents)

Revision ID: 0008_checklists
Revises: 0007_after_filing
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008_checklists'
down_revision: str | None = '0007_after_filing'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('checklistentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('opinion_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('aspect', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('question', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.ForeignKeyConstraint(['opinion_id'], ['legalopinion.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_checklistentry_matter_id'), 'checklistentry', ['matter_id'], unique=False)
    op.create_index(op.f('ix_checklistentry_opinion_id'), 'checklistentry', ['opinion_id'], unique=False)
    op.create_table('opinionnumber',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opinion_id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.ForeignKeyConstraint(['opinion_id'], ['legalopinion.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('opinion_id'),
    sa.UniqueConstraint('prefix', 'year', 'serial', name='uq_opinionnumber_serial')
    )
    op.create_index(op.f('ix_opinionnumber_matter_id'), 'opinionnumber', ['matter_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_opinionnumber_matter_id'), table_name='opinionnumber')
    op.drop_table('opinionnumber')
    op.drop_index(op.f('ix_checklistentry_opinion_id'), table_name='checklistentry')
    op.drop_index(op.f('ix_checklistentry_matter_id'), table_name='checklistentry')
    op.drop_table('checklistentry')
