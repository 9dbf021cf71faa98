"""task events by time: the dispatcher's catch-up reads the last days' events every minute

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_task_event_created_at", "task_event", ["created_at"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index("ix_task_event_created_at", table_name="task_event")
