"""Request and response shapes of the records API (OpenAPI examples included)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from duban.api.deps import MAX_ID
from duban.tasks.enums import SupervisionLevel
from duban.workflow.models import ExtensionStatus, ReportKind
from duban.workflow.records import MAX_ATTACHMENT_BYTES
from duban.workflow.records.stats import DepartmentStats

SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
CONTENT_TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$"


class AttachmentIn(BaseModel):
    """A file's metadata; the file itself stays in the department's own system."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, examples=["锅炉改造验收报告.pdf"])
    size: int = Field(ge=1, le=MAX_ATTACHMENT_BYTES, description="字节数，≤ 50 MB / bytes", examples=[482133])
    content_type: str = Field(pattern=CONTENT_TYPE_PATTERN, max_length=129, examples=["application/pdf"])
    sha256: str = Field(
        pattern=SHA256_PATTERN, examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    )


class IndicatorValueIn(BaseModel):
    """A measured value of one of the plan's targets (指标), named by target_id or by indicator name."""

    model_config = ConfigDict(extra="forbid")

    value: float = Field(allow_inf_nan=False, examples=[22.4])
    target_id: int | None = Field(default=None, ge=1, le=MAX_ID, examples=[7])
    indicator: str | None = Field(default=None, min_length=1, max_length=256, examples=["森林覆盖率"])
    note: str = Field(default="", max_length=1000, examples=["2025 年三季度统计"])


class MissingContributionIn(BaseModel):
    """The lead's written reason why a cooperating unit sent no contribution (for 办结)."""

    model_config = ConfigDict(extra="forbid")

    department: str = Field(min_length=1, max_length=64, description="配合单位代码 / department code")
    reason: str = Field(min_length=1, max_length=1000, examples=["该单位本期无相关工作，已电话确认"])


class ReportIn(BaseModel):
    """A progress report (the lead: percent required) or a contribution (no indicator values)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "percent": 60,
                    "text": "已完成 120 台燃煤锅炉淘汰改造，剩余 80 台 11 月底前完成。",
                    "indicator_values": [{"indicator": "森林覆盖率", "value": 22.4}],
                    "attachments": [
                        {
                            "name": "锅炉改造验收报告.pdf",
                            "size": 482133,
                            "content_type": "application/pdf",
                            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                        }
                    ],
                }
            ]
        },
    )

    percent: int | None = Field(default=None, ge=0, le=100, description="完成百分比 / percent done")
    text: str = Field(min_length=1, max_length=20_000, description="进展或配合情况 / what was done")
    indicator_values: list[IndicatorValueIn] = Field(default_factory=list, max_length=100)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    file_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list,
        max_length=20,
        description="随本次报送的佐证材料（POST /tasks/{id}/files 的 id）/ evidence uploaded for the task",
    )
    missing_contributions: list[MissingContributionIn] = Field(
        default_factory=list,
        max_length=100,
        description="未报送配合情况的配合单位及书面说明 / why a cooperating unit's contribution is missing",
    )


class IndicatorValueOut(BaseModel):
    """A reported value beside the target it was matched to."""

    target_id: int
    indicator: str
    value: float
    unit: str | None = None
    target_value: str = Field(examples=["23%"])
    year: int | None = None
    note: str = ""


class AttachmentOut(BaseModel):
    """Stored attachment metadata (media type and digest in lower case)."""

    name: str
    size: int
    content_type: str
    sha256: str


class ReportView(BaseModel):
    """A progress report or contribution as stored."""

    id: int
    task_id: int
    kind: ReportKind
    department_id: int
    department_code: str | None = None
    department_name: str | None = None
    author_user_id: int | None
    percent: int | None
    text: str
    indicator_values: list[IndicatorValueOut]
    attachments: list[AttachmentOut]
    file_ids: list[int] = Field(default_factory=list, description="所附佐证材料 / evidence files attached")
    created_at: dt.datetime


class ReportPage(BaseModel):
    """One page of reports, oldest first; pass `next_after_id` as `after_id` for the next."""

    items: list[ReportView]
    next_after_id: int | None


class ExtensionIn(BaseModel):
    """延期申请: the deadline asked for and why."""

    model_config = ConfigDict(extra="forbid")

    requested_deadline: dt.date = Field(examples=["2026-03-31"])
    reason: str = Field(min_length=1, max_length=4000, examples=["设备供货延迟，冬季无法施工"])
    file_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default_factory=list, max_length=20)


class DecisionIn(BaseModel):
    """The office's decision: grant (optionally another date than asked) or refuse (reason required)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"grant": True, "reason": "同意延期至明年一季度末", "granted_deadline": "2026-03-31"},
                {"grant": False, "reason": "理由不充分，请按期完成"},
            ]
        },
    )

    grant: bool
    reason: str = Field(default="", max_length=4000)
    granted_deadline: dt.date | None = Field(default=None, description="缺省为申请的时限 / default: as asked")


class ExtensionView(BaseModel):
    """An extension request and its decision."""

    id: int
    task_id: int
    department_id: int
    requested_by_user_id: int | None
    current_deadline: dt.date
    requested_deadline: dt.date
    reason: str
    status: ExtensionStatus
    decided_by_user_id: int | None
    decided_at: dt.datetime | None
    granted_deadline: dt.date | None
    decision_reason: str
    file_ids: list[int] = Field(default_factory=list, description="所附佐证材料 / evidence files attached")
    created_at: dt.datetime


class DecisionResult(BaseModel):
    """The decided request and the task's deadlines and version after it (also the ETag)."""

    extension: ExtensionView
    task_id: int
    deadline: dt.date | None
    original_deadline: dt.date | None
    supervision_level: SupervisionLevel
    version: int


class StatsReport(BaseModel):
    """Scoring inputs per lead department for tasks whose original deadline falls in [start, end]."""

    start: dt.date | None
    end: dt.date | None
    today: dt.date
    departments: list[DepartmentStats]
