"""per-kind review checklists entered by counsel, document numbers (issue 14, documents)

Revision ID: 0008_checklists
Revises: 0007_after_filing
"""
from collections.abc import Sequence

revision: str = '0008_checklists'
down_revision: str | None = '0007_after_filing'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the issue named above


def downgrade() -> None:
    pass
