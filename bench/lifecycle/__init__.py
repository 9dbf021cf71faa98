"""Benchmark: the task lifecycle through duban's service layer vs SpiffWorkflow, both on PostgreSQL."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Final

import psycopg

from bench.core import Context, Goal, Measured, Result, child_environment, ratio_samples, run_child
from bench.pgscratch import Scratch, load_registry, scratch_database, server_version, vacuum_analyze
from bench.policy import keep_policy, policy_without_completion

NAME = "lifecycle"
ORDER = 50
CLIENTS: Final = 8
PER_CLIENT: Final = int(os.environ.get("DUBAN_BENCH_LIFECYCLE_TASKS", "100"))
PLAN_TASKS: Final = int(os.environ.get("DUBAN_BENCH_PLAN_TASKS", "10000"))
TITLE = "Lifecycle: issue → accept → submit → approve, duban vs SpiffWorkflow (PostgreSQL)"
INTRO = f"""\
What it measures: tasks taken through 交办 issue → 签收 accept → 办结报送 submit → 审核通过 approve,
one unit of work per step, by {CLIENTS} concurrent clients (threads of one fresh process, each with its
own connections, {PER_CLIENT} tasks each, one task after another), on PostgreSQL: duban in-process as its
action route drives it (per step a pooled connection in autocommit and `take_action`, naming the version
the client saw: one statement that reads the task and its holders, checks the state machine's move, the
actor's part and the version, moves the task, freezes the policy at issue and writes the audit event)
against **SpiffWorkflow** running the same lifecycle as a BPMN process
(`bench/lifecycle/task_lifecycle.bpmn`: user tasks accept, submit, approve), each instance stored as its
JSON serialization (`serialize_json`, as the library documents it) in a table of the same database: issue
creates and stores the instance; each step reads it `FOR UPDATE`, deserializes, completes the user task,
runs the engine, serializes and writes it back (`bench/lifecycle/spiff.py`). Then a {PLAN_TASKS:,}-task
plan issued at once: duban's `issue_plan` (one set-based UPDATE with the frozen policy, the events)
against SpiffWorkflow creating one instance per task and storing them all in one transaction. Every
round runs on a fresh copy of the populated database, the systems in rotating order. Also measured, as
the reference for duban's own overhead ("bare"): duban's statements on bare psycopg, the same SQL text
(`duban.workflow.onestep.statement_sql`), one round trip per step in autocommit; for the plan the
completeness check, the policy's rules kept once, one UPDATE naming its version and one INSERT … SELECT
of the events; and, as the floor of any plan issue of these tasks, the same bare SQL without the policy
(the state move and its events only, run right after the bare SQL on the same copy). Policy: the
lifecycle's tasks run under escalation policy version 1, the bundled rules without the `completion`
section (`bench/policy.py`, frozen onto the drafts before the clock starts): what 办结 needs under
version 2 (a 100% progress report with evidence, the cooperating units' contributions or reasons) is
sent through other endpoints before `submit` and has no counterpart in the BPMN process, so it is left
out of the cycle compared; `submit` still checks the frozen policy (in its statement) and finds no rules.
The plan issue freezes the bundled version 2. Goals (issue 17): lifecycle ≥ 0.95× the bare statements
and ≥ 3× SpiffWorkflow; plan issue ≥ 0.95× the bare SQL and ≥ 30× SpiffWorkflow."""

ORDERS: Final = (("duban", "spiff", "bare"), ("spiff", "bare", "duban"), ("bare", "duban", "spiff"))
LIFECYCLE: Final = Goal(">=", 3.0, "≥ 3×")
LIFECYCLE_BARE: Final = Goal(">=", 0.95, "≥ 0.95×")
PLAN: Final = Goal(">=", 30.0, "≥ 30×")
PLAN_BARE: Final = Goal(">=", 0.95, "≥ 0.95×")

PLANS_SQL: Final = """
INSERT INTO plan (key, title, title_inferred, script, source_name, content_hash, revision, issue_date,
                  horizon, status, source_text, warnings, created_at, updated_at)
VALUES ('bench-lifecycle', '生命周期基准任务', false, 'simplified', NULL, md5('lifecycle'), 1, NULL, NULL,
        'draft', '', '[]'::jsonb, now(), now()),
       ('bench-plan', '内蒙古自治区生态环境保护实施方案（基准，万项任务）', false, 'simplified', NULL,
        md5('plan'), 1, NULL, NULL, 'draft', '', '[]'::jsonb, now(), now()),
       ('bench-plan-bare', '内蒙古自治区生态环境保护实施方案（基准，裸 SQL）', false, 'simplified', NULL,
        md5('bare'), 1, NULL, NULL, 'draft', '', '[]'::jsonb, now(), now()),
       ('bench-plan-floor', '内蒙古自治区生态环境保护实施方案（基准，下限）', false, 'simplified', NULL,
        md5('floor'), 1, NULL, NULL, 'draft', '', '[]'::jsonb, now(), now())
RETURNING id
"""

# Draft tasks with a deadline, a lead and 0–2 cooperating units: what the office issues. The lifecycle's
# carry policy version 1 already (see bench/policy.py); the plans' none, so issuing freezes the bundled one.
TASKS_SQL: Final = """
INSERT INTO task (plan_id, measure_id, parent_id, region_code, title, state, supervision_level, notice_colour,
                  deadline, original_deadline, deadline_source, deadline_note, policy_version, version,
                  created_at, updated_at)
SELECT %(plan)s, NULL, NULL, %(prefix)s || i, '推进重点行业挥发性有机物综合治理（第 ' || i || ' 项）',
       'draft',
       'none', NULL, date '2026-12-31' - (i %% 300), date '2026-12-31' - (i %% 300), 'explicit', NULL,
       %(policy_version)s, 1, now(), now()
FROM generate_series(1, %(count)s) AS i
"""

ASSIGNMENTS_SQL: Final = """
WITH pool AS (
  SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM department
  WHERE code <> 'sthbwbgs' AND kind IN ('政府部门', '党委部门', '盟市')
)
INSERT INTO task_assignment (task_id, department_id, role, source, evidence, position)
SELECT t.id, pool.ids[1 + (t.id * 37 + pick.shift) %% pool.n], pick.role, 'explicit', '[]'::jsonb,
       pick.position
FROM task AS t CROSS JOIN pool
JOIN (VALUES (0, 'lead', 0), (5, 'cooperating', 1), (12, 'cooperating', 2)) AS pick (shift, role, position)
  ON pick.position <= t.id %% 3
"""


@dataclass
class Rounds:
    """Per round: seconds and CPU of each side."""

    by_target: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, target: str, figures: dict[str, Any]) -> None:
        """Record one child's figures."""
        self.by_target.setdefault(target, []).append(figures)

    def seconds(self, target: str) -> list[float]:
        """Seconds of `target` per round."""
        return [float(f["seconds"]) for f in self.by_target[target]]


@dataclass(frozen=True)
class Population:
    """Where each side's tasks are: lifecycle tasks by contiguous id range, plans by id."""

    first: int  # duban's lifecycle tasks first … first+count-1 (Spiff keys its instances by the same ids)
    bare_first: int  # the bare SQL's own lifecycle tasks
    count: int
    plan: int  # issued by duban; Spiff creates one instance per task of it
    bare_plan: int
    floor_plan: int  # the bare issue without the policy


def _populate(dsn: str) -> Population:
    """Drafts for two lifecycles (duban's, the bare SQL's) and three plans of PLAN_TASKS drafts."""
    count = CLIENTS * PER_CLIENT
    with psycopg.connect(dsn) as conn:
        lifecycle_plan, plan, bare_plan, floor_plan = (int(r[0]) for r in conn.execute(PLANS_SQL).fetchall())
        frozen = keep_policy(conn, policy_without_completion())
        lifecycles = {"plan": lifecycle_plan, "prefix": "l", "count": 2 * count, "policy_version": frozen}
        conn.execute(TASKS_SQL, lifecycles)
        for plan_id, prefix in ((plan, "p"), (bare_plan, "b"), (floor_plan, "f")):
            drafts = {"plan": plan_id, "prefix": prefix, "count": PLAN_TASKS, "policy_version": None}
            conn.execute(TASKS_SQL, drafts)
        conn.execute(ASSIGNMENTS_SQL, {})
        row = conn.execute("SELECT min(id) FROM task WHERE plan_id = %s", (lifecycle_plan,)).fetchone()
        conn.commit()
    assert row is not None
    return Population(int(row[0]), int(row[0]) + count, count, plan, bare_plan, floor_plan)


def _child(ctx: Context, copy: Scratch, *args: object) -> dict[str, Any]:
    env = child_environment(
        DUBAN_DATABASE_URL=copy.url, DUBAN_ENV="development", DUBAN_VAR_DIR=str(ctx.scratch / "var")
    )
    return run_child(
        [sys.executable, "-m", "bench.lifecycle.child", *(str(a) for a in args)],
        what=f"bench.lifecycle.child {args[0]}",
        timeout=600,
        env=env,
    )


def run(ctx: Context) -> list[Result]:
    """Populate a template; per round on a fresh copy: the three lifecycles, then the three plan issues."""
    from importlib import metadata

    ctx.set_version("PostgreSQL", server_version())
    try:
        ctx.set_version("SpiffWorkflow", metadata.version("SpiffWorkflow"))
    except metadata.PackageNotFoundError as missing:
        raise RuntimeError("SpiffWorkflow is not installed: pip install -e '.[dev,bench]'") from missing
    rounds = Rounds()
    with scratch_database("bench_lifecycle") as template:
        load_registry(template.url)
        tasks = _populate(template.dsn)
        vacuum_analyze(template.dsn)
        ctx.log(f"  populated {2 * tasks.count:,} lifecycle drafts and three plans of {PLAN_TASKS:,} drafts")
        advance = ctx.steps("rounds (duban, Spiff, bare SQL: lifecycle, plan issue)", ctx.runs)
        for index in range(ctx.runs):
            order = ORDERS[index % len(ORDERS)]
            with scratch_database("bench_lifecycle_run", template=template.name) as copy:
                for target in order:
                    first = tasks.bare_first if target == "bare" else tasks.first
                    rounds.add(target, _child(ctx, copy, target, CLIENTS, first, tasks.count))
                for target in order:
                    plan = tasks.bare_plan if target == "bare" else tasks.plan
                    rounds.add(f"{target}-plan", _child(ctx, copy, f"{target}-plan", plan))
                    if target == "bare":
                        rounds.add("floor-plan", _child(ctx, copy, "floor-plan", tasks.floor_plan))
            ctx.log(
                f"  round {index + 1}: lifecycle ({tasks.count} tasks × 4 steps) "
                + ", ".join(f"{t} {rounds.seconds(t)[-1]:.2f} s" for t in order)
                + f"; plan issue ({rounds.by_target['duban-plan'][-1]['count']:,} tasks) "
                + ", ".join(f"{t} {rounds.seconds(t + '-plan')[-1]:.2f} s" for t in order)
            )
            advance()
    return _results(ctx, rounds, tasks.count)


def _results(ctx: Context, rounds: Rounds, count: int) -> list[Result]:
    duban, spiff = rounds.seconds("duban"), rounds.seconds("spiff")
    duban_plan, spiff_plan = rounds.seconds("duban-plan"), rounds.seconds("spiff-plan")
    bare, bare_plan = rounds.seconds("bare"), rounds.seconds("bare-plan")
    per_s = "lifecycles/s"
    plan_tasks = rounds.by_target["duban-plan"][0]["count"]
    results = [
        Result(
            f"duban: lifecycles/s ({CLIENTS} clients, 4 transactions each)",
            Measured.of([count / s for s in duban], per_s),
            "SpiffWorkflow lifecycles/s",
            Measured.of([count / s for s in spiff], per_s),
        ),
        Result(
            "duban / SpiffWorkflow, lifecycle, per round",
            Measured.of(ratio_samples(spiff, duban), "×"),
            goal=LIFECYCLE,
        ),
        Result(
            "duban CPU per lifecycle (whole process)",
            Measured.of([1000 * f["cpu"] / count for f in rounds.by_target["duban"]], "ms"),
            "SpiffWorkflow CPU per lifecycle",
            Measured.of([1000 * f["cpu"] / count for f in rounds.by_target["spiff"]], "ms"),
        ),
        Result(
            f"duban: issue_plan of {plan_tasks:,} tasks, committed",
            Measured.of(duban_plan, "s"),
            "SpiffWorkflow, instance by instance, one transaction",
            Measured.of(spiff_plan, "s"),
        ),
        Result(
            "duban / SpiffWorkflow, plan issue, per round",
            Measured.of(ratio_samples(spiff_plan, duban_plan), "×"),
            goal=PLAN,
        ),
        Result(
            "duban / bare SQL, lifecycle, per round",
            Measured.of(ratio_samples(bare, duban), "×"),
            "bare SQL lifecycles/s (the same statements on psycopg)",
            Measured.of([count / s for s in bare], per_s),
            goal=LIFECYCLE_BARE,
        ),
        Result(
            "bare SQL / SpiffWorkflow, lifecycle: duban's statements alone",
            Measured.of(ratio_samples(spiff, bare), "×"),
        ),
        Result(
            "duban / bare SQL, plan issue, per round",
            Measured.of(ratio_samples(bare_plan, duban_plan), "×"),
            "bare SQL plan issue (one UPDATE naming the policy version, the events)",
            Measured.of(bare_plan, "s"),
            goal=PLAN_BARE,
        ),
        Result(
            "bare SQL / SpiffWorkflow, plan issue: duban's statements alone",
            Measured.of(ratio_samples(spiff_plan, bare_plan), "×"),
        ),
        Result(
            "floor / SpiffWorkflow, plan issue: the state move and its events alone, no policy",
            Measured.of(ratio_samples(spiff_plan, rounds.seconds("floor-plan")), "×"),
            "floor: the bare SQL plan issue without the policy",
            Measured.of(rounds.seconds("floor-plan"), "s"),
        ),
    ]
    ctx.note(
        "Both sides run in a fresh Python process per measurement, timed from the moment every client "
        "thread is ready (process start, imports, the BPMN parse and the serializer set-up are not "
        "counted); both use the same PostgreSQL with its default settings (synchronous_commit on). duban's "
        "after-commit notification jobs have no broker in these processes and are only logged. The Spiff "
        "instances are stored in a `text` column; each serialization carries the process spec "
        "(about 7 KB per instance)."
    )
    return results
