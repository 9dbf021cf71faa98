"""Tasks: listings, one task with its ETag and allowed actions, actions with If-Match and Idempotency-Key."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from duban.api.auth import CurrentUser, admit, authenticate, bearer_token
from duban.api.deps import CursorId, IdQuery, SessionDep, TaskId
from duban.api.idempotency import (
    IDEMPOTENCY_KEY_MAX,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    claim,
    remember,
    request_hash,
)
from duban.api.problems import PROBLEM_RESPONSES, PreconditionRequired, register_error_status, too_long
from duban.api.security import TOKEN_PREFIX, decode_access_token
from duban.core.db import Unit, backend_name, unit_scope
from duban.tasks.enums import Role, TaskState
from duban.tasks.models import Task, User
from duban.tasks.task_views import (
    EventView,
    TaskDetail,
    TaskFilter,
    TaskPage,
    list_tasks,
    task_detail,
    task_events,
)
from duban.workflow.batch import BatchRefused
from duban.workflow.errors import ActionForbidden
from duban.workflow.machines import TASK_ACTIONS, Actor
from duban.workflow.onestep import caller_in_statement, one_step, take_action, take_action_as
from duban.workflow.service import (
    ActionOutcome,
    IssueRefused,
    StaleVersion,
    TaskHeader,
    actions_for,
    ensure_visible,
    load_caller_and_header,
    load_header,
    writes_in_one_statement,
)

router = APIRouter(prefix="/api/v1", tags=["tasks"])

register_error_status(StaleVersion, 412)
register_error_status(IssueRefused, 422)
register_error_status(ActionForbidden, 403)
register_error_status(BatchRefused, 422)
register_error_status(IdempotencyKeyReused, 422)
register_error_status(IdempotencyInFlight, 409)

ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    s: PROBLEM_RESPONSES[s] for s in (401, 403, 404, 409, 412, 422, 428)
}


def actor_of(user: User) -> Actor:
    """The workflow's view of a signed-in user."""
    return Actor(role=user.role, department_id=user.department_id, user_id=user.id)


def etag(version: int) -> str:
    """The ETag of a task version."""
    return f'"v{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version named by an If-Match header (None for absent or `*`)."""
    if value is None or value.strip() == "*":
        return None
    found = re.search(r'"?v?(\d+)"?', value.removeprefix("W/"))
    if found is None:
        raise StaleVersion(
            'If-Match 必须是任务的 ETag，例如 "v3"', 'If-Match must be the task\'s ETag, such as "v3"'
        )
    return int(found.group(1))


class ActionBody(BaseModel):
    """What an action may carry."""

    reason: str | None = Field(default=None, max_length=4000, examples=["材料不全，请补充监测数据"])
    new_lead_id: int | None = Field(default=None, description="改派时的新牵头单位 / new lead for reassign")


class ActionTask(BaseModel):
    """The task as the action left it: enough for the next request (`If-Match`) and the next choice."""

    id: int
    state: TaskState
    version: int
    allowed_actions: list[str]


class ActionResult(BaseModel):
    """An accepted action and the task as it now stands."""

    action: str
    from_state: TaskState
    to_state: TaskState
    event_id: int
    task: ActionTask


def _scope(user: User) -> int | None:
    return user.department_id if user.role is Role.department else None


def ensure_readable(session: Unit, user: User, header: TaskHeader) -> None:
    """Departments read only the tasks they lead or cooperate on, once issued: a draft never issued is
    the office's (403 either way; a disputed task back in draft stays readable to its holders)."""
    if user.role is not Role.department:
        return
    ensure_visible(actor_of(user), header)
    if header.state is TaskState.draft and not was_issued(session, header.id):
        raise ActionForbidden(
            "此任务尚未交办，拟办内容仅供委员会办公室查看",
            "This task has not been issued; drafts are for the committee office",
        )


def was_issued(session: Unit, task_id: int) -> bool:
    """Whether the task has ever been issued (交办)."""
    issued_at = session.connection().execute(
        sa.select(Task.__table__.c.issued_at).where(Task.__table__.c.id == task_id)  # type: ignore[attr-defined]
    )
    return issued_at.scalar() is not None


