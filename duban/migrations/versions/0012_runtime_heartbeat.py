"""embedded runtime heartbeat and last completed sweep

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import duban.core.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "runtime_heartbeat",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("at", duban.core.types.UTCDateTime(), nullable=False),
        sa.Column("since", duban.core.types.UTCDateTime(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("detail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_runtime_heartbeat")),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("runtime_heartbeat")
