"""The reference: one hand-written SELECT of the notices a sweep is due to write, run with bare psycopg.

It names every rule and step of policy version 1 literally (deadline reminders and ladder, 签收提醒,
contributions, recurring reports; version 2 has the same thresholds and adds only the `completion`
section, which no sweep reads), with the day's thresholds as parameters. The thresholds and the report
periods are dates computed with duban's working-day calendar (microseconds of arithmetic); everything
else is SQL written here. `bench.sweep` checks that it selects exactly the outbox rows the sweep wrote.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Final

import psycopg

from duban.workflow.calendar import WorkingCalendar
from duban.workflow.policy import EscalationPolicy
from duban.workflow.sweep import Thresholds, day_start, periods_of

CHASED: Final = "('assigned', 'in_progress', 'returned')"
ISSUE_DAY: Final = "(t.issued_at AT TIME ZONE 'Asia/Shanghai')::date"

# The latest step that has come (policy v1: reminders 5/3/1 before, ladder 1/3/6/10/15/30 after).
LADDER_CASE: Final = f"""CASE
      WHEN t.deadline <= %(a30)s AND {ISSUE_DAY} <= %(a30)s THEN 'propose_accountability'
      WHEN t.deadline <= %(a15)s AND {ISSUE_DAY} <= %(a15)s THEN 'propose_interview'
      WHEN t.deadline <= %(a10)s AND {ISSUE_DAY} <= %(a10)s THEN 'supervise_red'
      WHEN t.deadline <= %(a6)s AND {ISSUE_DAY} <= %(a6)s THEN 'supervise_orange'
      WHEN t.deadline <= %(a3)s AND {ISSUE_DAY} <= %(a3)s THEN 'supervise_blue'
      WHEN t.deadline <= %(a1)s AND {ISSUE_DAY} <= %(a1)s THEN 'urge'
      WHEN t.deadline <= %(b1)s AND t.deadline >= %(today)s AND {ISSUE_DAY} <= t.deadline THEN 'remind_1'
      WHEN t.deadline <= %(b3)s AND t.deadline >= %(today)s AND {ISSUE_DAY} <= t.deadline THEN 'remind_3'
      WHEN t.deadline <= %(b5)s AND t.deadline >= %(today)s AND {ISSUE_DAY} <= t.deadline THEN 'remind_5'
    END"""
REPORT_CASE: Final = "o.step"
OFFICE_STEPS: Final = "('propose_interview', 'propose_accountability')"

SQL: Final = f"""
SELECT 'n:' || n.task_id || ':' || n.rule || ':' || n.step || ':' || n.period || ':' || n.department_id
         || ':' || c.channel AS dedupe_key,
       n.task_id, n.rule, n.step, n.period, n.due, n.department_id,
       CASE n.step WHEN 'urge' THEN 2 WHEN 'contribution_urge_1' THEN 2 WHEN 'supervise_blue' THEN 3
                   WHEN 'supervise_orange' THEN 4 WHEN 'supervise_red' THEN 5 WHEN 'propose_interview' THEN 6
                   WHEN 'propose_accountability' THEN 7 ELSE 1 END AS urgency,
       CASE WHEN n.step LIKE 'supervise%%' OR n.step LIKE 'propose%%' THEN 'immediate' ELSE 'digest' END
         AS delivery,
       c.channel, c.recipient
