"""The units a document names for each task, kept verbatim beside the departments they were resolved to."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from duban.core.types import enum_column_type
from duban.tasks.enums import UnitResolution, UnitRole, UnitSource
from duban.tasks.models.common import created_at_field, optional_time_field, text_field


class TaskUnit(SQLModel, table=True):
    """One unit as the document writes it for a task (name, role, wording), and the registry department it
    stands for: NULL while unresolved. A written unit is never renamed; resolving it only fills
    `department_id` and says how (`resolution`, `reason_zh`/`reason_en`)."""

    __tablename__ = "task_unit"
    __table_args__ = (sa.Index("ix_task_unit_plan_id_name", "plan_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    task_id: int = Field(foreign_key="task.id", index=True)
    name: str = Field(max_length=256)
    role: UnitRole = Field(sa_type=enum_column_type(UnitRole, 16))
    source: UnitSource = Field(sa_type=enum_column_type(UnitSource, 16))
    wording: str = Field(default="", max_length=128)
    span_start: int | None = None
    span_end: int | None = None
    position: int = Field(default=0)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    resolution: UnitResolution = Field(
        default=UnitResolution.unresolved, sa_type=enum_column_type(UnitResolution, 16)
    )
    reason_zh: str = text_field()
    reason_en: str = text_field()
    resolved_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    resolved_at: dt.datetime | None = optional_time_field()
    created_at: dt.datetime = created_at_field()
