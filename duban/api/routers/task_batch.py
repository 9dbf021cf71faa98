"""Batch actions: one action on many tasks, each item answering for itself as the single-task route would."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from duban.api.auth import CurrentUser
from duban.api.deps import SessionDep
from duban.api.problems import PROBLEM_RESPONSES
from duban.api.routers.batch_schemas import BatchActionBody, BatchActionResult, BatchItemResult, problem_of
from duban.api.routers.tasks import actor_of, ensure_readable, etag, parse_if_match
from duban.core.errors import DubanError
from duban.tasks.models import User
from duban.workflow.batch import (
    BATCH_ACTIONS,
    BatchItem,
    BatchOptions,
    ItemFailed,
    ItemResult,
    check_batch,
    run_batch,
)
from duban.workflow.service import actions_for

router = APIRouter(prefix="/api/v1", tags=["tasks"])

BATCH_ACTION_PATTERN = f"^({'|'.join(BATCH_ACTIONS)})$"


def _item_result(result: ItemResult, user: User) -> BatchItemResult:
    if isinstance(result, ItemFailed):
        problem = problem_of(result.error)
        current = result.error.extra.get("etag")
        return BatchItemResult(
            id=result.task_id,
            status=int(problem["status"]),
            etag=current if isinstance(current, str) else None,
            problem=problem,
        )
    return BatchItemResult(
        id=result.task_id,
        status=200,
        etag=etag(result.version),
        version=result.version,
        moved_from=result.moved_from,
        moved_to=result.moved_to,
        event_id=result.event_id,
        allowed_actions=actions_for(actor_of(user), result.header) if result.header else None,
    )


@router.post(
    "/tasks/actions/{action}",
    response_model=BatchActionResult,
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 404, 422)},
)
def post_batch_action(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    action: Annotated[str, Path(pattern=BATCH_ACTION_PATTERN, description="、".join(BATCH_ACTIONS))],
    body: BatchActionBody,
) -> BatchActionResult:
    """Take one action on many tasks (at most 200): each item is its own action (its own authorization,
    If-Match check and event) and answers for itself, in order: `status` 200 with the new `etag`, or the
    problem the single-task route would answer (403, 404, 409, 412 with the current version …)."""
    check_batch(action, [BatchItem(item.id) for item in body.items])
    answers: dict[int, ItemResult] = {}
    ready: list[tuple[int, BatchItem]] = []
    for position, item in enumerate(body.items):
        try:
            ready.append((position, BatchItem(item.id, parse_if_match(item.if_match))))
        except DubanError as error:
            answers[position] = ItemFailed(item.id, error)
    options = BatchOptions(
        reason=body.reason,
        new_lead_id=body.new_lead_id,
        request_id=getattr(request.state, "request_id", None),
        actor_label=user.label,
        guard=lambda unit, header: ensure_readable(unit, user, header),
    )
    if ready:
        done = run_batch(session, action, actor_of(user), [item for _, item in ready], options)
        answers.update({position: result for (position, _), result in zip(ready, done, strict=True)})
    items = [_item_result(answers[position], user) for position in range(len(body.items))]
    succeeded = sum(1 for item in items if item.status == 200)
    return BatchActionResult(action=action, succeeded=succeeded, failed=len(items) - succeeded, items=items)
