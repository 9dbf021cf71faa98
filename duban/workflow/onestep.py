"""Task actions in one round trip on PostgreSQL: the read, the guard, the move and its event in one statement.

The guard is what `apply_action` checks, as SQL over the task read in the same statement: the state
machine's source states of the action (derived from `TASK_TABLES`, the machine's own definition), the
actor's part in the task, the client's version, and what issue and submit need. When the statement moves
nothing, `apply_action` takes the task as that statement read it and says why (404, 403, 409, 412, 422
exactly as before), or acts itself where the statement is stricter than the checks (a frozen policy with
completion rules on submit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import sqlalchemy as sa

from duban.core import clock, jobs
from duban.core.db import Unit
from duban.core.prepared import Prepared
from duban.tasks.enums import AssignmentRole, LeadSource, Role, TaskState, UnitRole
from duban.tasks.models import Task, TaskAssignment, TaskEvent, TaskUnit
from duban.workflow.machines import TASK_TABLES, Actor
from duban.workflow.policy import EscalationPolicy, bundled_policy
from duban.workflow.service import (
    TIMESTAMP_OF,
    ActionOutcome,
    TaskHeader,
    apply_action,
    header_of,
    writes_in_one_statement,
)

TASK: Final = Task.__tablename__
ASSIGNMENT: Final = TaskAssignment.__tablename__
EVENT: Final = TaskEvent.__tablename__
UNIT: Final = TaskUnit.__tablename__
DEPARTMENT_KINDS: Final = ("lead", "cooperating", "other")


@dataclass(frozen=True)
class Move:
    """An action as the machine defines it: the states it leaves from and the one it lands in."""

    action: str
    sources: tuple[str, ...]
    target: TaskState


def _moves() -> dict[str, Move]:
    """Every action with one target, from the machine's table of moves."""
    sources: dict[str, list[str]] = {}
    targets: dict[str, set[str]] = {}
    for (state, action), target in TASK_TABLES.moves.items():
        sources.setdefault(action, []).append(str(state))
        targets.setdefault(action, set()).add(str(target))
    return {
        action: Move(action, tuple(sources[action]), TaskState(next(iter(found))))
        for action, found in targets.items()
        if len(found) == 1
    }


MOVES: Final = _moves()


def _quoted(values: tuple[str, ...]) -> str:
    if any("'" in value for value in values):
        raise ValueError(f"not a plain name: {values}")
    return ", ".join(f"'{value}'" for value in values)


def _kind_sql(kinds: tuple[str, ...]) -> str:
    """SQL: the acting department's part in the task (lead wins, as `actor_kind`) is one of `kinds`."""
    holds = "EXISTS (SELECT 1 FROM h WHERE h.department_id = :department_id AND h.role = '{}')"
    lead, cooperating = (holds.format(r.value) for r in (AssignmentRole.lead, AssignmentRole.cooperating))
    return (
        f"(CASE WHEN {lead} THEN 'lead' WHEN {cooperating} THEN 'cooperating' ELSE 'other' END)"
        f" IN ({_quoted(kinds)})"
    )


# What `_check_issuable` asks: a deadline, a lead, and no written lead left unmapped (unless the office set
# the lead itself); what `check_completion` asks when the frozen policy has no completion rules: nothing.
# All SQL here is built from constants (table names, enum values, the machine's states), never from input.
_ISSUABLE: Final = (
    f"t.has_deadline AND EXISTS (SELECT 1 FROM h WHERE h.role = '{AssignmentRole.lead.value}') AND ("  # noqa: S608
    f"EXISTS (SELECT 1 FROM h WHERE h.role = '{AssignmentRole.lead.value}' AND h.source = "
    f"'{LeadSource.office.value}') OR NOT EXISTS (SELECT 1 FROM {UNIT} AS u WHERE u.task_id = t.id AND "
    f"u.role = '{UnitRole.lead.value}' AND u.department_id IS NULL))"
)
_NO_COMPLETION_RULES: Final = "t.policy -> 'completion' IS NULL"
# As `policy_on_issue`: the snapshot, unless a policy is frozen already (a re-issue).
_FREEZE: Final = (
    ", policy = CASE WHEN CAST(({task}.policy ->> 'version') AS INTEGER) IS NULL "
    "THEN CAST(:policy AS JSONB) ELSE {task}.policy END"
)


def statement_sql(action: str, kinds: tuple[str, ...] | None, versioned: bool) -> str:
    """The one statement for `action`: `kinds` the department parts allowed (None for the office or an
    admin, already checked), `versioned` when the client names the version it saw. Returns one row per
    holder of the task (one with NULL holder if none): the event id (NULL if nothing moved), and the task's
    state, version and whether it has a deadline as they were before the statement."""
    move = MOVES[action]
    stamp = TIMESTAMP_OF.get(move.target)
    guards = [f"t.state IN ({_quoted(move.sources)})"]
    if versioned:
        guards.append("t.version = :expected_version")
    if kinds is not None:
        guards.append(_kind_sql(kinds))
    if action == "issue":
        guards.append(_ISSUABLE)
    if action == "submit":
        guards.append(_NO_COMPLETION_RULES)
    sets = f"state = '{move.target.value}', version = {TASK}.version + 1, updated_at = :now"
    sets += f", {stamp} = :now" if stamp else ""
    sets += _FREEZE.format(task=TASK) if move.target is TaskState.assigned else ""
    return f"""\
WITH t AS (
  SELECT id, state, version, deadline IS NOT NULL AS has_deadline, policy FROM {TASK} WHERE id = :task_id
), h AS (
  SELECT department_id, role, source FROM {ASSIGNMENT} WHERE task_id = :task_id
), moved AS (
  UPDATE {TASK} SET {sets}
  FROM t
  WHERE {TASK}.id = t.id AND {TASK}.version = t.version AND {" AND ".join(guards)}
  RETURNING {TASK}.id, t.state AS from_state
), recorded AS (
  INSERT INTO {EVENT} (task_id, kind, actor_user_id, actor_department_id, actor_label, from_state, to_state,
                       reason, data, request_id, created_at)
  SELECT id, '{action}', CAST(:actor_user_id AS INTEGER), CAST(:actor_department_id AS INTEGER),
         CAST(:actor_label AS TEXT), from_state, '{move.target.value}', CAST(:reason AS TEXT),
         CAST('{{}}' AS JSONB), CAST(:request_id AS TEXT), CAST(:now AS TIMESTAMPTZ)
  FROM moved
  RETURNING id
)
SELECT recorded.id, t.state, t.version, t.has_deadline, h.department_id, h.role
FROM t LEFT JOIN h ON true LEFT JOIN recorded ON true"""  # noqa: S608


