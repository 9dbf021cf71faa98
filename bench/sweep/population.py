"""The sweep benchmark's population: 1,000,000 tasks written set-based (INSERT … SELECT generate_series).

Every figure is a deterministic function of the row number, so two builds are identical. Categories,
per thousand tasks (`b = i·7919 mod 1000`, a permutation that scatters each category over the table):

| b | share | state | deadline (calendar days from today) |
|---|---:|---|---|
| 0–99 | 10 % | in progress (80 %), assigned (10 %), returned (10 %) | 1–60 days ago: overdue |
| 100–139 | 4 % | in progress | today … +13: reminders, contributions due |
| 140–159 | 2 % | assigned, not signed for, issued 1–25 days ago | +30 … +329 |
| 160–559 | 40 % | in progress | +14 … +713 |
| 560–859 | 30 % | completed | −700 … −1 |
| 860–909 | 5 % | submitted (ladder paused) | −30 … +169 |
| 910–959 | 5 % | draft (no policy yet) | +0 … +499 |
| 960–999 | 4 % | cancelled | −300 … −1 |

Each task has one lead (two for one task in twenty: 联合牵头) and 0–3 cooperating units, drawn from
the registry's party, government and 盟市 bodies; one department in three has a robot webhook besides
its mail address. 100 plans of 100 measures; one measure in ten carries a recurring report duty
(monthly or quarterly), and six in seven of those tasks reported on time. Half of the cooperating units
of tasks due soon have sent their contribution. Issued tasks name the frozen policy version, its rules
kept once, as duban writes them at issue.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Final

import psycopg

from bench.pgscratch import TASK_TITLE_SQL
from bench.policy import keep_policy
from duban.workflow.policy import EscalationPolicy

PLANS: Final = 100
MEASURES_PER_PLAN: Final = 100
OFFICE_CODE: Final = "sthbwbgs"

_STATE: Final = """
    CASE
      WHEN b < 100 THEN CASE r %% 10 WHEN 0 THEN 'assigned' WHEN 1 THEN 'returned' ELSE 'in_progress' END
      WHEN b < 140 THEN 'in_progress'
      WHEN b < 160 THEN 'assigned'
      WHEN b < 560 THEN 'in_progress'
      WHEN b < 860 THEN 'completed'
      WHEN b < 910 THEN 'submitted'
      WHEN b < 960 THEN 'draft'
      ELSE 'cancelled'
    END"""
_DEADLINE: Final = """
    CASE
      WHEN b < 100 THEN %(today)s::date - (1 + r %% 60)
      WHEN b < 140 THEN %(today)s::date + (r %% 14)
      WHEN b < 160 THEN %(today)s::date + 30 + r %% 300
      WHEN b < 560 THEN %(today)s::date + 14 + r %% 700
      WHEN b < 860 THEN %(today)s::date - 700 + r %% 700
      WHEN b < 910 THEN %(today)s::date - 30 + r %% 200
      WHEN b < 960 THEN %(today)s::date + r %% 500
      ELSE %(today)s::date - 300 + r %% 300
    END"""
# Issued at 10:00 Beijing time (02:00 UTC), some months before the deadline; not-signed-for tasks recently.
_ISSUED: Final = """
    CASE
      WHEN b >= 910 AND b < 960 THEN NULL
      WHEN b >= 140 AND b < 160 THEN (%(today)s::date - (1 + r %% 25)) + time '02:00'
      ELSE (LEAST(deadline, %(today)s::date) - (60 + r %% 300)) + time '02:00'
    END"""

TASKS_SQL: Final = f"""
INSERT INTO task (plan_id, measure_id, parent_id, region_code, title, state, supervision_level,
                  notice_colour, deadline, original_deadline, deadline_source, deadline_note, policy_version,
                  version, issued_at, accepted_at, submitted_at, completed_at, created_at, updated_at)
SELECT plan_id, measure_id, NULL, region_code, title, state, 'none', NULL, deadline, deadline, 'explicit',
       NULL, CASE WHEN issued IS NULL THEN NULL ELSE %(policy_version)s END,
       CASE state WHEN 'draft' THEN 1 WHEN 'assigned' THEN 2 ELSE 3 END,
       issued AT TIME ZONE 'UTC',
       CASE WHEN state IN ('draft', 'assigned') THEN NULL
            ELSE (issued + interval '3 days') AT TIME ZONE 'UTC' END,
       CASE WHEN state IN ('submitted', 'completed')
            THEN ((deadline - 8) + time '02:00') AT TIME ZONE 'UTC' END,
       CASE WHEN state = 'completed' THEN ((deadline - 5) + time '02:00') AT TIME ZONE 'UTC' END,
       now(), now()
FROM (
  SELECT *, {_ISSUED} AS issued
  FROM (
    SELECT i, b, r, {_STATE} AS state, {_DEADLINE} AS deadline,
           %(first_measure)s + (i - 1) %% %(measures)s AS measure_id,
           %(first_plan)s + ((i - 1) %% %(measures)s) / {MEASURES_PER_PLAN} AS plan_id,
           'r' || ((i - 1) / %(measures)s) AS region_code,
           {TASK_TITLE_SQL}
             || '（' || 'r' || ((i - 1) / %(measures)s) || '）' AS title
    FROM (SELECT i, ((i * 7919) %% 1000)::int AS b, ((i * 104729) %% 997)::int AS r
          FROM generate_series(1::bigint, %(tasks)s) AS i) AS numbers
  ) AS chosen
) AS dated
"""  # noqa: S608  (fixed fragments of this module)

PLANS_SQL: Final = """
INSERT INTO plan (key, title, title_inferred, script, source_name, content_hash, revision, issue_date,
                  horizon, status, source_text, warnings, created_at, updated_at)