FROM (
  SELECT due.task_id, addressee.department_id, due.rule, due.step, due.period, due.due
  FROM (
    SELECT t.id AS task_id, 'deadline' AS rule, {LADDER_CASE} AS step, t.deadline::text AS period,
           t.deadline AS due
    FROM task AS t
    WHERE t.state IN {CHASED} AND t.deadline IS NOT NULL AND t.deadline <= %(b5)s
      AND (t.deadline > %(a40)s OR {ISSUE_DAY} > %(a40)s)
    UNION ALL
    SELECT t.id, 'accept', 'accept', {ISSUE_DAY}::text, {ISSUE_DAY}
    FROM task AS t
    WHERE t.state = 'assigned' AND t.issued_at < %(accept_newest)s AND t.issued_at >= %(accept_oldest)s
    UNION ALL
    SELECT t.id, 'report', o.step, o.frequency || ':' || o.period, o.due
    FROM unnest(%(r_frequency)s::text[], %(r_period)s::text[], %(r_start)s::date[],
                %(r_issued_before)s::timestamptz[], %(r_reported_since)s::timestamptz[], %(r_step)s::text[],
                %(r_due)s::date[])
           AS o (frequency, period, start, issued_before, reported_since, step, due)
    JOIN measure AS m ON m.recurrence ->> 'frequency' = o.frequency
    JOIN task AS t ON t.measure_id = m.id
    WHERE t.state IN {CHASED} AND t.issued_at < o.issued_before
      AND (t.deadline IS NULL OR t.deadline >= o.start)
      AND NOT EXISTS (SELECT 1 FROM task_report AS r WHERE r.task_id = t.id AND r.kind = 'progress'
                      AND r.created_at >= o.reported_since)
  ) AS due
  JOIN LATERAL (
    SELECT a.department_id FROM task_assignment AS a
    WHERE a.task_id = due.task_id AND a.role = 'lead' AND due.step NOT IN {OFFICE_STEPS}
    UNION ALL
    SELECT %(office)s WHERE due.step IN {OFFICE_STEPS}
  ) AS addressee ON true
  WHERE due.step IS NOT NULL
  UNION ALL
  SELECT t.id, a.department_id, 'contribution',
         CASE
           WHEN t.deadline <= %(b4)s AND t.deadline >= %(today)s AND {ISSUE_DAY} <= t.deadline
             THEN 'contribution_urge_1'
           WHEN t.deadline <= %(b6)s AND t.deadline >= %(today)s AND {ISSUE_DAY} <= t.deadline
             THEN 'contribution_remind_1'
           WHEN t.deadline <= %(b8)s AND t.deadline >= %(today)s AND {ISSUE_DAY} <= t.deadline
             THEN 'contribution_remind_3'
         END AS step,
         t.deadline::text, t.deadline
  FROM task AS t
  JOIN task_assignment AS a ON a.task_id = t.id AND a.role = 'cooperating'
  WHERE t.state IN {CHASED} AND t.deadline IS NOT NULL AND t.deadline <= %(b8)s AND t.deadline > %(a6)s
    AND {ISSUE_DAY} <= t.deadline AND t.deadline >= %(today)s
    AND NOT EXISTS (SELECT 1 FROM task_report AS r WHERE r.task_id = t.id AND r.kind = 'contribution'
                    AND r.department_id = a.department_id AND r.created_at >= t.issued_at)
) AS n
JOIN department AS d ON d.id = n.department_id
CROSS JOIN LATERAL (VALUES ('email', coalesce(d.email, '')), ('webhook', d.webhook)) AS c (channel, recipient)
WHERE c.channel = 'email' OR (d.webhook IS NOT NULL AND d.webhook <> '')
"""  # noqa: S608  (fixed fragments of this module)


def parameters(
    policy: EscalationPolicy, calendar: WorkingCalendar, today: dt.date, office_id: int
) -> dict[str, Any]:
    """The day's thresholds (dates) and report obligations for SQL, from the calendar and policy v1."""
    if policy.version not in (1, 2):  # 2 = 1 plus `completion`, which the sweep does not read
        raise RuntimeError("the bare SQL spells out policy versions 1–2; update bench/sweep/bare.py")
    th = Thresholds(calendar, today)
    params: dict[str, Any] = {"today": today, "office": office_id}
    for days in (1, 3, 6, 10, 15, 30, 40):
        params[f"a{days}"] = th.last_due(days)
    for days in (1, 3, 4, 5, 6, 8):
        params[f"b{days}"] = th.last_due(-days)
    params["accept_newest"] = day_start(th.last_due(4) + dt.timedelta(days=1))
    params["accept_oldest"] = day_start(th.last_due(14) + dt.timedelta(days=1))
    reports: dict[str, list[Any]] = {
        key: [] for key in ("frequency", "period", "start", "issued_before", "reported_since", "step", "due")
    }
    steps = policy.report_steps()
    horizon = max(s.offset for s in steps) + policy.catch_up_working_days
    for frequency, due_after in policy.reports.items():
        for period, previous in periods_of(frequency, today):
            due = calendar.add_working_days(period.end, due_after).date
            if th.has_come(due, horizon):
                continue
            come = [s for s in steps if th.has_come(due, s.offset) and (s.offset > 0 or due >= today)]
            if not come:
                continue
            previous_due = calendar.add_working_days(previous.end, due_after).date
            for key, value in (
                ("frequency", frequency),
                ("period", period.key),
                ("start", period.start),
                ("issued_before", day_start(period.end + dt.timedelta(days=1))),
                ("reported_since", day_start(previous_due + dt.timedelta(days=1))),
                ("step", come[-1].name),
                ("due", due),
            ):
                reports[key].append(value)
    params.update({f"r_{key}": values for key, values in reports.items()})
    return params


