"""the house: request receipts replace form receipts; the matter's run id is named
without the workflow engine's words; a contract's amount; counsel's marks on findings

Revision ID: 0002_house
Revises: 0001_initial
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002_house'
down_revision: str | None = '0001_initial'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('requestreceipt',
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('request_id')
    )
    op.execute("INSERT INTO requestreceipt (request_id, event_seq, outcome, answer, taken_at) "
               "SELECT 'form:' || flow_run_id || ':' || key, event_seq, 'taken', '', taken_at FROM formreceipt")
    op.drop_table('formreceipt')
    op.execute("ALTER TABLE matter RENAME COLUMN flow_run_id TO run_id")
    op.add_column('matter', sa.Column('amount', sa.BigInteger(), nullable=True))
    op.create_table('findingmark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('finding_index', sa.Integer(), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('clause', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['documentversion.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_findingmark_matter_id'), 'findingmark', ['matter_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_findingmark_matter_id'), table_name='findingmark')
    op.drop_table('findingmark')
    op.drop_column('matter', 'amount')
    op.execute("ALTER TABLE matter RENAME COLUMN run_id TO flow_run_id")
    op.create_table('formreceipt',
    sa.Column('flow_run_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('flow_run_id', 'key')
    )
    op.drop_table('requestreceipt')
