"""sweep lookups without full scans

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

The policy version frozen into each task (as `duban.workflow.policy.frozen_version()` spells it) and the
task's state, indexed: the sweep finds the issued tasks still without a policy (version NULL) and the
versions frozen onto chased tasks (the least one above the last) by index, instead of reading every task.
The state is a key column, not a partial predicate, so the index never looks like a cheap way to read
every chased task to the planner of the rules' own scans. PostgreSQL only: SQLite matches no expression
index against the sweep's bound JSON path.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_task_policy_version_state"


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {INDEX} ON task ((CAST(policy ->> 'version' AS INTEGER)), state)")


def downgrade() -> None:
    """Undo this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {INDEX}")
