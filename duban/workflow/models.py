"""Records on a task that are not states: progress reports, contributions, extensions; idempotency keys;
the escalation policy versions tasks are frozen with."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from duban.core.types import JSONType, enum_column_type
from duban.tasks.models.common import created_at_field, json_list_field, optional_time_field, text_field


class ReportKind(StrEnum):
    """A lead's progress report, or a cooperating unit's contribution to the lead."""

    progress = "progress"
    contribution = "contribution"


class ExtensionStatus(StrEnum):
    """Where an extension request stands."""

    pending = "pending"
    granted = "granted"
    refused = "refused"


class TaskReport(SQLModel, table=True):
    """进展报送 by the lead, or 配合单位报送 by a cooperating unit (visible to the lead before it submits)."""

    __tablename__ = "task_report"
    __table_args__ = (sa.Index("ix_task_report_task_id_id", "task_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")
    kind: ReportKind = Field(sa_type=enum_column_type(ReportKind, 16))
    department_id: int = Field(foreign_key="department.id", index=True)
    author_user_id: int | None = Field(default=None, foreign_key="user.id")
    percent: int | None = Field(default=None, ge=0, le=100)
    text: str = text_field()
    indicator_values: list[Any] = json_list_field()
    attachments: list[Any] = json_list_field()
    created_at: dt.datetime = created_at_field()


class ExtensionRequest(SQLModel, table=True):
    """延期申请: asked by the lead before the deadline, granted or refused by the office."""

    __tablename__ = "extension_request"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    department_id: int = Field(foreign_key="department.id")
    requested_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    current_deadline: dt.date
    requested_deadline: dt.date
    reason: str = text_field()
    status: ExtensionStatus = Field(
        default=ExtensionStatus.pending, sa_type=enum_column_type(ExtensionStatus, 16)
    )
    decided_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    decided_at: dt.datetime | None = optional_time_field()
    granted_deadline: dt.date | None = None
    decision_reason: str = text_field()
    created_at: dt.datetime = created_at_field()


class IdempotencyRecord(SQLModel, table=True):
    """The stored answer to a request sent with an Idempotency-Key (same key and body → same answer)."""

    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    key: str = Field(max_length=128)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType, nullable=False)
    response_headers: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType, nullable=False)
    created_at: dt.datetime = created_at_field()


class EscalationPolicyVersion(SQLModel, table=True):
    """A version of the escalation policy, kept once; each task frozen with it names it (policy_version)."""

    __tablename__ = "escalation_policy_version"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    name: str = Field(default="", max_length=256)
    sha256: str = Field(max_length=64)
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType, nullable=False)
    registered_at: dt.datetime = created_at_field()
