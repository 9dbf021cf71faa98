"""audit tables refuse TRUNCATE; the application role's grants

On PostgreSQL every append-only table (the ones whose row trigger refuses UPDATE and DELETE: task_event
at this revision) also gets a statement trigger refusing TRUNCATE. SQLite has no TRUNCATE: nothing to do.
The application role's grants are not a revision: `duban db upgrade` grants after every upgrade
(duban.migrations.roles), so tables added later are covered too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from duban.migrations.triggers import append_only_tables, create_truncate_guard, drop_truncate_guard

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in append_only_tables(bind):
        create_truncate_guard(table)


def downgrade() -> None:
    """Undo this revision."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in append_only_tables(bind):
        drop_truncate_guard(table)