def precondition_required(session: Unit, user: User, task_id: int, header: TaskHeader | None) -> None:
    """Refuse an action without If-Match: 428 naming the task's current ETag (to a caller who may read it)."""
    header = header or load_header(session, task_id)
    ensure_readable(session, user, header)
    raise PreconditionRequired(
        f"缺少 If-Match 请求头：请带上任务的当前 ETag {etag(header.version)} 重试",
        f"If-Match is required: send the task's current ETag {etag(header.version)}",
        etag=etag(header.version),
        version=header.version,
        headers={"ETag": etag(header.version)},
    )


# The route departments' systems call most: first in the router (routes are matched in order), and its
# three headers read from the request, documented here, instead of as FastAPI parameters, whose
# per-request solving costs as much as the action's SQL.
ACTION_HEADERS: list[dict[str, Any]] = [
    {
        "name": "If-Match",
        "in": "header",
        "required": True,
        "description": (
            '任务的 ETag，例如 "v3"；版本已变则 412，缺少则 428 / '
            "the task's ETag; a stale one answers 412, a missing one 428"
        ),
        "schema": {"type": "string", "examples": ['"v3"']},
    },
    {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "同一键与同一请求体只执行一次 / the same key and body act once",
        "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX},
    },
]


@router.post(
    "/tasks/{task_id}/actions/{action}",
    response_model=ActionResult,
    responses=ACTION_RESPONSES,
    openapi_extra={"parameters": ACTION_HEADERS, "security": [{"OAuth2PasswordBearer": []}]},
)
async def post_action(
    request: Request,
    task_id: TaskId,
    action: Annotated[str, Path(description="、".join(TASK_ACTIONS), examples=["accept"])],
    body: ActionBody | None = None,
) -> Any:
    """Take an action on a task (issue, accept, dispute, submit, approve, return, reassign, cancel);
    the answer carries the new state, version and allowed actions (the whole task: `GET`)."""
    return await answer_action(request, task_id, action, body)


async def answer_action(request: Request, task_id: int, action: str, body: ActionBody | None) -> Response:
    """The action once its path and body are valid (served by `action_route` without FastAPI's solving;
    `post_action` declares it for the OpenAPI document)."""
    headers = request.headers
    idempotency_key = headers.get("idempotency-key")
    if idempotency_key is not None and len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise too_long("header", "Idempotency-Key", idempotency_key, IDEMPOTENCY_KEY_MAX)
    # The whole unit of work (who is calling, the action, the commit) runs in one worker thread: the
    # action is a few short statements, and every hop between threads costs about as much as one.
    call = _Call(
        request,
        bearer_token(request),
        task_id,
        action,
        body or ActionBody(),
        headers.get("if-match"),
        idempotency_key,
    )
    return await run_in_threadpool(_act, call)


@dataclass(frozen=True, slots=True)
class _Call:
    """One action request, as the route read it."""

    request: Request
    token: str | None
    task_id: int
    action: str
    body: ActionBody
    if_match: str | None
    idempotency_key: str | None

    @property
    def request_id(self) -> str | None:
        """The id the middleware gave the request."""
        return getattr(self.request.state, "request_id", None)


def _signed_in(token: str | None) -> int | None:
    """The user id a bearer JWT names (None for API tokens, bad tokens and none)."""
    return decode_access_token(token) if token and not token.startswith(TOKEN_PREFIX) else None


def _caller_and_header(
    unit: Unit, request: Request, token: str | None, task_id: int
) -> tuple[User, TaskHeader | None]:
    """Who is calling, and (for a signed-in user) the task read with them in one round trip."""
    user_id = _signed_in(token)
    if user_id is None:  # API tokens and bad tokens take the general path
        return authenticate(unit, request, token), None
    user, header = load_caller_and_header(unit, user_id, task_id)
    return admit(request, user), header


def _by_caller_first(session: Unit, backend: str, call: _Call) -> tuple[User, ActionOutcome | Response]:
    """The action after reading the caller: the precondition, a stored answer to a repeated
    Idempotency-Key (returned as it was), then `take_action`."""
    if call.if_match is not None and one_step(backend, call.action):  # the action's statement reads the task
        user, header = authenticate(session, call.request, call.token), None
    else:
        user, header = _caller_and_header(session, call.request, call.token, call.task_id)
    assert user.id is not None
    if call.if_match is None:
        precondition_required(session, user, call.task_id, header)
    if call.idempotency_key:
        fingerprint = request_hash("POST", call.request.url.path, call.body.model_dump())
        stored = claim(session, user.id, call.idempotency_key, fingerprint)
        if stored is not None:
            return user, JSONResponse(
                stored.response_body, status_code=stored.status_code, headers=dict(stored.response_headers)
            )
    outcome = take_action(
        session,
        call.task_id,
        call.action,
        actor_of(user),
        reason=call.body.reason,
        expected_version=parse_if_match(call.if_match),
        request_id=call.request_id,
        new_lead_id=call.body.new_lead_id,
        actor_label=user.label,
        header=header,
    )
    return user, outcome


