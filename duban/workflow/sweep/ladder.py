"""Moves on the supervision ladder: the scheduler's (set-based, after its notices are claimed) and the
office's (one task, through the ladder endpoint; 约谈 and 问责 happen only this way)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock, jobs
from duban.tasks.enums import NoticeColour, SupervisionLevel, TaskState
from duban.tasks.models import TaskEvent
from duban.workflow.errors import TransitionNotAllowed
from duban.workflow.machines import Actor, Rung, check_ladder_action, escalate_to, rung_of
from duban.workflow.policy import ISSUED_STATES, task_t
from duban.workflow.service import StaleVersion, check_version, kind_of, load_header

event_t: Final = TaskEvent.__table__  # type: ignore[attr-defined]
SCHEDULER_LABEL: Final = "调度程序 / scheduler"
_CHUNK: Final = 2000


@dataclass(frozen=True, slots=True)
class LadderTarget:
    """Where a claimed notice takes a task's ladder, and which notice it was."""

    rung: Rung
    rule: str
    step: str
    period: str


def raise_levels(
    session: Session, targets: Mapping[int, LadderTarget], now: dt.datetime | None = None
) -> int:
    """Climb each task to its target rung if it stands lower (never down); one event per task moved."""
    moment = now or clock.now()
    conn = session.connection()
    groups: dict[tuple[Rung, Rung], list[int]] = defaultdict(list)
    ids = sorted(targets)
    for start in range(0, len(ids), _CHUNK):
        query = sa.select(task_t.c.id, task_t.c.supervision_level, task_t.c.notice_colour).where(
            task_t.c.id.in_(ids[start : start + _CHUNK])
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        for row in conn.execute(query):
            current = rung_of(row.supervision_level, row.notice_colour)
            if targets[row.id].rung.rank > current.rank:
                groups[(current, targets[row.id].rung)].append(row.id)
    moved = 0
    for (current, target), task_ids in groups.items():
        steps = escalate_to(current.level, current.colour, target.level, target.colour)
        colour = target.colour.value if target.colour else None
        for start in range(0, len(task_ids), _CHUNK):
            chunk = task_ids[start : start + _CHUNK]
            guard = [task_t.c.id.in_(chunk), task_t.c.supervision_level == current.level.value]
            if current.colour is not None:  # the colour is part of the rung only while supervised
                guard.append(task_t.c.notice_colour == current.colour.value)
            values: dict[str, Any] = {
                "supervision_level": target.level.value,
                "version": task_t.c.version + 1,
                "updated_at": moment,
            }
            if colour is not None:
                values["notice_colour"] = colour
            updated = [
                row.id
                for row in conn.execute(task_t.update().where(*guard).values(**values).returning(task_t.c.id))
            ]
            if not updated:
                continue
            conn.execute(
                event_t.insert(),
                [
                    {
                        "task_id": task_id,
                        "kind": steps[-1].action,
                        "actor_user_id": None,
                        "actor_department_id": None,
                        "actor_label": SCHEDULER_LABEL,
                        "from_level": current.level.value,
                        "to_level": target.level.value,
                        "reason": "",
                        "data": {
                            "rule": targets[task_id].rule,
                            "step": targets[task_id].step,
                            "period": targets[task_id].period,
                            "from_rung": current.value,
                            "to_rung": target.value,
                            "colour": colour,
                            "actions": [s.action for s in steps],
                        },
                        "request_id": None,
                        "created_at": moment,
                    }
                    for task_id in updated
                ],
            )
            moved += len(updated)
    return moved


@dataclass(frozen=True, slots=True)
class LadderOutcome:
    """An accepted ladder action."""

    task_id: int
    action: str
    from_rung: Rung
    to_rung: Rung
    version: int
    event_id: int
    colour: NoticeColour | None = None


def apply_ladder_action(
    session: Session,
    task_id: int,
    action: str,
    actor: Actor,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    request_id: str | None = None,
    actor_label: str = "",
    notice_colour: NoticeColour | None = None,
) -> LadderOutcome:
    """The office moves a task up the ladder (confirming 约谈 or 问责, or issuing a 督办单 itself)."""
    header = load_header(session, task_id)
    kind = kind_of(actor, header)
    conn = session.connection()
    query = sa.select(task_t.c.supervision_level, task_t.c.notice_colour, task_t.c.version).where(
        task_t.c.id == task_id
    )
    row = conn.execute(query.with_for_update() if conn.dialect.name == "postgresql" else query).one()
    check_version(row.version, expected_version)
    level = SupervisionLevel(row.supervision_level)
    colour = NoticeColour(row.notice_colour) if row.notice_colour else None
    step = check_ladder_action(level, colour, action, kind, notice_colour=notice_colour)
    if header.state.value not in ISSUED_STATES:
        state = TaskState(header.state)
        raise TransitionNotAllowed(
            f"任务{state.label}，督办已停止",
            f"the task is {state.value}; its ladder has stopped",
            action=action,
            state=state.value,
            allowed_actions=[],
        )
    start = rung_of(level, colour)
    now = clock.now()
    values: dict[str, Any] = {
        "supervision_level": step.level.value,
        "version": row.version + 1,
        "updated_at": now,
    }
    if step.colour is not None:
        values["notice_colour"] = step.colour.value
    updated = conn.execute(
        task_t.update().where(task_t.c.id == task_id, task_t.c.version == row.version).values(**values)
    )
    if updated.rowcount != 1:
        raise StaleVersion("任务刚被他人修改，请刷新后重试", "The task changed meanwhile; reload and retry")
    event_id: int = conn.execute(
        event_t.insert()
        .values(
            task_id=task_id,
            kind=action,
            actor_user_id=actor.user_id,
            actor_department_id=actor.department_id,
            actor_label=actor_label[:128],
            from_level=start.level.value,
            to_level=step.level.value,
            reason=(reason or "").strip(),
            data={
                "from_rung": start.value,
                "to_rung": step.rung.value,
                "colour": values.get("notice_colour"),
            },
            request_id=request_id,
            created_at=now,
        )
        .returning(event_t.c.id)
    ).scalar_one()
    jobs.enqueue_batched(session, "duban.notify_task_event", event_id)
    return LadderOutcome(task_id, action, start, step.rung, row.version + 1, event_id, step.colour or colour)
