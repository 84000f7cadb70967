"""after filing: register, corrections, villages (issue 16)

Revision ID: 0007_after_filing
Revises: 0006_per_kind
"""
from collections.abc import Sequence

revision: str = '0007_after_filing'
down_revision: str | None = '0006_per_kind'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the issue named above


def downgrade() -> None:
    pass
