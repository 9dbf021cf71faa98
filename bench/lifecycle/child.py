"""One run of the lifecycle benchmark in a fresh process: `python -m bench.lifecycle.child MODE ARGS…`.

- `duban CLIENTS FIRST COUNT` / `spiff CLIENTS FIRST COUNT`: the tasks FIRST … FIRST+COUNT-1 (drafts with
  a lead and a deadline) split among CLIENTS threads, each taking its tasks one by one through issue →
  accept → submit → approve: duban as its action route drives it (`take_action` on a connection unit, in
  autocommit where the action is one statement), SpiffWorkflow through `bench.lifecycle.spiff` (one
  transaction per step).
- `duban-plan PLAN` / `spiff-plan PLAN`: every draft task of the plan issued at once: duban's
  `issue_plan` and its commit; SpiffWorkflow one instance per task, in one transaction.
- `bare CLIENTS FIRST COUNT` / `bare-plan PLAN`: the same work on bare psycopg: for the lifecycle duban's
  own statement per step (the same SQL text), for the plan hand-written SQL.
- `floor-plan PLAN`: the bare plan issue without the policy (its rules kept, its version named on each
  task): the state move and its event only, the least any issue of these tasks writes.

The database comes from DUBAN_DATABASE_URL. Prints one JSON object: seconds, count, CPU seconds.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

LABEL: Final = "基准 / bench"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _dsn() -> str:
    url = make_url(os.environ["DUBAN_DATABASE_URL"])
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _leads(first: int, count: int) -> dict[int, int]:
    with psycopg.connect(_dsn()) as conn:
        rows = conn.execute(
            "SELECT task_id, department_id FROM task_assignment "
            "WHERE role = 'lead' AND task_id BETWEEN %s AND %s",
            (first, first + count - 1),
        ).fetchall()
    return {int(task): int(department) for task, department in rows}


def _in_threads(clients: int, work: list[int], one: Callable[[list[int]], None]) -> float:
    """Run `one(slice)` for CLIENTS contiguous slices of `work` at once; seconds from start to the last."""
    size = -(-len(work) // clients)
    slices = [work[i : i + size] for i in range(0, len(work), size)]
    barrier = threading.Barrier(len(slices) + 1)
    errors: list[BaseException] = []

    def run(part: list[int]) -> None:
        try:
            barrier.wait()
            one(part)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(part,)) for part in slices]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - began


def duban_lifecycle(clients: int, first: int, count: int) -> float:
    """issue → accept → submit → approve as the action route drives duban: per step a connection unit
    (autocommit where the action is one statement) and `take_action`, naming the version (If-Match)."""
    from duban.core.db import backend_name, get_engine, unit_scope
    from duban.tasks.enums import Role
    from duban.workflow.machines import Actor
    from duban.workflow.onestep import take_action
    from duban.workflow.service import writes_in_one_statement

    leads = _leads(first, count)
    engine = get_engine()
    backend = backend_name()
    office = Actor(role=Role.office)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))

    def one(tasks: list[int]) -> None:
        for task_id in tasks:
            lead = Actor(role=Role.department, department_id=leads[task_id])
            steps = (("issue", office), ("accept", lead), ("submit", lead), ("approve", office))
            for version, (action, actor) in enumerate(steps, start=1):
                with unit_scope(atomic=not writes_in_one_statement(action, backend)) as unit:
                    take_action(
                        unit, task_id, action, actor, expected_version=version, actor_label="基准 / bench"
                    )

    return _in_threads(clients, list(range(first, first + count)), one)


def spiff_lifecycle(clients: int, first: int, count: int) -> float:
    """The same lifecycle as SpiffWorkflow instances, a connection per client, a transaction per step."""
    from bench.lifecycle import spiff

    spiff.engine()
    dsn = _dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(spiff.TABLE_SQL)

    def one(tasks: list[int]) -> None:
        with psycopg.connect(dsn) as conn:
            for task_id in tasks:
                spiff.issue(conn, task_id)
                for step in spiff.STEPS:
                    spiff.complete(conn, task_id, step, "bench")

    return _in_threads(clients, list(range(first, first + count)), one)


# duban's statement for each step (`duban.workflow.onestep.statement_sql`: read, guard, move, event), the
# same SQL text sent on bare psycopg in autocommit: one round trip per step.
BARE_STEPS: Final = (("issue", None), ("accept", ("lead",)), ("submit", ("lead",)), ("approve", None))


def bare_statements() -> list[str]:
    """The SQL text duban sends for each step, as the psycopg dialect renders it (`%(name)s` binds)."""
    from duban.core.db import get_engine
    from duban.workflow.onestep import statement_sql

    dialect = get_engine().dialect
    return [
        sa.text(statement_sql(action, kinds, versioned=True)).compile(dialect=dialect).string
        for action, kinds in BARE_STEPS
    ]


def bare_lifecycle(clients: int, first: int, count: int) -> float:
    """The same lifecycle as duban's statements on bare psycopg, a connection per client in autocommit."""
    from duban.workflow.onestep import policy_binds

    policy = policy_binds()
    statements = bare_statements()
    leads = _leads(first, count)
    dsn = _dsn()

    def one(tasks: list[int]) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for task_id in tasks:
                for version, (sql, (action, kinds)) in enumerate(zip(statements, BARE_STEPS, strict=True), 1):
                    department = leads[task_id] if kinds else None
                    now = datetime.now(UTC)
                    rows = conn.execute(
                        sql,
                        {
                            "task_id": task_id,
                            "expected_version": version,
                            "department_id": department,
                            "now": now,
                            "actor_user_id": None,
                            "actor_department_id": department,
                            "actor_label": LABEL,
                            "reason": "",
                            "request_id": None,
                            **policy,
                        },
                    ).fetchall()
                    if not rows or rows[0][0] is None:
                        raise RuntimeError(f"task {task_id}: {action} moved nothing")

    return _in_threads(clients, list(range(first, first + count)), one)