def select_due(dsn: str, params: dict[str, Any], *, jit: bool = True) -> tuple[float, int]:
    """Run the SELECT and fetch every row into Python; (seconds, rows). With `jit=False` the session runs
    it with `jit = off`, as the sweep runs its own statements."""
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT 1")
        if not jit:
            conn.execute("SET jit = off")
        began = time.perf_counter()
        rows = conn.execute(SQL, params).fetchall()
        seconds = time.perf_counter() - began
    return seconds, len(rows)


def differences(dsn: str, params: dict[str, Any]) -> tuple[int, int, int]:
    """(rows selected, outbox notice rows, keys in only one of them) after a sweep."""
    query = f"""
        SELECT count(b.dedupe_key), count(o.dedupe_key),
               count(*) FILTER (WHERE b.dedupe_key IS NULL OR o.dedupe_key IS NULL)
        FROM ({SQL}) AS b
        FULL JOIN (SELECT dedupe_key FROM notification_outbox WHERE kind = 'notice') AS o
          ON o.dedupe_key = b.dedupe_key"""  # noqa: S608  (fixed SQL, parameters bound)
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


# The sweep's writes in one hand-written statement: the notices inserted (immediate ones marked queued),
# each task's ladder climbed to the highest rung its new notices reach, one event per task moved.
WRITE_SQL: Final = f"""
WITH inserted AS (
  INSERT INTO notification_outbox (dedupe_key, kind, task_id, rule, step, period, due, department_id, urgency,
                                   delivery, channel, recipient, status, attempts, next_attempt_at, queued_at,
                                   payload, last_error, created_at)
  SELECT dedupe_key, 'notice', task_id, rule, step, period, due, department_id, urgency, delivery, channel,
         coalesce(recipient, ''), 'pending', 0, %(now)s,
         CASE WHEN delivery = 'immediate' THEN %(now)s::timestamptz END, '{{}}'::jsonb, '', %(now)s
  FROM ({SQL}) AS due_notice
  ORDER BY task_id, rule, step, department_id, channel
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING task_id, rule, step, period
), target AS (
  SELECT DISTINCT ON (task_id) task_id, rule, step, period, rung
  FROM (SELECT inserted.*, CASE step WHEN 'urge' THEN 2 WHEN 'supervise_blue' THEN 3
                             WHEN 'supervise_orange' THEN 4 WHEN 'supervise_red' THEN 5
                             WHEN 'propose_interview' THEN 5 WHEN 'propose_accountability' THEN 5
                             ELSE 1 END AS rung
        FROM inserted WHERE rule IN ('deadline', 'accept', 'report')) AS ranked
  ORDER BY task_id, rung DESC
), moved AS (
  UPDATE task AS t
  SET supervision_level = CASE WHEN target.rung >= 3 THEN 'supervised'
                               WHEN target.rung = 2 THEN 'urged' ELSE 'reminded' END,
      notice_colour = CASE target.rung WHEN 3 THEN 'blue' WHEN 4 THEN 'orange' WHEN 5 THEN 'red'
                                       ELSE t.notice_colour END,
      version = t.version + 1, updated_at = %(now)s
  FROM target, task AS old
  WHERE t.id = target.task_id AND old.id = t.id
    AND CASE old.supervision_level WHEN 'none' THEN 0 WHEN 'reminded' THEN 1 WHEN 'urged' THEN 2
          WHEN 'supervised' THEN CASE old.notice_colour WHEN 'blue' THEN 3 WHEN 'orange' THEN 4 ELSE 5 END
          WHEN 'interviewed' THEN 6 ELSE 7 END < target.rung
  RETURNING t.id, old.supervision_level AS from_level, t.supervision_level AS to_level, target.rule,
            target.step, target.period
)
INSERT INTO task_event (task_id, kind, actor_user_id, actor_department_id, actor_label, from_state, to_state,
                        from_level, to_level, reason, data, request_id, created_at)
SELECT id, CASE to_level WHEN 'supervised' THEN 'supervise' WHEN 'urged' THEN 'urge' ELSE 'remind' END,
       NULL, NULL, '调度程序 / scheduler', NULL, NULL, from_level, to_level, '',
       jsonb_build_object('rule', rule, 'step', step, 'period', period), NULL, %(now)s
FROM moved
"""  # noqa: S608  (fixed fragments of this module)


def write_due(dsn: str, params: dict[str, Any], now: dt.datetime) -> tuple[float, int]:
    """The sweep's writes as one statement and a commit; (seconds, events written)."""
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT 1")
        began = time.perf_counter()
        cursor = conn.execute(WRITE_SQL, {**params, "now": now})
        conn.commit()
        seconds = time.perf_counter() - began
    return seconds, cursor.rowcount
