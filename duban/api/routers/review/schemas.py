"""Request and response shapes of the review API (office review, regions, 分工方案, responsibility rules)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from duban.tasks.review.listing import RollupView
from duban.tasks.task_views import TaskItem

MAX_ID = 2**31 - 1
DepartmentList = list[str]
_DEPARTMENTS = "单位代码或名称（名录中的全称、简称均可）/ department codes or names"


class TaskPatch(BaseModel):
    """An office edit of a draft task; a field left out stays as it is."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"lead": ["自治区水利厅"], "cooperating": ["sthjt", "自治区林草局"], "deadline": "2026-12-31"}
            ]
        },
    )

    lead: DepartmentList | None = Field(default=None, min_length=1, max_length=10, description=_DEPARTMENTS)
    cooperating: DepartmentList | None = Field(default=None, max_length=30, description=_DEPARTMENTS)
    deadline: dt.date | None = Field(default=None, examples=["2026-12-31"])
    remark: str = Field(default="", max_length=2000, examples=["按职责调整牵头单位"])


class BulkEditItem(TaskPatch):
    """One task's edit inside a bulk edit."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"task_id": 42, "version": 1, "lead": ["slt"], "deadline": "2026年底"}]
        },
    )

    task_id: int = Field(ge=1, le=MAX_ID, examples=[42])
    version: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="期望的任务版本 / expected version"
    )


class BulkEditIn(BaseModel):
    """Edits of many draft tasks of one plan, applied all or nothing."""

    model_config = ConfigDict(extra="forbid")

    edits: list[BulkEditItem] = Field(min_length=1, max_length=2000)


class EditResult(BaseModel):
    """One applied edit."""

    task_id: int = Field(examples=[42])
    version: int = Field(examples=[2])
    event_id: int | None = Field(examples=[311], description="无改动时为空 / null when nothing changed")
    changed: list[str] = Field(examples=[["lead", "deadline"]])


class BulkEditResult(BaseModel):
    """What a bulk edit changed."""

    plan_id: int
    changed: int = Field(examples=[3])
    results: list[EditResult]


class SplitIn(BaseModel):
    """Which 盟市 to split a task into (all 12 when left out)."""

    model_config = ConfigDict(extra="forbid")

    regions: list[str] | None = Field(
        default=None,
        max_length=12,
        examples=[["wuhai", "阿拉善盟", "巴彦淖尔市"]],
        description="盟市代码或名称",
    )


class RegionsView(BaseModel):
    """A split task's regional children and their roll-up."""

    parent_id: int
    rollup: RollupView
    children: list[TaskItem]


class SplitResultView(RegionsView):
    """What a split did."""

    created: list[int] = Field(examples=[[101, 102]])
    existing: list[int] = Field(examples=[[]])
    event_id: int | None
    version: int = Field(examples=[2])


class DivisionImportView(BaseModel):
    """What importing an edited 分工方案 changed."""

    plan_id: int
    rows: int = Field(examples=[25])
    changed: list[int] = Field(examples=[[42, 57]], description="被修改的任务 id / tasks changed")
    unchanged: int = Field(examples=[23])
    event_ids: list[int]


class RuleIn(BaseModel):
    """A rule of the office's layer: replaces the bundled rule of the same id, adds one, or disables one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "office.grassland_fire",
                    "topic": "草原防火",
                    "phrases": ["草原防火", "森林草原防火"],
                    "lead": ["lcj"],
                    "cooperating": ["yjt"],
                    "weight": 1.5,
                    "remit": "林业和草原局三定：负责森林草原防火的监督检查",
                },
                {"id": "gov.postal", "disabled": True},
            ]
        },
    )

    id: str = Field(min_length=3, max_length=64, examples=["office.grassland_fire"])
    topic: str | None = Field(default=None, max_length=128)
    phrases: list[str] = Field(default_factory=list, max_length=200)
    generic: list[str] = Field(default_factory=list, max_length=200)
    lead: list[str] = Field(default_factory=list, max_length=10)
    cooperating: list[str] = Field(default_factory=list, max_length=30)
    weight: float = Field(default=1.0, gt=0, le=10)
    remit: str | None = Field(default=None, max_length=2000)
    disabled: bool = False

    def to_stored(self) -> dict[str, Any]:
        """The rule as the version table stores it."""
        if self.disabled:
            return {"id": self.id, "disabled": True}
        return self.model_dump(exclude={"disabled"}, exclude_none=True)


class RulesIn(BaseModel):
    """The office's whole layer of rules (replaces the previous layer; the bundled rules stay underneath)."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RuleIn] = Field(max_length=500)
    note: str = Field(default="", max_length=2000, examples=["增加草原防火规则"])


class RuleView(BaseModel):
    """A rule in force."""

    id: str = Field(examples=["env.air"])
    topic: str = Field(examples=["大气污染防治"])
    phrases: list[str]
    generic: list[str]
    lead: list[str] = Field(examples=[["sthjt"]])
    cooperating: list[str] = Field(examples=[["fgw", "gxt"]])
    weight: float
    remit: str
    origin: str = Field(examples=["bundled"], description="bundled（内置）| office（办公室修改）")


class RulesView(BaseModel):
    """The rules in force: the bundled YAML with the office's newest layer on top."""

    version: int = Field(examples=[0], description="0 = 仅内置规则 / bundled rules only")
    note: str
    updated_at: dt.datetime | None
    fallback: RuleView
    rules: list[RuleView]
    office_layer: list[dict[str, Any]] = Field(description="办公室保存的规则层 / the office's saved layer")
