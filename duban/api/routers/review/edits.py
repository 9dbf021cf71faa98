"""Office review before issuing: edit a draft task, bulk edit, the review list, split by region, roll-ups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from duban.api.auth import CurrentUser
from duban.api.deps import SessionDep
from duban.api.problems import PROBLEM_RESPONSES
from duban.api.routers.review.schemas import (
    MAX_ID,
    BulkEditIn,
    BulkEditResult,
    EditResult,
    RegionsView,
    SplitIn,
    SplitResultView,
    TaskPatch,
)
from duban.api.routers.tasks import actor_of, ensure_readable, etag, parse_if_match
from duban.tasks.enums import Role
from duban.tasks.models import User
from duban.tasks.regions_split import rollup, split_regions
from duban.tasks.review import ReviewList, TaskEdit, bulk_edit, edit_task, review_list
from duban.tasks.review.listing import child_items, rollup_view
from duban.tasks.task_views import TaskDetail, get_task, task_detail
from duban.workflow.errors import ActionForbidden
from duban.workflow.service import actions_for, load_header

router = APIRouter(prefix="/api/v1")

TaskId = Annotated[int, Path(ge=1, le=MAX_ID)]
PlanId = Annotated[int, Path(ge=1, le=MAX_ID)]
IfMatch = Annotated[str | None, Header(description='任务的 ETag，例如 "v3" / the task\'s ETag')]


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem responses of an endpoint."""
    return {s: PROBLEM_RESPONSES[s] for s in statuses}


def require_office(user: User) -> None:
    """Only the committee office (or an administrator) reviews and edits before issuing."""
    if user.role not in (Role.office, Role.admin):
        raise ActionForbidden("只有委员会办公室可以审定分工", "Only the committee office reviews assignments")


def _detail(session: SessionDep, user: User, task_id: int) -> JSONResponse:
    actor = actor_of(user)
    header = load_header(session, task_id)
    detail = task_detail(session, task_id, actions_for(actor, header))
    return JSONResponse(jsonable_encoder(detail), headers={"ETag": etag(header.version)})


@router.patch(
    "/tasks/{task_id}",
    tags=["tasks"],
    response_model=TaskDetail,
    responses=responses(401, 403, 404, 409, 412, 422),
)
def patch_task(
    session: SessionDep, user: CurrentUser, task_id: TaskId, body: TaskPatch, if_match: IfMatch = None
) -> Any:
    """Edit a draft task's lead, cooperating units and deadline (office only; audited as an "edit" event)."""
    require_office(user)
    get_task(session, task_id)
    edit_task(
        session,
        TaskEdit(
            task_id=task_id,
            lead=body.lead,
            cooperating=body.cooperating,
            deadline=body.deadline,
            expected_version=parse_if_match(if_match),
            remark=body.remark,
        ),
        actor_user_id=user.id,
        actor_label=user.label,
    )
    return _detail(session, user, task_id)


@router.post(
    "/plans/{plan_id}/tasks/bulk-edit",
    tags=["plans"],
    response_model=BulkEditResult,
    responses=responses(401, 403, 404, 422),
)
def post_bulk_edit(
    session: SessionDep, user: CurrentUser, plan_id: PlanId, body: BulkEditIn
) -> BulkEditResult:
    """Edit many draft tasks of a plan at once; all or nothing (422 lists every item at fault)."""
    require_office(user)
    _plan_exists(session, plan_id)
    outcomes = bulk_edit(
        session,
        plan_id,
        [
            TaskEdit(
                task_id=item.task_id,
                lead=item.lead,
                cooperating=item.cooperating,
                deadline=item.deadline,
                expected_version=item.version,
                remark=item.remark,
            )
            for item in body.edits
        ],
        actor_user_id=user.id,
        actor_label=user.label,
    )
    results = [
        EditResult(task_id=o.task_id, version=o.version, event_id=o.event_id, changed=o.changed)
        for o in outcomes
    ]
    return BulkEditResult(plan_id=plan_id, changed=sum(1 for r in results if r.changed), results=results)


def _plan_exists(session: SessionDep, plan_id: int) -> None:
    from duban.tasks.errors import NotFoundError
    from duban.tasks.models import Plan

    if session.get(Plan, plan_id) is None:
        raise NotFoundError(f"规划 {plan_id} 不存在", f"Plan {plan_id} does not exist")


@router.get(
    "/plans/{plan_id}/review",
    tags=["plans"],
    response_model=ReviewList,
    responses=responses(401, 403, 404),
)
def get_review(session: SessionDep, user: CurrentUser, plan_id: PlanId) -> ReviewList:
    """The office's review list: each task with the rules' proposal and why; disputed tasks first."""
    require_office(user)
    return review_list(session, plan_id)


def _regions(session: SessionDep, parent_id: int) -> RegionsView:
    view = rollup_view(rollup(session, parent_id))
    assert view is not None
    return RegionsView(parent_id=parent_id, rollup=view, children=child_items(session, parent_id))


@router.post(
    "/tasks/{task_id}/split-regions",
    tags=["tasks"],
    response_model=SplitResultView,
    status_code=201,
    responses=responses(401, 403, 404, 409, 412, 422),
)
def post_split(
    session: SessionDep,
    user: CurrentUser,
    task_id: TaskId,
    response: Response,
    body: SplitIn | None = None,
    if_match: IfMatch = None,
) -> SplitResultView:
    """Split a draft task addressed to 各盟市 into one child task per 盟市, each led by that 盟市's
    government; idempotent (200 when every region already has its child)."""
    require_office(user)
    result = split_regions(
        session,
        task_id,
        actor_user_id=user.id,
        actor_label=user.label,
        expected_version=parse_if_match(if_match),
        regions=(body.regions if body else None),
    )
    if not result.created:
        response.status_code = 200
    response.headers["ETag"] = etag(result.version)
    regions = _regions(session, task_id)
    return SplitResultView(
        **regions.model_dump(),
        created=result.created,
        existing=result.existing,
        event_id=result.event_id,
        version=result.version,
    )


@router.get(
    "/tasks/{task_id}/regions",
    tags=["tasks"],
    response_model=RegionsView,
    responses=responses(401, 403, 404),
)
def get_regions(session: SessionDep, user: CurrentUser, task_id: TaskId) -> RegionsView:
    """A split task's regional children and their roll-up (states, completed, overdue) computed in SQL."""
    ensure_readable(session, user, load_header(session, task_id))
    return _regions(session, task_id)
