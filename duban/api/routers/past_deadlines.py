"""Deadlines already past on the issue date: the list before 交办, new deadlines in bulk, and the issue
request that confirms them (included in the plans router)."""

from __future__ import annotations

import datetime as dt
from typing import Self

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from duban.api.auth import CurrentUser
from duban.api.deps import MAX_ID, PlanId, SessionDep
from duban.api.problems import PROBLEM_RESPONSES
from duban.api.routers.tasks import actor_of
from duban.core import clock
from duban.notifications.calendars import working_calendar
from duban.tasks.enums import Role
from duban.tasks.errors import NotFoundError, TasksError
from duban.tasks.models import Plan, User
from duban.workflow.errors import ActionForbidden
from duban.workflow.issuing import PastDeadline, issue_plan, past_deadlines, set_deadlines

router = APIRouter(tags=["plans"])


class PastDeadlineView(BaseModel):
    """A draft task whose deadline is before the issue date."""

    id: int = Field(examples=[42])
    title: str
    path: str = Field(examples=["三 （二）"])
    version: int = Field(examples=[1])
    deadline: dt.date = Field(examples=["2020-12-31"])
    working_days_overdue: int = Field(examples=[1466])
    message_zh: str
    message_en: str


class PastDeadlinesView(BaseModel):
    """Every draft of a plan whose deadline is before the issue date (today)."""

    plan_id: int
    issue_date: dt.date
    count: int
    tasks: list[PastDeadlineView]


class DeadlineItem(BaseModel):
    """A new deadline for one task."""

    model_config = ConfigDict(extra="forbid")

    task_id: int = Field(ge=1, le=MAX_ID, examples=[42])
    deadline: dt.date = Field(examples=["2027-06-30"])
    version: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="期望的任务版本 / expected version"
    )


class NewDeadlinesIn(BaseModel):
    """New deadlines: one for the listed tasks (`task_ids` + `deadline`), or one per task (`deadlines`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"task_ids": [42, 43], "deadline": "2027-06-30", "remark": "重新确定"}]
        },
    )

    task_ids: list[int] | None = Field(default=None, min_length=1, max_length=2000)
    deadline: dt.date | None = None
    deadlines: list[DeadlineItem] | None = Field(default=None, min_length=1, max_length=2000)
    remark: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        """Either one deadline for the listed tasks, or a deadline per task."""
        if (self.deadlines is None) == (self.task_ids is None or self.deadline is None):
            raise ValueError("give task_ids with deadline, or deadlines — not both, not neither")
        if self.task_ids is not None and any(not 1 <= i <= MAX_ID for i in self.task_ids):
            raise ValueError("task_ids must be task ids")
        return self

    def by_task(self) -> dict[int, tuple[dt.date, int | None]]:
        """Each task's new deadline and expected version."""
        if self.deadlines is not None:
            return {item.task_id: (item.deadline, item.version) for item in self.deadlines}
        assert self.task_ids is not None and self.deadline is not None
        return {task_id: (self.deadline, None) for task_id in self.task_ids}


class NewDeadlinesResult(BaseModel):
    """The tasks whose deadline changed, and the past deadlines still left."""

    plan_id: int
    changed: list[int]
    remaining: PastDeadlinesView


class PlanIssueResult(BaseModel):
    """The tasks a plan issue moved to assigned."""

    plan_id: int
    issued: int
    task_ids: list[int]


class IssueIn(BaseModel):
    """What an issue request says about past deadlines: confirm them as they are, or new ones first."""

    model_config = ConfigDict(extra="forbid")

    confirm_past_deadlines: bool = Field(
        default=False,
        description="按原时限交办（督办从交办之日起计）/ issue them as they are (ladder from today)",
    )
    deadlines: list[DeadlineItem] = Field(default_factory=list, max_length=2000)


def _office(user: User) -> None:
    if user.role not in (Role.office, Role.admin):
        raise ActionForbidden("只有委员会办公室可以交办", "Only the committee office issues tasks")


def _plan(session: Session, plan_id: int) -> None:
    if session.get(Plan, plan_id) is None:
        raise NotFoundError(f"规划 {plan_id} 不存在", f"Plan {plan_id} does not exist")


