"""per-kind law: flags confirmed, checklists, certificates, meetings (issue 14)

Revision ID: 0006_per_kind
Revises: 0005_installation
"""
from collections.abc import Sequence

revision: str = '0006_per_kind'
down_revision: str | None = '0005_installation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the issue named above


def downgrade() -> None:
    pass
