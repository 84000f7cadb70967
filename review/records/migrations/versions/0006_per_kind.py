"""per-kind law: flags confirmed, checklists, certificates, meetings (issue 14)

Revision ID: 0006_per_kind
Revises: 0005_installation
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006_per_kind'
down_revision: str | None = '0005_installation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMNs (no table rebuild: other tables' foreign keys point at officer)
    op.add_column('officer', sa.Column('enforcement_cert_no', sqlmodel.sql.sqltypes.AutoString(length=64),
                                       nullable=False, server_default=''))
    op.add_column('officer', sa.Column('enforcement_cert_valid_until', sa.Date(), nullable=True))
    op.add_column('officer', sa.Column('legal_qualification_no', sqlmodel.sql.sqltypes.AutoString(length=64),
                                       nullable=False, server_default=''))
    op.add_column('riskassessment', sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=200),
                                              nullable=False, server_default=''))
    op.add_column('legalopinion', sa.Column('controls', sqlmodel.sql.sqltypes.AutoString(length=400),
                                            nullable=False, server_default=''))
    op.add_column('deadlineextension', sa.Column('notified_on', sa.Date(), nullable=True))
    op.create_table('controldecision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('proposed', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('confirmed', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_controldecision_matter_id'), 'controldecision', ['matter_id'], unique=True)
    op.create_table('enforcementassignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('certificate_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_enforcementassignment_matter_id'), 'enforcementassignment', ['matter_id'],
                    unique=False)
    op.create_table('stepnote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['documentversion.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_stepnote_matter_id'), 'stepnote', ['matter_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_stepnote_matter_id'), table_name='stepnote')
    op.drop_table('stepnote')
    op.drop_index(op.f('ix_enforcementassignment_matter_id'), table_name='enforcementassignment')
    op.drop_table('enforcementassignment')
    op.drop_index(op.f('ix_controldecision_matter_id'), table_name='controldecision')
    op.drop_table('controldecision')
    with op.batch_alter_table('deadlineextension') as batch:
        batch.drop_column('notified_on')
    with op.batch_alter_table('legalopinion') as batch:
        batch.drop_column('controls')
    with op.batch_alter_table('riskassessment') as batch:
        batch.drop_column('basis')
    with op.batch_alter_table('officer') as batch:
        batch.drop_column('legal_qualification_no')
        batch.drop_column('enforcement_cert_valid_until')
        batch.drop_column('enforcement_cert_no')
