"""The supervision ladder by hand: the office confirms 约谈 and 问责 (the scheduler only proposes them), or
issues a reminder, 催办 or 督办单 itself. `POST /api/v1/tasks/{id}/ladder/{action}`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel, Field

from duban.api.auth import CurrentUser
from duban.api.deps import SessionDep
from duban.api.problems import PROBLEM_RESPONSES
from duban.api.routers.tasks import actor_of, etag, parse_if_match
from duban.tasks.enums import NoticeColour, SupervisionLevel
from duban.workflow.machines import LADDER_ACTIONS
from duban.workflow.sweep import apply_ladder_action

router = APIRouter(prefix="/api/v1", tags=["tasks"])

LADDER_RESPONSES: dict[int | str, dict[str, Any]] = {
    s: PROBLEM_RESPONSES[s] for s in (401, 403, 404, 409, 412, 422)
}


class LadderBody(BaseModel):
    """What a ladder action may carry."""

    reason: str | None = Field(
        default=None, max_length=4000, examples=["逾期 15 个工作日，经主任办公会研究同意约谈"]
    )
    colour: NoticeColour | None = Field(
        default=None, description="督办单颜色（supervise 时可核对）/ expected notice colour for supervise"
    )


class LadderResult(BaseModel):
    """An accepted ladder move."""

    task_id: int
    action: str
    from_level: SupervisionLevel
    to_level: SupervisionLevel
    notice_colour: NoticeColour | None
    version: int
    event_id: int


@router.post("/tasks/{task_id}/ladder/{action}", response_model=LadderResult, responses=LADDER_RESPONSES)
def post_ladder_action(
    request: Request,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    task_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    action: Annotated[str, Path(description="、".join(LADDER_ACTIONS), examples=["interview"])],
    body: LadderBody | None = None,
    if_match: Annotated[str | None, Header(description='任务的 ETag，例如 "v3"')] = None,
) -> LadderResult:
    """Move the task up the supervision ladder (office only; interview and hold_accountable need the
    rung the scheduler proposes them from)."""
    body = body or LadderBody()
    outcome = apply_ladder_action(
        session,
        task_id,
        action,
        actor_of(user),
        reason=body.reason,
        expected_version=parse_if_match(if_match),
        request_id=getattr(request.state, "request_id", None),
        actor_label=user.label,
        notice_colour=body.colour,
    )
    response.headers["ETag"] = etag(outcome.version)
    return LadderResult(
        task_id=task_id,
        action=action,
        from_level=outcome.from_rung.level,
        to_level=outcome.to_rung.level,
        notice_colour=outcome.colour,
        version=outcome.version,
        event_id=outcome.event_id,
    )
