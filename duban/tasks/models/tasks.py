"""Tasks, who holds them, their milestones, and the append-only event log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from duban.core.types import enum_column_type
from duban.tasks.enums import AssignmentRole, LeadSource, NoticeColour, SupervisionLevel, TaskState
from duban.tasks.models.common import (
    created_at_field,
    json_dict_field,
    json_list_field,
    optional_time_field,
    text_field,
)


class Task(SQLModel, table=True):
    """A measure made accountable: a lead, cooperating units, a deadline and a state."""

    __table_args__ = (
        sa.Index("ix_task_state_deadline", "state", "deadline"),
        # The sweep's lookups by frozen policy version and state (migrations 0015, 0016).
        sa.Index("ix_task_policy_version_state", "policy_version", "state"),
        # A task names a kept version (migration 0016; SQLite cannot add or drop it in place).
        sa.ForeignKeyConstraint(
            ["policy_version"],
            ["escalation_policy_version.version"],
            name="fk_task_policy_version_escalation_policy_version",
        ).ddl_if(dialect="postgresql"),
        sa.UniqueConstraint("measure_id", "region_code", name="uq_task_measure_region"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    measure_id: int | None = Field(default=None, foreign_key="measure.id")
    parent_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    region_code: str = Field(default="", max_length=32)
    title: str = text_field()
    state: TaskState = Field(default=TaskState.draft, sa_type=enum_column_type(TaskState))
    supervision_level: SupervisionLevel = Field(
        default=SupervisionLevel.none, sa_type=enum_column_type(SupervisionLevel)
    )
    notice_colour: NoticeColour | None = Field(
        default=None, sa_type=enum_column_type(NoticeColour, 8), nullable=True
    )
    deadline: dt.date | None = None
    original_deadline: dt.date | None = None
    deadline_source: str | None = Field(default=None, max_length=16)
    deadline_note: str | None = Field(default=None, max_length=256)
    # The escalation policy frozen at issue, kept once per version (NULL while none is).
    policy_version: int | None = None
    version: int = Field(default=1)
    issued_at: dt.datetime | None = optional_time_field()
    accepted_at: dt.datetime | None = optional_time_field()
    submitted_at: dt.datetime | None = optional_time_field()
    completed_at: dt.datetime | None = optional_time_field()
    created_at: dt.datetime = created_at_field()
    updated_at: dt.datetime = created_at_field()


class TaskAssignment(SQLModel, table=True):
    """A department's part in a task: lead, cooperating or guidance, and why it was proposed."""

    __tablename__ = "task_assignment"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "department_id", "role", name="uq_assignment_task_dept_role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    role: AssignmentRole = Field(sa_type=enum_column_type(AssignmentRole, 16))
    source: LeadSource = Field(sa_type=enum_column_type(LeadSource, 16))
    evidence: list[Any] = json_list_field()
    position: int = Field(default=0)


class Milestone(SQLModel, table=True):
    """A staged deadline inside a task ("2018年年底前…，2020年年底前…")."""

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    due: dt.date
    text: str = Field(max_length=512)
    reached_at: dt.datetime | None = optional_time_field()


class TaskEvent(SQLModel, table=True):
    """One accepted change of a task; append-only (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "task_event"
    __table_args__ = (
        sa.Index("ix_task_event_task_id_id", "task_id", "id"),
        sa.Index("ix_task_event_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")
    kind: str = Field(max_length=32)
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    actor_department_id: int | None = Field(default=None, foreign_key="department.id")
    actor_label: str = Field(default="", max_length=128)
    from_state: str | None = Field(default=None, max_length=24)
    to_state: str | None = Field(default=None, max_length=24)
    from_level: str | None = Field(default=None, max_length=24)
    to_level: str | None = Field(default=None, max_length=24)
    reason: str = text_field()
    data: dict[str, Any] = json_dict_field()
    request_id: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = created_at_field()
