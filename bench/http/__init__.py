"""Benchmark: accepted task actions per second through HTTP against PostgreSQL (issue 5)."""

from __future__ import annotations

from bench.core import Context, Result
from bench.http.suite import run_suite

NAME = "http"
ORDER = 20
TITLE = "HTTP actions against PostgreSQL at 64 concurrent clients"
INTRO = """\
What it measures: accepted task actions per second through duban's API —
`POST /api/v1/tasks/{id}/actions/{action}` with a bearer JWT and `If-Match`, so authentication, the
state machine, the version check, the audit event and the response with its ETag are all on the path
— against PostgreSQL on loopback, from 64 concurrent keep-alive clients. Each client owns 32 tasks (in
progress, led by one department) and alternates `submit` by the lead and `return` (with a reason) by
the office on each, so every action is accepted and no two clients race. Two references run the same
load in the same round: **pgbench** running the action's SQL (read state and version, guarded
`UPDATE task … WHERE id AND version`, `INSERT task_event`, one transaction) with 64 clients, the
database's ceiling; and a **bare FastAPI endpoint** doing that SQL through a `psycopg_pool`
ConnectionPool, the framework's ceiling. Both HTTP apps run under the same uvicorn command (2 worker
processes, one per core, as production would on this machine; access log off) and are driven by the
same generator (`bench/http/loadgen.py`: one uvloop process, raw HTTP/1.1), started fresh for every
run, 2 s warm-up then 10 s measured. The tasks carry escalation policy version 1, without the
`completion` section (`bench/policy.py`): what 办结 needs under version 2 (a 100% report with evidence;
after a return, a new report) would turn the two-action cycle into four requests with uploads, so the
action path is measured alone; `submit` still reads the frozen policy. Goals (issue 17, each a ratio
within one round): duban ≥ 0.85× the bare endpoint's throughput and ≥ 0.15× pgbench; duban's p99 ≤ 1.25×
the bare endpoint's p99 (the old absolute "p99 < 150 ms" is dropped: the bare endpoint itself misses it
on two shared cores)."""


def run(ctx: Context) -> list[Result]:
    """Seed a database of its own, run the rounds, report (see bench.http.suite)."""
    return run_suite(ctx)