def _view(plan_id: int, today: dt.date, found: list[PastDeadline]) -> PastDeadlinesView:
    return PastDeadlinesView(
        plan_id=plan_id,
        issue_date=today,
        count=len(found),
        tasks=[PastDeadlineView.model_validate(item.to_json()) for item in found],
    )


def past_deadline_view(session: Session, plan_id: int) -> PastDeadlinesView:
    """The plan's past deadlines as of today."""
    today = clock.today()
    return _view(plan_id, today, past_deadlines(session, plan_id, working_calendar(session), today))


@router.get(
    "/plans/{plan_id}/past-deadlines",
    response_model=PastDeadlinesView,
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 403, 404)},
)
def get_past_deadlines(session: SessionDep, user: CurrentUser, plan_id: PlanId) -> PastDeadlinesView:
    """The plan's drafts whose deadline is before today, the issue date (office only), oldest first."""
    _office(user)
    _plan(session, plan_id)
    return past_deadline_view(session, plan_id)


def _apply(
    session: Session, plan_id: int, user: User, new: dict[int, tuple[dt.date, int | None]], remark: str
) -> list[int]:
    today = clock.today()
    early = sorted(task_id for task_id, (deadline, _) in new.items() if deadline < today)
    if early:
        raise TasksError(
            f"新的完成时限不能早于今天（{today.isoformat()}）：任务 {'、'.join(map(str, early))}",
            f"A new deadline cannot be before today ({today.isoformat()}): tasks "
            f"{', '.join(map(str, early))}",
            code="deadline_before_today",
            tasks=early,
        )
    return set_deadlines(
        session,
        plan_id,
        {task_id: deadline for task_id, (deadline, _) in new.items()},
        versions={task_id: version for task_id, (_, version) in new.items() if version is not None},
        actor_user_id=user.id,
        actor_label=user.label,
        remark=remark,
    )


@router.post(
    "/plans/{plan_id}/past-deadlines",
    response_model=NewDeadlinesResult,
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 403, 404, 409, 422)},
)
def post_new_deadlines(
    session: SessionDep, user: CurrentUser, plan_id: PlanId, body: NewDeadlinesIn
) -> NewDeadlinesResult:
    """New deadlines for many drafts at once — one for all the listed tasks, or one per task; all or nothing,
    each audited as a draft edit. Answers what changed and the past deadlines still left."""
    _office(user)
    _plan(session, plan_id)
    changed = _apply(session, plan_id, user, body.by_task(), body.remark)
    return NewDeadlinesResult(
        plan_id=plan_id, changed=changed, remaining=past_deadline_view(session, plan_id)
    )


def issue_as_requested(
    session: Session, plan_id: int, user: User, body: IssueIn | None, request_id: str | None = None
) -> list[int]:
    """交办 as an issue request asks: its new deadlines first, then refused (409 `past_deadlines`, with the
    list) while a deadline is before today unless the request confirms them as they are."""
    _office(user)
    _plan(session, plan_id)
    request = body or IssueIn()
    if request.deadlines:
        new = {item.task_id: (item.deadline, item.version) for item in request.deadlines}
        _apply(session, plan_id, user, new, "交办时设置新的完成时限 / new deadline set when issuing")
    return issue_plan(
        session,
        plan_id,
        actor_of(user),
        request_id,
        confirm_past_deadlines=request.confirm_past_deadlines,
        calendar=working_calendar(session),
    )


@router.post(
    "/plans/{plan_id}/issue",
    response_model=PlanIssueResult,
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 403, 404, 409, 422)},
)
def post_plan_issue(
    request: Request, session: SessionDep, user: CurrentUser, plan_id: PlanId, body: IssueIn | None = None
) -> PlanIssueResult:
    """交办: issue every draft task of the plan at once; refused, with the list, while any lacks a lead
    or a deadline, or (409 `past_deadlines`) while a deadline is already past unless the request confirms
    them or sets new ones."""
    issued = issue_as_requested(session, plan_id, user, body, getattr(request.state, "request_id", None))
    return PlanIssueResult(plan_id=plan_id, issued=len(issued), task_ids=issued)
