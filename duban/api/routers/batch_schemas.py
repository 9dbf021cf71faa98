"""The batch action's body and answer (`POST /api/v1/tasks/actions/{action}`): items in, one answer each."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from duban.api.deps import MAX_ID
from duban.api.problems import problem_response, status_for
from duban.core.errors import DubanError
from duban.workflow.batch import MAX_BATCH_ITEMS


class BatchActionItem(BaseModel):
    """One task of a batch: its id and the ETag the caller last saw (`"*"`: whatever version it has)."""

    id: int = Field(ge=1, le=MAX_ID, examples=[42])
    if_match: str = Field(
        min_length=1, max_length=32, examples=['"v3"'], description='任务的 ETag，"*" 为任意版本'
    )


class BatchActionBody(BaseModel):
    """A batch: the tasks, and what every item shares (the reason; a reassign's new lead)."""

    items: list[BatchActionItem] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)
    reason: str | None = Field(default=None, max_length=4000, examples=["已部署落实"])
    new_lead_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="改派时的新牵头单位")


class BatchItemResult(BaseModel):
    """How one item went: 200 with the new ETag, or its own status and problem."""

    id: int
    status: int = Field(examples=[200, 412])
    etag: str | None = Field(default=None, examples=['"v4"'])
    version: int | None = None
    moved_from: str | None = Field(default=None, examples=["assigned"])
    moved_to: str | None = Field(default=None, examples=["in_progress"])
    event_id: int | None = None
    allowed_actions: list[str] | None = None
    problem: dict[str, Any] | None = Field(
        default=None,
        description="RFC 9457 problem（type、status、detail、code …）/ why it was refused",
    )


class BatchActionResult(BaseModel):
    """Every item's answer, in the order sent; one refused item never undoes the others."""

    action: str
    succeeded: int
    failed: int
    items: list[BatchItemResult]


def problem_of(error: DubanError) -> dict[str, Any]:
    """A domain error as the problem document the single-task route would answer."""
    extra = {k: v for k, v in error.extra.items() if k not in _PROBLEM_KEYS}
    answer = problem_response(
        status_for(error), f"{error.message_zh} / {error.message_en}", error.code, **extra
    )
    body: dict[str, Any] = json.loads(bytes(answer.body))
    return body


_PROBLEM_KEYS = frozenset({"type", "title", "status", "detail", "code", "instance", "headers"})