# issue_plan's writes as one would hand-write them: the same checks (lead, deadline, no unmapped written
# lead), the policy frozen in the issuing UPDATE, the events (with the plan, and the late ones marked) fed
# from its RETURNING in the same statement, the plan's status; JIT off as issue_plan sets it.
BARE_PLAN_CHECK: Final = """
SELECT count(*) FROM task AS t WHERE t.plan_id = %(plan)s AND t.state = 'draft' AND (t.deadline IS NULL
  OR NOT EXISTS (SELECT 1 FROM task_assignment AS a WHERE a.task_id = t.id AND a.role = 'lead')
  OR EXISTS (SELECT 1 FROM task_unit AS u WHERE u.task_id = t.id AND u.role = 'lead'
             AND u.department_id IS NULL
             AND NOT EXISTS (SELECT 1 FROM task_assignment AS o
                             WHERE o.task_id = t.id AND o.role = 'lead' AND o.source = 'office')))
"""
_PLAN_ISSUE: Final = """
WITH issued AS (
  UPDATE task SET state = 'assigned', version = version + 1, issued_at = now(), updated_at = now(){policy}
  WHERE plan_id = %(plan)s AND state = 'draft' RETURNING id, deadline
)
INSERT INTO task_event (task_id, kind, actor_user_id, actor_department_id, actor_label, from_state, to_state,
                        reason, data, request_id, created_at)
SELECT id, 'issue', NULL, NULL, '委员会办公室 / office', 'draft', 'assigned', '',
       CASE WHEN deadline < current_date THEN %(late)s::jsonb ELSE %(data)s::jsonb END, NULL, now()
FROM issued
"""
BARE_PLAN_ISSUE: Final = _PLAN_ISSUE.format(
    policy=",\n         policy_version = COALESCE(policy_version, %(policy_version)s)"
)
FLOOR_PLAN_ISSUE: Final = _PLAN_ISSUE.format(policy="")


