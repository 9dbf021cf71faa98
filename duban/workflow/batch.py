"""Many tasks, one action each: a department's 批量签收, the office's 批量催办 / 批量升级督办 /
批量审批延期, an OA system's list. Every item is its own action through the one service (its own
authorization, version check and event) in a savepoint of its own: a refused item undoes no other."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.core.db import Unit
from duban.core.errors import DubanError
from duban.tasks.errors import NotFoundError
from duban.tasks.models import TaskEvent
from duban.workflow.errors import RecordNotAllowed, WorkflowError
from duban.workflow.machines import LADDER_ACTIONS, TASK_ACTIONS, Actor
from duban.workflow.models import ExtensionRequest, ExtensionStatus
from duban.workflow.records import decide_extension
from duban.workflow.service import TaskHeader, apply_action, check_version, load_header
from duban.workflow.sweep import apply_ladder_action

MAX_BATCH_ITEMS: Final = 200
EXTEND: Final = "grant_extension"  # the board's 批量审批延期: grant each selected task's pending request
BATCH_ACTIONS: Final[tuple[str, ...]] = (*TASK_ACTIONS, *LADDER_ACTIONS, EXTEND)

extension_t = ExtensionRequest.__table__  # type: ignore[attr-defined]
event_t = TaskEvent.__table__  # type: ignore[attr-defined]


class BatchRefused(WorkflowError):
    """A batch refused as a whole before any item ran: empty, too long, or an action no batch takes (422)."""

    code = "batch_invalid"


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One task of a batch: its id, the version the caller saw (None: any) and its own reason, if any."""

    task_id: int
    expected_version: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ItemDone:
    """An item the action was taken on: the task's new version and the event it wrote."""

    task_id: int
    version: int
    event_id: int
    moved_from: str
    moved_to: str
    header: TaskHeader | None = None  # for a task action: the task as the action left it


@dataclass(frozen=True, slots=True)
class ItemFailed:
    """An item refused, with the domain error that says why."""

    task_id: int
    error: DubanError


ItemResult = ItemDone | ItemFailed
Guard = Callable[[Unit, TaskHeader], None]


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """What every item of a batch shares: the reason (an item's own wins), a reassign's new lead, the
    audit trail, and a check of the caller's right to read each task before acting on it."""

    reason: str | None = None
    new_lead_id: int | None = None
    request_id: str | None = None
    actor_label: str = ""
    guard: Guard | None = None


def check_batch(action: str, items: Sequence[BatchItem]) -> None:
    """Refuse a batch as a whole (422) when it is empty, too long or names an action no batch takes."""
    if action not in BATCH_ACTIONS:
        raise BatchRefused(
            f"批量办理不支持操作“{action}”，可用：{'、'.join(BATCH_ACTIONS)}",
            f"No batch takes the action {action!r}; use one of {', '.join(BATCH_ACTIONS)}",
            code="unknown_action",
            allowed_actions=list(BATCH_ACTIONS),
        )
    if not items:
        raise BatchRefused("请至少选择一项任务", "Select at least one task", code="batch_empty")
    if len(items) > MAX_BATCH_ITEMS:
        raise BatchRefused(
            f"一次最多办理 {MAX_BATCH_ITEMS} 项任务（本次 {len(items)} 项）",
            f"At most {MAX_BATCH_ITEMS} tasks at once ({len(items)} sent)",
            code="batch_too_large",
            limit=MAX_BATCH_ITEMS,
        )


@contextmanager
def _savepoint(unit: Unit) -> Iterator[None]:
    nested = unit.begin_nested() if isinstance(unit, Session) else unit.connection().begin_nested()
    try:
        yield
    except BaseException:
        nested.rollback()
        raise
    nested.commit()


def run_batch(
    unit: Unit, action: str, actor: Actor, items: Sequence[BatchItem], options: BatchOptions
) -> list[ItemResult]:
    """Take `action` on every item in order, each in its own savepoint; answer per item, in order."""
    check_batch(action, items)
    results: list[ItemResult] = []
    for item in items:
        try:
            with _savepoint(unit):
                results.append(_one(unit, action, actor, item, options))
        except DubanError as error:
            results.append(ItemFailed(item.task_id, error))
    return results


def _one(unit: Unit, action: str, actor: Actor, item: BatchItem, options: BatchOptions) -> ItemDone:
    header = load_header(unit, item.task_id)
    if options.guard is not None:
        options.guard(unit, header)
    reason = item.reason if item.reason is not None else options.reason
    if action in TASK_ACTIONS:
        outcome = apply_action(
            unit,
            item.task_id,
            action,
            actor,
            reason=reason,
            expected_version=item.expected_version,
            request_id=options.request_id,
            new_lead_id=options.new_lead_id,
            actor_label=options.actor_label,
            header=header,
        )
        return ItemDone(
            item.task_id,
            outcome.version,
            outcome.event_id,
            outcome.from_state.value,
            outcome.to_state.value,
            outcome.header,
        )
    if not isinstance(unit, Session):
        raise TypeError("ladder actions and extension decisions run in an ORM session")
    if action == EXTEND:
        return _grant_extension(unit, actor, item, header, reason, options)
    ladder = apply_ladder_action(
        unit,
        item.task_id,
        action,
        actor,
        reason=reason,
        expected_version=item.expected_version,
        request_id=options.request_id,
        actor_label=options.actor_label,
    )
    return ItemDone(
        item.task_id, ladder.version, ladder.event_id, ladder.from_rung.value, ladder.to_rung.value
    )


def _grant_extension(
    session: Session,
    actor: Actor,
    item: BatchItem,
    header: TaskHeader,
    reason: str | None,
    options: BatchOptions,
) -> ItemDone:
    """Grant the task's pending extension request to the date asked for (after the version check)."""
    check_version(header.version, item.expected_version)
    pending = (
        session.connection()
        .execute(
            sa.select(extension_t.c.id)
            .where(
                extension_t.c.task_id == item.task_id, extension_t.c.status == ExtensionStatus.pending.value
            )
            .order_by(extension_t.c.id.desc())
        )
        .first()
    )
    if pending is None:
        raise RecordNotAllowed(
            "此任务没有待审批的延期申请",
            "This task has no pending extension request",
            code="no_pending_extension",
        )
    extension = decide_extension(
        session,
        int(pending.id),
        actor,
        True,
        reason or "",
        request_id=options.request_id,
        actor_label=options.actor_label,
    )
    after = load_header(session, item.task_id)
    granted = extension.granted_deadline or extension.requested_deadline
    event = _last_event_id(session, item.task_id)
    return ItemDone(
        item.task_id, after.version, event, extension.current_deadline.isoformat(), granted.isoformat()
    )


def _last_event_id(session: Session, task_id: int) -> int:
    found = (
        session.connection()
        .execute(sa.select(sa.func.max(event_t.c.id)).where(event_t.c.task_id == task_id))
        .scalar()
    )
    if found is None:
        raise NotFoundError(f"任务 {task_id} 没有事件", f"Task {task_id} has no event")
    return int(found)
