"""Tables of 佐证材料: one row per uploaded file (its bytes kept once per SHA-256 in the file store), the
records each file is attached to, and the lead's written reasons for cooperating units that sent nothing."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from duban.tasks.models.common import created_at_field, text_field


class EvidenceFile(SQLModel, table=True):
    """An uploaded evidence file of a task: what it is, who sent it, when; the bytes are in the store."""

    __tablename__ = "evidence_file"
    __table_args__ = (sa.Index("ix_evidence_file_task_id_id", "task_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")
    sha256: str = Field(max_length=64, index=True)
    size: int = Field(sa_type=sa.BigInteger)
    kind: str = Field(max_length=16)
    media_type: str = Field(max_length=128)
    name: str = Field(max_length=255)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    uploaded_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: dt.datetime = created_at_field()


class EvidenceLink(SQLModel, table=True):
    """A file attached to a record: a progress report or contribution (`report`), or an extension request."""

    __tablename__ = "evidence_link"
    __table_args__ = (
        sa.UniqueConstraint("file_id", "record_kind", "record_id", name="uq_evidence_link_file_record"),
        sa.Index("ix_evidence_link_record", "record_kind", "record_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    file_id: int = Field(foreign_key="evidence_file.id")
    record_kind: str = Field(max_length=16)
    record_id: int


class ContributionWaiver(SQLModel, table=True):
    """The lead's written reason why a cooperating unit's contribution is missing (given with a report)."""

    __tablename__ = "contribution_waiver"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    report_id: int = Field(foreign_key="task_report.id")
    department_id: int = Field(foreign_key="department.id")
    reason: str = text_field()
    created_at: dt.datetime = created_at_field()
