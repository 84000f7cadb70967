"""installation settings as audited records, record hashes in events (issue 13)

Revision ID: 0005_installation
Revises: 0004_front_door
"""
from collections.abc import Sequence

revision: str = '0005_installation'
down_revision: str | None = '0004_front_door'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the issue named above


def downgrade() -> None:
    pass
