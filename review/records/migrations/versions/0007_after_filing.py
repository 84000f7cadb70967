"""after filing: register, corrections, villages (issue 16)

Revision ID: 0007_after_filing
Revises: 0006_per_kind
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007_after_filing'
down_revision: str | None = '0006_per_kind'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('registerentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('organ', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status_since', sa.Date(), nullable=False),
    sa.Column('superseded_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('registered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['documentversion.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('registerentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registerentry_matter_id'), ['matter_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_registerentry_number'), ['number'], unique=False)
        batch_op.create_index(batch_op.f('ix_registerentry_organ'), ['organ'], unique=False)
        batch_op.create_index(batch_op.f('ix_registerentry_status'), ['status'], unique=False)

    op.create_table('filingreview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('problems', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('authority', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('filingreview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_filingreview_matter_id'), ['matter_id'], unique=True)

    op.create_table('correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('problems', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('follow_up_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.ForeignKeyConstraint(['review_id'], ['filingreview.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_matter_id'), ['matter_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_correction_status'), ['status'], unique=False)

    op.create_table('cleanupcampaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('due_before', sa.Date(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    op.create_table('registerdecision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('follow_up_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['follow_up_id'], ['matter.id'], ),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('follow_up_id')
    )
    with op.batch_alter_table('registerdecision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registerdecision_matter_id'), ['matter_id'], unique=False)

    op.create_table('cleanupitem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['cleanupcampaign.id'], ),
    sa.ForeignKeyConstraint(['decision_id'], ['registerdecision.id'], ),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cleanupitem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cleanupitem_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cleanupitem_matter_id'), ['matter_id'], unique=False)


def downgrade() -> None:
    for table, indexes in (('cleanupitem', ('ix_cleanupitem_matter_id', 'ix_cleanupitem_campaign_id')),
                           ('registerdecision', ('ix_registerdecision_matter_id',)),
                           ('cleanupcampaign', ()),
                           ('correction', ('ix_correction_status', 'ix_correction_matter_id')),
                           ('filingreview', ('ix_filingreview_matter_id',)),
                           ('registerentry', ('ix_registerentry_status', 'ix_registerentry_organ',
                                              'ix_registerentry_number', 'ix_registerentry_matter_id'))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in indexes:
                batch_op.drop_index(index)
        op.drop_table(table)
