"""outbox of wake-up requests (start or wake a matter's workflow run)

Revision ID: 0003_outbox
Revises: 0002_house
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003_outbox'
down_revision: str | None = '0002_house'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('wakerequest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('matter_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matter.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_wakerequest_matter_id'), 'wakerequest', ['matter_id'], unique=False)
    op.create_index('ix_wakerequest_pending', 'wakerequest', ['done_at', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_wakerequest_pending', table_name='wakerequest')
    op.drop_index(op.f('ix_wakerequest_matter_id'), table_name='wakerequest')
    op.drop_table('wakerequest')
