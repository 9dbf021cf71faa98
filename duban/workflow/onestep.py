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
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import sqlalchemy as sa

from duban.core import clock, jobs
from duban.core.db import Unit
from duban.core.prepared import Prepared
from duban.tasks.enums import AssignmentRole, LeadSource, Role, TaskState, UnitRole
from duban.tasks.models import (
    REQUEST_USER_COLUMNS,
    Task,
    TaskAssignment,
    TaskEvent,
    TaskUnit,
    User,
    user_from_row,
)
from duban.workflow.machines import TASK_TABLES, Actor
from duban.workflow.models import EscalationPolicyVersion
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
USER: Final = User.__tablename__
POLICY: Final = EscalationPolicyVersion.__tablename__
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


def _kind_sql(kinds: tuple[str, ...], department: str = ":department_id") -> str:
    """SQL: the acting department's part in the task (lead wins, as `actor_kind`) is one of `kinds`."""
    holds = f"EXISTS (SELECT 1 FROM h WHERE h.department_id = {department} AND h.role = '{{}}')"  # noqa: S608
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
_NO_COMPLETION_RULES: Final = (
    f"NOT EXISTS (SELECT 1 FROM {POLICY} AS p WHERE p.version = t.policy_version "  # noqa: S608
    "AND p.body -> 'completion' IS NOT NULL)"
)
# As `policy_on_issue`: the version in force, unless one is frozen already (a re-issue); its rules kept
# first, as `register_policy` keeps them (the foreign key sees a row its own statement inserted).
_FREEZE: Final = ", policy_version = COALESCE({task}.policy_version, CAST(:policy_version AS INTEGER))"
_REGISTER: Final = f"""registered AS (
  INSERT INTO {POLICY} (version, name, sha256, body, registered_at)
  SELECT CAST(:policy_version AS INTEGER), CAST(:policy_name AS TEXT), CAST(:policy_sha256 AS TEXT),
         CAST(:policy AS JSONB), CAST(:now AS TIMESTAMPTZ)
  WHERE NOT EXISTS (SELECT 1 FROM {POLICY} WHERE version = CAST(:policy_version AS INTEGER))
  ON CONFLICT (version) DO NOTHING
), """  # noqa: S608


def _caller_guard(action: str) -> str:
    """SQL: the caller `c` may take `action` as `statement_for` and `admit` decide it in Python: active,
    its own password set, and an office role the rule admits or a department with an admitted part."""
    rule = TASK_TABLES.rules[action]
    offices = tuple(role.value for role in (Role.office, Role.admin) if role.value in rule.by)
    kinds = tuple(kind for kind in DEPARTMENT_KINDS if kind in rule.by)
    admitted = [f"c.role IN ({_quoted(offices)})"] if offices else []
    if kinds:
        admitted.append(
            f"(c.role = '{Role.department.value}' AND c.department_id IS NOT NULL"
            f" AND {_kind_sql(kinds, 'c.department_id')})"
        )
    return f"c.active AND NOT c.must_change_password AND ({' OR '.join(admitted) or 'false'})"


# The caller as `REQUEST_USER_COLUMNS` reads it; the event names it as `User.label` does.
_CALLER: Final = f"""c AS (
  SELECT {", ".join(REQUEST_USER_COLUMNS)} FROM "{USER}" WHERE id = :user_id
), """  # noqa: S608
_CALLER_ACTOR: Final = "c.id AS actor_user_id, c.department_id AS actor_department_id, " + (
    "COALESCE(NULLIF(c.display_name, ''), c.username) AS actor_label"
)
_PARAM_ACTOR: Final = (
    "CAST(:actor_user_id AS INTEGER), CAST(:actor_department_id AS INTEGER), CAST(:actor_label AS TEXT)"
)


def statement_sql(action: str, kinds: tuple[str, ...] | None, versioned: bool, caller: bool = False) -> str:
    """The one statement for `action`: `kinds` the department parts allowed (None for the office or an
    admin, already checked), `versioned` when the client names the version it saw; `caller`: the caller is
    read by its id in the statement and guarded there (`kinds` unused). Returns one row per holder of the
    task (one with NULL holder if none): the event id (NULL if nothing moved), and the task's state, version
    and whether it has a deadline as they were before the statement; with `caller`, then the caller's
    `REQUEST_USER_COLUMNS` (no row when there is no such user)."""
    move = MOVES[action]
    stamp = TIMESTAMP_OF.get(move.target)
    guards = [f"t.state IN ({_quoted(move.sources)})"]
    if versioned:
        guards.append("t.version = :expected_version")
    if caller:
        guards.append(_caller_guard(action))
    elif kinds is not None:
        guards.append(_kind_sql(kinds))
    if action == "issue":
        guards.append(_ISSUABLE)
    if action == "submit":
        guards.append(_NO_COMPLETION_RULES)
    sets = f"state = '{move.target.value}', version = {TASK}.version + 1, updated_at = :now"
    sets += f", {stamp} = :now" if stamp else ""
    freezes = move.target is TaskState.assigned
    sets += _FREEZE.format(task=TASK) if freezes else ""
    actor = "actor_user_id, actor_department_id, actor_label" if caller else _PARAM_ACTOR
    answer = "SELECT recorded.id, t.state, t.version, t.has_deadline, h.department_id, h.role"
    if caller:
        answer += f", {', '.join(f'c.{name}' for name in REQUEST_USER_COLUMNS)} FROM c LEFT JOIN t ON true"
    else:
        answer += " FROM t"
    answer += " LEFT JOIN h ON true LEFT JOIN recorded ON true"
    return f"""\
WITH {_CALLER if caller else ""}{_REGISTER if freezes else ""}t AS (
  SELECT id, state, version, deadline IS NOT NULL AS has_deadline, policy_version FROM {TASK}
  WHERE id = :task_id
), h AS (
  SELECT department_id, role, source FROM {ASSIGNMENT} WHERE task_id = :task_id
), moved AS (
  UPDATE {TASK} SET {sets}
  FROM t{", c" if caller else ""}
  WHERE {TASK}.id = t.id AND {TASK}.version = t.version AND {" AND ".join(guards)}
  RETURNING {TASK}.id, t.state AS from_state{", " + _CALLER_ACTOR if caller else ""}
), recorded AS (
  INSERT INTO {EVENT} (task_id, kind, actor_user_id, actor_department_id, actor_label, from_state, to_state,
                       reason, data, request_id, created_at)
  SELECT id, '{action}', {actor}, from_state, '{move.target.value}', CAST(:reason AS TEXT),
         CAST('{{}}' AS JSONB), CAST(:request_id AS TEXT), CAST(:now AS TIMESTAMPTZ)
  FROM moved
  RETURNING id
)
{answer}"""  # noqa: S608