def _act(call: _Call) -> Response:
    # An action that is one statement needs no transaction around it (its reads are checked again by the
    # guarded UPDATE); an Idempotency-Key's record must commit with the action, so it takes one.
    atomic = bool(call.idempotency_key) or not writes_in_one_statement(call.action, backend_name())
    with unit_scope(atomic=atomic) as session:
        backend = session.connection().dialect.name  # the unit's own database (tests hand in theirs)
        user_id = _signed_in(call.token) if call.if_match is not None and not call.idempotency_key else None
        if user_id is not None and caller_in_statement(backend, call.action, call.body.reason):
            # One round trip: the action's statement reads the caller and the task, and guards on both.
            user, outcome = take_action_as(
                session,
                user_id,
                call.task_id,
                call.action,
                lambda found: admit(call.request, found),
                reason=call.body.reason,
                expected_version=parse_if_match(call.if_match),
                request_id=call.request_id,
            )
        else:
            user, answer = _by_caller_first(session, backend, call)
            if isinstance(answer, Response):
                return answer
            outcome = answer
        task = ActionTask(
            id=call.task_id,
            state=outcome.to_state,
            version=outcome.version,
            allowed_actions=actions_for(actor_of(user), outcome.header),
        )
        result = ActionResult(
            action=call.action,
            from_state=outcome.from_state,
            to_state=outcome.to_state,
            event_id=outcome.event_id,
            task=task,
        )
        headers = {"ETag": etag(outcome.version)}
        if call.idempotency_key:
            assert user.id is not None
            remember(session, user.id, call.idempotency_key, 200, result.model_dump(mode="json"), headers)
    # Serialised by pydantic-core straight to JSON: the same bytes as the GET's model, for less.
    return Response(result.model_dump_json(), media_type="application/json", headers=headers)


@router.get("/tasks", response_model=TaskPage, responses={s: PROBLEM_RESPONSES[s] for s in (401, 422)})
def get_tasks(
    session: SessionDep,
    user: CurrentUser,
    state: Annotated[list[TaskState] | None, Query()] = None,
    lead: IdQuery = None,
    department: IdQuery = None,
    plan_id: IdQuery = None,
    overdue: bool | None = None,
    due_before: dt.date | None = None,
    after_id: CursorId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TaskPage:
    """Tasks, filtered; a department sees only issued tasks it leads or cooperates on."""
    flt = TaskFilter(tuple(state or ()), lead, department, plan_id, overdue, due_before, after_id, limit)
    return list_tasks(session, flt, _scope(user))


@router.get("/overdue", response_model=TaskPage, responses={s: PROBLEM_RESPONSES[s] for s in (401, 403)})
def get_overdue(
    session: SessionDep,
    user: CurrentUser,
    after_id: CursorId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TaskPage:
    """The office's review list: every open task past its deadline."""
    if user.role not in (Role.office, Role.admin):
        raise ActionForbidden("逾期清单仅供委员会办公室查看", "The overdue list is for the committee office")
    return list_tasks(session, TaskFilter(overdue=True, after_id=after_id, limit=limit))


@router.get(
    "/tasks/{task_id}",
    response_model=TaskDetail,
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 403, 404)},
)
def get_one_task(session: SessionDep, user: CurrentUser, task_id: TaskId, response: Response) -> TaskDetail:
    """One task with its version (also as ETag) and the actions the caller may take."""
    actor = actor_of(user)
    header = load_header(session, task_id)
    ensure_readable(session, user, header)
    response.headers["ETag"] = etag(header.version)
    return task_detail(session, task_id, actions_for(actor, header))


@router.get(
    "/tasks/{task_id}/events",
    response_model=list[EventView],
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 403, 404)},
)
def get_events(
    session: SessionDep,
    user: CurrentUser,
    task_id: TaskId,
    after_id: CursorId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[EventView]:
    """The task's audit log: who did what, when, from which state to which, and why."""
    ensure_readable(session, user, load_header(session, task_id))
    return task_events(session, task_id, after_id, limit)
