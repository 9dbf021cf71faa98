"""evidence files (佐证材料) stored by sha256 and linked to records

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import duban.core.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "evidence_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("media_type", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", duban.core.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_evidence_file_department_id_department")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_evidence_file_task_id_task")),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"], ["user.id"], name=op.f("fk_evidence_file_uploaded_by_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_file")),
    )
    op.create_index(op.f("ix_evidence_file_sha256"), "evidence_file", ["sha256"], unique=False)
    op.create_index("ix_evidence_file_task_id_id", "evidence_file", ["task_id", "id"], unique=False)
    op.create_table(
        "evidence_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("record_kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["evidence_file.id"], name=op.f("fk_evidence_link_file_id_evidence_file")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_link")),
        sa.UniqueConstraint("file_id", "record_kind", "record_id", name="uq_evidence_link_file_record"),
    )
    op.create_index("ix_evidence_link_record", "evidence_link", ["record_kind", "record_id"], unique=False)
    op.create_table(
        "contribution_waiver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", duban.core.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_contribution_waiver_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["task_report.id"], name=op.f("fk_contribution_waiver_report_id_task_report")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_contribution_waiver_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution_waiver")),
    )
    op.create_index(op.f("ix_contribution_waiver_task_id"), "contribution_waiver", ["task_id"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index(op.f("ix_contribution_waiver_task_id"), table_name="contribution_waiver")
    op.drop_table("contribution_waiver")
    op.drop_index("ix_evidence_link_record", table_name="evidence_link")
    op.drop_table("evidence_link")
    op.drop_index("ix_evidence_file_task_id_id", table_name="evidence_file")
    op.drop_index(op.f("ix_evidence_file_sha256"), table_name="evidence_file")
    op.drop_table("evidence_file")