@cache
def _prepared(action: str, kinds: tuple[str, ...] | None, versioned: bool, caller: bool = False) -> Prepared:
    now = sa.bindparam("now", type_=sa.DateTime(timezone=True))
    return Prepared(sa.text(statement_sql(action, kinds, versioned, caller)).bindparams(now))


_POLICY_BINDS: dict[int, tuple[EscalationPolicy, dict[str, Any]]] = {}


def policy_binds() -> dict[str, Any]:
    """The policy in force as an issue's statement keeps it (version, name, fingerprint and the rules as
    JSON text), serialized once per policy (building the snapshot costs more than the rest of the
    action's Python)."""
    policy = bundled_policy()
    found = _POLICY_BINDS.get(id(policy))
    if found is None or found[0] is not policy:
        binds = {
            "policy": json.dumps(policy.snapshot(), ensure_ascii=False),
            "policy_version": policy.version,
            "policy_name": policy.name,
            "policy_sha256": policy.sha256,
        }
        found = (policy, binds)
        _POLICY_BINDS.clear()
        _POLICY_BINDS[id(policy)] = found
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
    action: str,
    task_id: int,
    actor: Actor | None,
    *,
    reason: str | None,
    expected_version: int | None,
    request_id: str | None,
    actor_label: str = "",
) -> dict[str, Any]:
    """The binds of `action`'s statement, stamped now (the unused ones are ignored; no `actor` when the
    statement reads the caller itself)."""
    params: dict[str, Any] = {
        "task_id": task_id,
        "expected_version": expected_version,
        "department_id": actor.department_id if actor else None,
        "now": clock.now(),
        "actor_user_id": actor.user_id if actor else None,
        "actor_department_id": actor.department_id if actor else None,
        "actor_label": actor_label,
        "reason": reason or "",
        "request_id": request_id,
    }
    move = MOVES.get(action)
    if move is not None and move.target is TaskState.assigned:  # the statement freezes the policy
        params.update(policy_binds())
    return params


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
        action,
        task_id,
        actor,
        reason=reason,
        expected_version=expected_version,
        request_id=request_id,
        actor_label=actor_label,
    )
    rows = _prepared(action, found[1], expected_version is not None).rows(conn, params)
    header = header_of(task_id, [row[1:] for row in rows]) if rows else None
    if header is None or rows[0][0] is None:  # nothing moved: the checks say why, on what was read
        return by_the_checks(header)
    return _moved(unit, action, header, int(rows[0][0]))


def _moved(unit: Unit, action: str, header: TaskHeader, event_id: int) -> ActionOutcome:
    """The outcome of a statement that moved the task from `header` and wrote event `event_id`."""
    jobs.enqueue_batched(unit, "duban.notify_task_event", event_id)
    target = MOVES[action].target
    version = header.version + 1
    after = TaskHeader(
        header.id, target, version, header.lead_ids, header.cooperating_ids, header.deadline_set
    )
    return ActionOutcome(header.id, action, header.state, target, version, event_id, after)


def caller_in_statement(backend: str, action: str, reason: str | None) -> bool:
    """Whether `take_action_as` may read the caller in the action's one statement: an action that is one
    statement on this database, with the reason it requires (the role checks are in the statement)."""
    rule = TASK_TABLES.rules.get(action)
    if rule is None or not one_step(backend, action):
        return False
    return not rule.reason_required or bool(reason and reason.strip())


def take_action_as(
    unit: Unit,
    user_id: int,
    task_id: int,
    action: str,
    admit: Callable[[User | None], User],
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    request_id: str | None = None,
) -> tuple[User, ActionOutcome]:
    """`take_action` for the signed-in user `user_id`, read in the same statement: one round trip for the
    route (see `caller_in_statement`). `admit` turns the caller's row (None: no such user) into the user or
    refuses; when nothing moved, `apply_action` says why on the task as the statement read it."""
    params = statement_params(
        action, task_id, None, reason=reason, expected_version=expected_version, request_id=request_id
    )
    params["user_id"] = user_id
    rows = _prepared(action, None, expected_version is not None, True).rows(unit.connection(), params)
    split = 6  # the event id and the header's five columns, then the caller
    user = admit(user_from_row(rows[0][split:]) if rows else None)
    header = header_of(task_id, [row[1:split] for row in rows]) if rows[0][1] is not None else None
    if header is not None and rows[0][0] is not None:
        return user, _moved(unit, action, header, int(rows[0][0]))
    actor = Actor(role=user.role, department_id=user.department_id, user_id=user.id)
    outcome = apply_action(
        unit,
        task_id,
        action,
        actor,
        reason=reason,
        expected_version=expected_version,
        request_id=request_id,
        actor_label=user.label,
        header=header,
    )
    return user, outcome
