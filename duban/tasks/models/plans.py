"""Plans as imported, their outline of measures, and the targets they set."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from duban.core.types import JSONType, enum_column_type
from duban.tasks.models.common import (
    created_at_field,
    json_dict_field,
    json_list_field,
    text_field,
)


class PlanStatus(StrEnum):
    """Whether the plan's tasks have been issued."""

    draft = "draft"
    issued = "issued"


class MeasureKind(StrEnum):
    """A node of the outline: a container heading or an actionable measure."""

    section = "section"
    measure = "measure"


class Plan(SQLModel, table=True):
    """One policy document; re-imports of a revision update it in place (revision counts up)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True, index=True)
    title: str = Field(max_length=512)
    title_inferred: bool = Field(default=False)
    script: str = Field(default="simplified", max_length=16)
    source_name: str | None = Field(default=None, max_length=512)
    content_hash: str = Field(max_length=64, index=True)
    revision: int = Field(default=1)
    issue_date: dt.date | None = None
    horizon: dt.date | None = None
    status: PlanStatus = Field(default=PlanStatus.draft, sa_type=enum_column_type(PlanStatus, 16))
    source_text: str = text_field()
    warnings: list[Any] = json_list_field()
    # Whether the department registry fits the document (DocumentFit.to_json): None before issue 13.
    registry_fit: dict[str, Any] | None = Field(default=None, sa_type=JSONType, nullable=True)
    # Its identity (issue 14, duban.tasks.plan_identity): what `key` was made of — number (文号 + issuer +
    # title), issuer (+ title + date), title, file or content — and the parts, in simplified script.
    identity_basis: str = Field(default="title", max_length=16, sa_column_kwargs={"server_default": "title"})
    doc_number: str | None = Field(default=None, max_length=64, index=True)
    issuer: str | None = Field(default=None, max_length=256)
    title_key: str | None = Field(default=None, max_length=512, index=True)
    created_at: dt.datetime = created_at_field()
    updated_at: dt.datetime = created_at_field()


class PlanRevision(SQLModel, table=True):
    """One revision of a plan as imported (its change record): the text's hash, why the document was taken
    as this plan, what changed, who imported it. Each revision number once per plan."""

    __tablename__ = "plan_revision"
    __table_args__ = (sa.UniqueConstraint("plan_id", "revision", name="uq_plan_revision_plan_id"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    revision: int
    content_hash: str = Field(max_length=64)
    reason: str = Field(max_length=32)  # new_plan, same_number, same_issuer, same_title, explicit, backfill …
    identity_basis: str = Field(max_length=16)
    source_name: str | None = Field(default=None, max_length=512)
    added: int = Field(default=0)
    removed: int = Field(default=0)
    changed: int = Field(default=0)
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: dt.datetime = created_at_field()


class Measure(SQLModel, table=True):
    """A node of a plan's outline, with the facts the parser read from it."""

    __table_args__ = (sa.UniqueConstraint("plan_id", "path_key", name="uq_measure_plan_path"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="measure.id")
    kind: MeasureKind = Field(sa_type=enum_column_type(MeasureKind, 16))
    path: list[str] = json_list_field()
    path_key: str = Field(max_length=256)
    label: str = Field(default="", max_length=32)
    position: int = Field(default=0)
    title: str = text_field()
    body: str = text_field()
    line_start: int | None = None
    line_end: int | None = None
    deadline: dt.date | None = None
    deadline_text: str | None = Field(default=None, max_length=128)
    recurrence: dict[str, Any] | None = Field(default=None, sa_type=JSONType, nullable=True)
    facts: dict[str, Any] = json_dict_field()
    content_hash: str = Field(default="", max_length=64)
    created_at: dt.datetime = created_at_field()


class Target(SQLModel, table=True):
    """A numeric target (指标) stated in a plan's goals."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    measure_id: int | None = Field(default=None, foreign_key="measure.id")
    indicator: str = Field(max_length=256)
    value: str = Field(max_length=128)
    unit: str | None = Field(default=None, max_length=32)
    year: int | None = None
    text: str = text_field()
