"""One run of the lifecycle benchmark in a fresh process: `python -m bench.lifecycle.child MODE ARGS…`.

- `duban CLIENTS FIRST COUNT` / `spiff CLIENTS FIRST COUNT`: the tasks FIRST … FIRST+COUNT-1 (drafts with
  a lead and a deadline) split among CLIENTS threads, each taking its tasks one by one through issue →
  accept → submit → approve, one transaction per step: duban through `apply_action`, SpiffWorkflow
  through `bench.lifecycle.spiff`.
- `duban-plan PLAN` / `spiff-plan PLAN`: every draft task of the plan issued at once: duban's
  `issue_plan` and its commit; SpiffWorkflow one instance per task, in one transaction.
- `bare CLIENTS FIRST COUNT` / `bare-plan PLAN`: the same work as duban's, as hand-written SQL on bare
  psycopg (the floor under duban).

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
from typing import Any, Final

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url


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
    """issue → accept → submit → approve through duban's service layer, a session and commit per step."""
    from sqlmodel import Session

    from duban.core.db import get_engine
    from duban.tasks.enums import Role
    from duban.workflow.machines import Actor
    from duban.workflow.service import apply_action

    leads = _leads(first, count)
    engine = get_engine()
    office = Actor(role=Role.office)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))

    def one(tasks: list[int]) -> None:
        for task_id in tasks:
            lead = Actor(role=Role.department, department_id=leads[task_id])
            for action, actor in (("issue", office), ("accept", lead), ("submit", lead), ("approve", office)):
                with Session(engine, expire_on_commit=False) as session:
                    apply_action(session, task_id, action, actor, actor_label="基准 / bench")
                    session.commit()

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


# The statements duban's service sends for one action, hand-written: read the task and its holders, the
# guarded UPDATE (the policy frozen on issue), the event; one transaction.
BARE_STEPS: Final = (
    ("issue", "draft", "assigned", "issued_at"),
    ("accept", "assigned", "in_progress", "accepted_at"),
    ("submit", "in_progress", "submitted", "submitted_at"),
    ("approve", "submitted", "completed", "completed_at"),
)


def bare_lifecycle(clients: int, first: int, count: int) -> float:
    """The same lifecycle as bare psycopg statements, a connection per client, a transaction per step."""
    from bench.policy import policy_without_completion

    policy = json.dumps(policy_without_completion().snapshot(), ensure_ascii=False)
    dsn = _dsn()

    def step(
        conn: psycopg.Connection[Any], task_id: int, action: str, before: str, after: str, at: str
    ) -> None:
        row = conn.execute("SELECT state, version FROM task WHERE id = %s", (task_id,)).fetchone()
        state, version = row if row is not None else (None, None)
        holders = conn.execute(
            "SELECT department_id, role FROM task_assignment WHERE task_id = %s", (task_id,)
        ).fetchall()
        if state != before or not any(role == "lead" for _, role in holders):
            raise RuntimeError(f"task {task_id}: {action} not allowed from {state}")
        freeze = ", policy = %(policy)s::jsonb" if action == "issue" else ""
        updated = conn.execute(
            f"UPDATE task SET state = %(after)s, version = version + 1, updated_at = now(), {at} = now()"  # noqa: S608
            f"{freeze} WHERE id = %(id)s AND version = %(version)s",
            {"after": after, "id": task_id, "version": version, "policy": policy},
        )
        if updated.rowcount != 1:
            raise RuntimeError(f"task {task_id} changed meanwhile")
        conn.execute(
            "INSERT INTO task_event (task_id, kind, actor_user_id, actor_department_id, actor_label, "
            "from_state, to_state, reason, data, request_id, created_at) "
            "VALUES (%s, %s, NULL, NULL, '基准 / bench', %s, %s, '', '{}', NULL, now()) RETURNING id",
            (task_id, action, before, after),
        ).fetchone()
        conn.commit()

    def one(tasks: list[int]) -> None:
        with psycopg.connect(dsn) as conn:
            for task_id in tasks:
                for action, before, after, at in BARE_STEPS:
                    step(conn, task_id, action, before, after, at)

    return _in_threads(clients, list(range(first, first + count)), one)


def bare_plan(plan_id: int) -> tuple[float, int]:
    """issue_plan's work as hand-written SQL: the completeness check, one UPDATE with the policy, events."""
    from duban.workflow.policy import bundled_policy

    policy = json.dumps(bundled_policy().snapshot(), ensure_ascii=False)
    with psycopg.connect(_dsn()) as conn:
        conn.execute("SELECT 1")
        began = time.perf_counter()
        incomplete = conn.execute(
            "SELECT count(*) FROM task AS t WHERE t.plan_id = %s AND t.state = 'draft' "
            "AND (t.deadline IS NULL OR NOT EXISTS "
            "(SELECT 1 FROM task_assignment AS a WHERE a.task_id = t.id AND a.role = 'lead'))",
            (plan_id,),
        ).fetchone()
        if incomplete is None or incomplete[0]:
            raise RuntimeError("the plan has incomplete drafts")
        cursor = conn.execute(
            "WITH issued AS (UPDATE task SET state = 'assigned', version = version + 1, issued_at = now(), "
            "updated_at = now(), policy = %s::jsonb WHERE plan_id = %s AND state = 'draft' RETURNING id) "
            "INSERT INTO task_event (task_id, kind, actor_user_id, actor_department_id, actor_label, "
            "from_state, to_state, reason, data, request_id, created_at) "
            "SELECT id, 'issue', NULL, NULL, '委员会办公室 / office', 'draft', 'assigned', '', '{}', NULL, "
            "now() FROM issued",
            (policy, plan_id),
        )
        conn.commit()
        return time.perf_counter() - began, cursor.rowcount


def duban_plan(plan_id: int) -> tuple[float, int]:
    """issue_plan over the plan's drafts and the commit."""
    from sqlmodel import Session

    from duban.core.db import get_engine
    from duban.tasks.enums import Role
    from duban.workflow.issuing import issue_plan
    from duban.workflow.machines import Actor

    engine = get_engine()
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
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
