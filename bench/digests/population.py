"""The digests benchmark's population: tasks and their due digest items, written set-based.

Each task (in progress, one lead drawn from the registry's party, government and 盟市 bodies) has a
deadline on one of the working days; its four notices (remind_5, remind_3, remind_1, urge) are outbox rows
due for the daily digest on the working days 5, 3 and 1 before the deadline and 1 after it, written at
08:00 on those days, as the sweep would have written them.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import psycopg

from bench.pgscratch import TASK_TITLE_SQL
from bench.policy import keep_policy
from duban.workflow.policy import EscalationPolicy

STEPS: Final = (("remind_5", -5, 1), ("remind_3", -3, 1), ("remind_1", -1, 1), ("urge", 1, 2))

PLAN_SQL: Final = """
INSERT INTO plan (key, title, title_inferred, script, source_name, content_hash, revision, issue_date,
                  horizon, status, source_text, warnings, created_at, updated_at)
VALUES ('bench-digests', '内蒙古自治区生态环境保护督办任务（基准）', false, 'simplified', NULL,
        md5('digests'), 1, date '2025-01-01', date '2027-12-31', 'issued', '', '[]'::jsonb, now(), now())
RETURNING id
"""

# Task i's deadline: one of the working days 5 … 5 + spread - 1, drawn with random() after a fixed
# setseed, so that every department has deadlines on every day (days[] is 1-based here).
TASKS_SQL: Final = f"""
INSERT INTO task (plan_id, measure_id, parent_id, region_code, title, state, supervision_level, notice_colour,
                  deadline, original_deadline, deadline_source, deadline_note, policy_version, version,
                  issued_at, accepted_at, submitted_at, completed_at, created_at, updated_at)
SELECT %(plan)s, NULL, NULL, 'd' || i,
       {TASK_TITLE_SQL} || '（第 ' || i || ' 项）',
       'in_progress', 'none', NULL, (%(days)s::date[])[6 + draw], (%(days)s::date[])[6 + draw], 'explicit',
       NULL, %(policy_version)s, 3,
       timestamptz '2025-06-02 10:00+08', timestamptz '2025-06-04 10:00+08', NULL, NULL, now(), now()
FROM (SELECT i, floor(random() * %(spread)s)::int AS draw FROM generate_series(1, %(tasks)s) AS i)
  AS drawn
"""  # noqa: S608  (a fixed fragment)

ASSIGNMENTS_SQL: Final = """
WITH pool AS (
  SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM department
  WHERE code <> 'sthbwbgs' AND kind IN ('政府部门', '党委部门', '盟市')
)
INSERT INTO task_assignment (task_id, department_id, role, source, evidence, position)
SELECT t.id, pool.ids[1 + t.id %% pool.n], 'lead', 'explicit', '[]'::jsonb, 0
FROM task AS t CROSS JOIN pool
"""

ITEM_COLUMNS: Final = """dedupe_key, kind, task_id, rule, step, period, due, department_id, urgency, delivery,
channel, recipient, status, attempts, next_attempt_at, queued_at, message_id, payload, last_error, created_at,
sent_at"""

# One row per task and step; the day index is the deadline's plus the step's offset in working days. The
# rows wait in a table of their own until the benchmark writes each day's into the outbox before that
# day's dispatch, as the sweep writes them at 00:05 (a notice is never in the outbox before its time).
ITEMS_SQL: Final = """
CREATE TABLE bench_digest_item AS
SELECT 'n:' || t.id || ':deadline:' || s.step || ':' || t.deadline || ':' || a.department_id || ':email'
         AS dedupe_key,
       'notice'::varchar AS kind, t.id AS task_id, 'deadline'::varchar AS rule, s.step::varchar AS step,
       t.deadline::text AS period, t.deadline AS due, a.department_id, s.urgency,
       'digest'::varchar AS delivery,
       'email'::varchar AS channel, coalesce(d.email, '') AS recipient, 'pending'::varchar AS status,
       0 AS attempts, day.at AS next_attempt_at, NULL::timestamptz AS queued_at, NULL::varchar AS message_id,
       '{}'::jsonb AS payload, ''::text AS last_error, day.at AS created_at, NULL::timestamptz AS sent_at
FROM task AS t
JOIN task_assignment AS a ON a.task_id = t.id AND a.role = 'lead'
JOIN department AS d ON d.id = a.department_id
CROSS JOIN (VALUES ('remind_5', -5, 1), ('remind_3', -3, 1), ('remind_1', -1, 1), ('urge', 1, 2))
  AS s (step, shift, urgency)
CROSS JOIN LATERAL (
  SELECT ((%(days)s::date[])[array_position(%(days)s::date[], t.deadline) + s.shift] + time '08:00')
         AT TIME ZONE 'Asia/Shanghai'
) AS day (at)
ORDER BY day.at, t.id, s.step
"""
RELEASE_SQL: Final = f"""
INSERT INTO notification_outbox ({ITEM_COLUMNS})
SELECT {ITEM_COLUMNS} FROM bench_digest_item WHERE created_at > %(after)s AND created_at <= %(until)s
ORDER BY created_at, task_id, step
"""  # noqa: S608  (fixed fragments)


def populate(dsn: str, days: list[dt.date], tasks: int, policy: EscalationPolicy) -> dict[str, int]:
    """Write the plan, tasks, leads and 4 digest items per task, staged (the registry must be loaded)."""
    spread = len(days) - 6  # deadlines on days 5 … len-2, so every item falls on one of `days`
    if spread < 1:
        raise ValueError("need at least 7 working days")
    with psycopg.connect(dsn) as conn:
        row = conn.execute(PLAN_SQL).fetchone()
        assert row is not None
        version = keep_policy(conn, policy)
        params = {"plan": row[0], "days": days, "spread": spread, "tasks": tasks, "policy_version": version}
        conn.execute("SELECT setseed(0.42)")
        conn.execute(TASKS_SQL, params)
        conn.execute(ASSIGNMENTS_SQL, {})  # (parameters given, so that %% is read as %)
        conn.execute("ANALYZE task, task_assignment, department")
        conn.execute(ITEMS_SQL, params)
        conn.commit()
        return {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]  # noqa: S608
            for table in ("department", "task", "task_assignment", "bench_digest_item")
        }