SELECT 'bench-plan-' || p, '基准实施方案（第 ' || p || ' 号）', false, 'simplified', NULL, md5(p::text), 1,
       date '2023-01-01', date '2027-12-31', 'issued', '', '[]'::jsonb, now(), now()
FROM generate_series(1, %(plans)s) AS p
"""

MEASURES_SQL: Final = """
INSERT INTO measure (plan_id, parent_id, kind, path, path_key, label, position, title, body, line_start,
                     line_end, deadline, deadline_text, recurrence, facts, content_hash, created_at)
SELECT %(first_plan)s + (m - 1) / %(per_plan)s, NULL, 'measure',
       jsonb_build_array(((m - 1) %% %(per_plan)s + 1)::text),
       'm' || m, '', (m - 1) %% %(per_plan)s, '措施 ' || m, '', NULL, NULL, NULL, NULL,
       CASE m %% 20 WHEN 0 THEN '{"frequency": "quarterly", "text": "每季度报送进展"}'::jsonb
                    WHEN 10 THEN '{"frequency": "monthly", "text": "每月报送进展"}'::jsonb END,
       '{}'::jsonb, md5(m::text), now()
FROM generate_series(1, %(measures)s) AS m
"""

# Leads and cooperating units, picked from `pool` (an array of department ids) by the task id.
ASSIGNMENTS_SQL: Final = """
WITH pool AS (
  SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM department
  WHERE code <> %(office)s AND kind IN ('政府部门', '党委部门', '盟市')
)
INSERT INTO task_assignment (task_id, department_id, role, source, evidence, position)
SELECT t.id, pool.ids[1 + (t.id * 37 + pick.shift) %% pool.n], pick.role, 'explicit', '[]'::jsonb,
       pick.position
FROM task AS t CROSS JOIN pool
JOIN (VALUES (0, 'lead', 0, 0), (11, 'lead', 1, 1), (5, 'cooperating', 2, 2), (12, 'cooperating', 3, 3),
             (19, 'cooperating', 4, 4)) AS pick (shift, role, position, kind)
  ON (pick.kind = 0) OR (pick.kind = 1 AND t.id %% 20 = 0) OR (pick.kind >= 2 AND pick.kind - 1 <= t.id %% 4)
"""

REPORTS_SQL: Final = """
INSERT INTO task_report (task_id, kind, department_id, author_user_id, percent, text, indicator_values,
                         attachments, created_at)
SELECT t.id, 'progress', a.department_id, NULL::int, 50, '按期报送本期进展。', '[]'::jsonb, '[]'::jsonb,
       ((%(today)s::date - 3) + time '02:00') AT TIME ZONE 'UTC'
FROM task AS t
JOIN measure AS m ON m.id = t.measure_id
JOIN task_assignment AS a ON a.task_id = t.id AND a.role = 'lead' AND a.position = 0
WHERE m.recurrence IS NOT NULL AND t.state IN ('assigned', 'in_progress', 'returned') AND t.id %% 7 <> 0
UNION ALL
SELECT t.id, 'contribution', a.department_id, NULL::int, NULL::int, '配合单位报送配合情况。', '[]'::jsonb,
       '[]'::jsonb, t.issued_at + interval '10 days'
FROM task AS t
JOIN task_assignment AS a ON a.task_id = t.id AND a.role = 'cooperating'
WHERE t.state IN ('assigned', 'in_progress', 'returned') AND t.deadline >= %(today)s::date
  AND t.deadline < %(today)s::date + 14 AND (t.id + a.department_id) %% 2 = 0
"""

WEBHOOKS_SQL: Final = """
UPDATE department SET webhook = 'https://oapi.dingtalk.com/robot/send?access_token=' || md5(code)
WHERE id %% 3 = 0 AND code <> %(office)s
"""


def populate(
    dsn: str,
    today: dt.date,
    tasks: int,
    policy: EscalationPolicy,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """Write plans, measures, tasks, assignments and reports (the registry must be loaded); row counts."""
    measures = PLANS * MEASURES_PER_PLAN
    began = time.perf_counter()

    def done(what: str) -> None:
        log(f"  {what} ({time.perf_counter() - began:.0f} s)")

    with psycopg.connect(dsn) as conn:
        # A bulk load of generated, consistent rows: skip the foreign-key triggers while writing.
        conn.execute("SET session_replication_role = replica")
        conn.execute(WEBHOOKS_SQL, {"office": OFFICE_CODE})
        conn.execute(PLANS_SQL, {"plans": PLANS})
        first_plan = _scalar(conn, "SELECT min(id) FROM plan")
        conn.execute(
            MEASURES_SQL, {"first_plan": first_plan, "per_plan": MEASURES_PER_PLAN, "measures": measures}
        )
        first_measure = _scalar(conn, "SELECT min(id) FROM measure")
        conn.execute(
            TASKS_SQL,
            {
                "today": today,
                "tasks": tasks,
                "measures": measures,
                "first_measure": first_measure,
                "first_plan": first_plan,
                "policy_version": keep_policy(conn, policy),
            },
        )
        done(f"{tasks:,} tasks written")
        conn.execute(ASSIGNMENTS_SQL, {"office": OFFICE_CODE})
        done("assignments written")
        conn.execute("ANALYZE task, measure, task_assignment")  # the reports' join needs real estimates
        conn.execute(REPORTS_SQL, {"today": today})
        conn.commit()
        done("reports written, committed")
        return {
            table: _scalar(conn, f"SELECT count(*) FROM {table}")  # noqa: S608  (fixed table names)
            for table in ("department", "plan", "measure", "task", "task_assignment", "task_report")
        }


def _scalar(conn: psycopg.Connection[tuple[int]], sql: str) -> int:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])
