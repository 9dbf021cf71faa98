"""Moves on the supervision ladder: the scheduler's (set-based, after its notices are claimed) and the
office's (one task, through the ladder endpoint; 约谈 and 问责 happen only this way)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock, jobs
from duban.tasks.enums import NoticeColour, SupervisionLevel, TaskState
from duban.tasks.models import TaskEvent
from duban.workflow.errors import TransitionNotAllowed, WorkflowError
from duban.workflow.machines import Actor, Rung, check_ladder_action, escalate_to, rung_of
from duban.workflow.policy import ISSUED_STATES, task_t
from duban.workflow.service import StaleVersion, check_version, kind_of, load_header

event_t: Final = TaskEvent.__table__  # type: ignore[attr-defined]
SCHEDULER_LABEL: Final = "调度程序 / scheduler"
_CHUNK: Final = 2000


def _is_position(level: SupervisionLevel, colour: NoticeColour | None) -> bool:
    try:
        rung_of(level, colour)
    except WorkflowError:
        return False
    return True


# Every stored (level, colour) pair that names a rung (off the supervised level any colour may remain).
POSITIONS: Final = tuple(
    (level, colour)
    for level in SupervisionLevel
    for colour in (None, *NoticeColour)
    if _is_position(level, colour)
)


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
    if conn.dialect.name != "postgresql":
        return _raise_locked(conn, targets, moment)
    ids = sorted(targets)
    moved = 0
    left: dict[int, LadderTarget] = {}
    for start in range(0, len(ids), _CLIMB_CHUNK):
        chunk = {task_id: targets[task_id] for task_id in ids[start : start + _CLIMB_CHUNK]}
        stayed = climb_in_one_statement(conn, chunk, moment)
        moved += len(chunk) - len(stayed)
        left.update((task_id, chunk[task_id]) for task_id in stayed)
    # What a statement did not move stood at or above its target, or changed since the statement's
    # snapshot: those few go through the row-locking path below, which reads them as they are now.
    return moved + _raise_locked(conn, left, moment)


# Targets per statement: the arrays stay small in memory, and the planner reads their positions by
# primary key rather than with a scan of every task.
_CLIMB_CHUNK: Final = 20_000

# One statement per chunk (PostgreSQL): each target task is updated only if its position is still the one
# the statement read (`seen`, the same row in the statement's snapshot), so a concurrent change makes it
# skip the row rather than move it from a position it did not see; the event of each move is written by
# the same statement from the path between the two rungs.
CLIMB_SQL: Final = sa.text(
    """
WITH target AS (
  SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:rules AS text[]), CAST(:steps AS text[]),
                       CAST(:periods AS text[]), CAST(:rungs AS text[]))
    AS target (task_id, rule, step, period, rung)
), path AS (
  SELECT * FROM unnest(CAST(:from_levels AS text[]), CAST(:from_colours AS text[]),
                       CAST(:from_rungs AS text[]), CAST(:to_rungs AS text[]), CAST(:to_levels AS text[]),
                       CAST(:to_colours AS text[]), CAST(:kinds AS text[]), CAST(:actions AS jsonb[]))
    AS path (from_level, from_colour, from_rung, to_rung, to_level, to_colour, kind, actions)
), seen AS MATERIALIZED (
  -- each target's position as the statement's snapshot has it, read once by primary key
  SELECT target.*, old.supervision_level AS level, coalesce(old.notice_colour, '') AS colour
  FROM target JOIN task AS old ON old.id = target.task_id
), moved AS (
  UPDATE task AS t
  SET supervision_level = path.to_level,
      notice_colour = CASE WHEN path.to_colour IS NULL THEN t.notice_colour ELSE path.to_colour END,
      version = t.version + 1,
      updated_at = :now
  FROM seen
  JOIN path ON path.to_rung = seen.rung AND path.from_level = seen.level
           AND coalesce(path.from_colour, '') = seen.colour
  WHERE t.id = seen.task_id
    AND t.supervision_level = seen.level AND coalesce(t.notice_colour, '') = seen.colour
  RETURNING t.id, seen.rule, seen.step, seen.period, path.from_level, path.from_rung, path.to_rung,
            path.to_level, path.to_colour, path.kind, path.actions
), written AS (
  INSERT INTO task_event (task_id, kind, actor_user_id, actor_department_id, actor_label, from_state,
                          to_state, from_level, to_level, reason, data, request_id, created_at)
  SELECT id, kind, NULL, NULL, :label, NULL, NULL, from_level, to_level, '',
         jsonb_build_object('rule', rule, 'step', step, 'period', period, 'from_rung', from_rung,
                            'to_rung', to_rung, 'colour', to_colour, 'actions', actions),
         NULL, :now
  FROM moved
  RETURNING task_id
)
SELECT target.task_id FROM target
WHERE NOT EXISTS (SELECT FROM written WHERE written.task_id = target.task_id)
"""
).bindparams(sa.bindparam("now", type_=task_t.c.updated_at.type))


def _paths(rungs: set[Rung]) -> dict[str, list[Any]]:
    """Every stored position below each target rung, with the scheduler's steps from it (unnest columns)."""
    columns: dict[str, list[Any]] = defaultdict(list)
    for level, colour in POSITIONS:
        start = rung_of(level, colour)
        for target in rungs:
            if start.rank >= target.rank:
                continue
            steps = escalate_to(start.level, start.colour, target.level, target.colour)
            columns["from_levels"].append(level.value)
            columns["from_colours"].append(None if colour is None else colour.value)
            columns["from_rungs"].append(start.value)
            columns["to_rungs"].append(target.value)
            columns["to_levels"].append(target.level.value)
            columns["to_colours"].append(target.colour.value if target.colour else None)
            columns["kinds"].append(steps[-1].action)
            columns["actions"].append(json.dumps([s.action for s in steps]))
    return columns


def climb_in_one_statement(
    conn: sa.Connection, targets: Mapping[int, LadderTarget], moment: dt.datetime
) -> set[int]:
    """Move every target task whose position is below its target rung, with its event; the ids not moved."""
    ids = sorted(targets)
    chosen = [targets[task_id] for task_id in ids]
    params: dict[str, Any] = {
        "ids": ids,
        "rules": [t.rule for t in chosen],
        "steps": [t.step for t in chosen],
        "periods": [t.period for t in chosen],
        "rungs": [t.rung.value for t in chosen],
        **_paths({t.rung for t in chosen}),
        "now": moment,
        "label": SCHEDULER_LABEL,
    }
    return {task_id for (task_id,) in conn.execute(CLIMB_SQL, params)}


def _raise_locked(conn: sa.Connection, targets: Mapping[int, LadderTarget], moment: dt.datetime) -> int:
    """Row by row in groups: read each task's position under a row lock, then a guarded UPDATE per group."""
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