def bare_plan(plan_id: int, *, floor: bool = False) -> tuple[float, int]:
    """issue_plan's work as hand-written SQL on psycopg, one transaction; `floor`: without the policy (its
    rules kept, its version named), the state move and the events only."""
    from datetime import date

    from bench.policy import keep_policy
    from duban.workflow.policy import bundled_policy

    policy = bundled_policy()
    late = {"plan_id": plan_id, "past_deadline": True, "ladder_from": date.today().isoformat()}
    params = {
        "plan": plan_id,
        "policy_version": policy.version,
        "late": json.dumps(late),
        "data": json.dumps({"plan_id": plan_id}),
    }
    with psycopg.connect(_dsn()) as conn:
        conn.execute("SELECT 1")
        conn.commit()
        began = time.perf_counter()
        conn.execute("SET LOCAL jit = off")
        conn.execute("SELECT id FROM plan WHERE id = %(plan)s FOR UPDATE", params)
        if not floor:  # its rules kept first, as issue_plan keeps them
            keep_policy(conn, policy)
        incomplete = conn.execute(BARE_PLAN_CHECK, params).fetchone()
        if incomplete is None or incomplete[0]:
            raise RuntimeError("the plan has incomplete drafts")
        cursor = conn.execute(FLOOR_PLAN_ISSUE if floor else BARE_PLAN_ISSUE, params)
        conn.execute("UPDATE plan SET status = 'issued' WHERE id = %(plan)s", params)
        conn.commit()
        return time.perf_counter() - began, cursor.rowcount


def duban_plan(plan_id: int) -> tuple[float, int]:
    """issue_plan over the plan's drafts and the commit."""
    from sqlmodel import Session

    from duban.core.db import get_engine
    from duban.tasks.enums import Role
    from duban.workflow.issuing import issue_plan
    from duban.workflow.machines import Actor
    from duban.workflow.policy import bundled_policy

    engine = get_engine()
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    bundled_policy()  # read once per process, as a server has it from its first request; bare_plan likewise
    began = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        issued = issue_plan(session, plan_id, Actor(role=Role.office))
        session.commit()
    return time.perf_counter() - began, len(issued)


def spiff_plan(plan_id: int) -> tuple[float, int]:
    """One SpiffWorkflow instance per draft task of the plan, stored in one transaction."""
    from bench.lifecycle import spiff

    spiff.engine()
    with psycopg.connect(_dsn()) as conn:
        conn.execute(spiff.TABLE_SQL)
        conn.commit()
        began = time.perf_counter()
        keys = [
            int(row[0])
            for row in conn.execute("SELECT id FROM task WHERE plan_id = %s ORDER BY id", (plan_id,))
        ]
        spiff.issue_many(conn, keys)
        return time.perf_counter() - began, len(keys)


LIFECYCLES: Final[dict[str, Callable[[int, int, int], float]]] = {
    "duban": duban_lifecycle,
    "spiff": spiff_lifecycle,
    "bare": bare_lifecycle,
}
PLANS: Final[dict[str, Callable[[int], tuple[float, int]]]] = {
    "duban-plan": duban_plan,
    "spiff-plan": spiff_plan,
    "bare-plan": bare_plan,
    "floor-plan": lambda plan_id: bare_plan(plan_id, floor=True),
}


def main(argv: list[str]) -> dict[str, Any]:
    """Dispatch on the mode."""
    mode, numbers = argv[0], [int(a) for a in argv[1:]]
    cpu = _cpu()
    if mode in LIFECYCLES:
        seconds, count = LIFECYCLES[mode](*numbers), numbers[2]
    else:
        seconds, count = PLANS[mode](numbers[0])
    return {"seconds": seconds, "count": count, "cpu": _cpu() - cpu}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
