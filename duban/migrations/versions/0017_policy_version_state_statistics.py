"""policy version and state statistics

The sweep's freeze (`freeze_policy`: issued tasks that name no policy version yet) finds none on any day
after the first, but PostgreSQL multiplied the share of tasks without a version (the drafts) by the share
of issued states, as if the two were independent, expected tens of thousands of rows and read every
draft's heap page: 217 ms at 1,000,000 tasks for an UPDATE that moves nothing. Statistics on the two
columns together (most common combinations) tell it that a task without a version is a draft: the same
UPDATE is one index probe, 0.1 ms. PostgreSQL only (SQLite has no such statistics).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS = "st_task_policy_version_state"


def upgrade() -> None:
    """Statistics on (policy_version, state), gathered at once."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE STATISTICS {STATISTICS} (mcv) ON policy_version, state FROM task")
        op.execute("ANALYZE task")


def downgrade() -> None:
    """Undo this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS {STATISTICS}")
