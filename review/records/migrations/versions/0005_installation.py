"""installation settings as audited records, record hashes in events (issue 13)

Revision ID: 0005_installation
Revises: 0004_front_door
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005_installation'
down_revision: str | None = '0004_front_door'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('installation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('drill', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.Column('chain_keyed_from', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('lawsettingchange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('officer', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_seq')
    )
    op.create_index(op.f('ix_lawsettingchange_name'), 'lawsettingchange', ['name'], unique=False)
    # Records written before this revision carry no hash in any event: one system event
    # seals them as found (verify then checks them from here on).
    from hefa.review.records.record_hashes import seal_existing

    seal_existing(op.get_bind())


def downgrade() -> None:
    op.drop_index(op.f('ix_lawsettingchange_name'), table_name='lawsettingchange')
    op.drop_table('lawsettingchange')
    op.drop_table('installation')
