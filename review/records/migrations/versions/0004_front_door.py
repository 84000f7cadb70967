"""front door: officers' passwords and web sessions

Revision ID: 0004_front_door
Revises: 0003_outbox
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004_front_door'
down_revision: str | None = '0003_outbox'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN (no table rebuild: other tables' foreign keys point at officer)
    op.add_column('officer', sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=300),
                                       nullable=False, server_default=''))
    op.create_table('websession',
    sa.Column('id_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ),
    sa.PrimaryKeyConstraint('id_hash')
    )
    op.create_index(op.f('ix_websession_officer_id'), 'websession', ['officer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_websession_officer_id'), table_name='websession')
    op.drop_table('websession')
    with op.batch_alter_table('officer') as batch:
        batch.drop_column('password_hash')