@cache
def _prepared(action: str, kinds: tuple[str, ...] | None, versioned: bool) -> Prepared:
    now = sa.bindparam("now", type_=sa.DateTime(timezone=True))
    return Prepared(sa.text(statement_sql(action, kinds, versioned)).bindparams(now))


_POLICY_TEXT: dict[int, tuple[EscalationPolicy, str]] = {}


def policy_text() -> str:
    """The policy in force as the JSON text an issue freezes, serialized once per policy (building the
    snapshot costs more than the rest of the action's Python)."""
    policy = bundled_policy()
    found = _POLICY_TEXT.get(id(policy))
    if found is None or found[0] is not policy:
        found = (policy, json.dumps(policy.snapshot(), ensure_ascii=False))
        _POLICY_TEXT.clear()
        _POLICY_TEXT[id(policy)] = found
    return found[1]


def statement_for(action: str, actor: Actor, reason: str | None) -> tuple[str, tuple[str, ...] | None] | None:
    """The action and the department parts its guard admits, when it can be one statement for this actor;
    None when the checks refuse it whatever the task (unknown action, the actor's role, no reason), or it
    is not one statement (reassign): `apply_action` then answers as always."""
    move = MOVES.get(action)
    rule = TASK_TABLES.rules.get(action)
    if move is None or rule is None or not writes_in_one_statement(action, "postgresql"):
        return None
    if rule.reason_required and (reason is None or not reason.strip()):
        return None
    if actor.role in (Role.office, Role.admin):
        return (action, None) if actor.role.value in rule.by else None
    kinds = tuple(kind for kind in DEPARTMENT_KINDS if kind in rule.by)
    if actor.department_id is None:  # a department user without a department is no part of any task
        return None
    return (action, kinds) if kinds else None


def one_step(backend: str, action: str) -> bool:
    """Whether `take_action` may send `action` as its one statement on this database."""
    return backend == "postgresql" and writes_in_one_statement(action, backend) and action in MOVES


def statement_params(
    task_id: int,
    actor: Actor,
    *,
    reason: str | None,
    expected_version: int | None,
    request_id: str | None,
    actor_label: str,
    now: Any,
) -> dict[str, Any]:
    """The binds of the statement (the unused ones are ignored)."""
    return {
        "task_id": task_id,
        "expected_version": expected_version,
        "department_id": actor.department_id,
        "now": now,
        "actor_user_id": actor.user_id,
        "actor_department_id": actor.department_id,
        "actor_label": actor_label,
        "reason": reason or "",
        "request_id": request_id,
    }


def take_action(
    unit: Unit,
    task_id: int,
    action: str,
    actor: Actor,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    request_id: str | None = None,
    new_lead_id: int | None = None,
    actor_label: str = "",
    header: TaskHeader | None = None,
) -> ActionOutcome:
    """`apply_action`, in one round trip on PostgreSQL when the action is one statement and allowed; the
    route and the benchmark call this. `header`: the task as just read in this unit (then `apply_action`
    acts on it). The caller's boundary commits (or autocommit does)."""

    def by_the_checks(read: TaskHeader | None) -> ActionOutcome:
        return apply_action(
            unit,
            task_id,
            action,
            actor,
            reason=reason,
            expected_version=expected_version,
            request_id=request_id,
            new_lead_id=new_lead_id,
            actor_label=actor_label,
            header=read,
        )

    conn = unit.connection()
    one = header is None and one_step(conn.dialect.name, action)
    found = statement_for(action, actor, reason) if one else None
    if found is None:
        return by_the_checks(header)
    params = statement_params(
        task_id,
        actor,
        reason=reason,
        expected_version=expected_version,
        request_id=request_id,
        actor_label=actor_label,
        now=clock.now(),
    )
    if action == "issue":
        params["policy"] = policy_text()
    rows = _prepared(action, found[1], expected_version is not None).rows(conn, params)
    header = header_of(task_id, [row[1:] for row in rows]) if rows else None
    if header is None or rows[0][0] is None:  # nothing moved: the checks say why, on what was read
        return by_the_checks(header)
    event_id = int(rows[0][0])
    jobs.enqueue_batched(unit, "duban.notify_task_event", event_id)
    target = MOVES[action].target
    after = TaskHeader(
        task_id, target, header.version + 1, header.lead_ids, header.cooperating_ids, header.deadline_set
    )
    return ActionOutcome(task_id, action, header.state, target, header.version + 1, event_id, after)
