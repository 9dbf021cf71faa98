"""PostgreSQL restarted under API load: 503 (never 500) while it is down, answers again within 10 s of its
return, and every write the API accepted (201) is in the database afterwards."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from faults.core import Context, Outcome, elapsed
from faults.http import Load, make_users, stored_reports
from faults.processes import start_api
from faults.services import HOST, free_port
from faults.world import populate

NAME = "postgres"
TITLE = "PostgreSQL restarted under API load"
BASELINE = 6.0
DOWN = 4.0
AFTER = 12.0
RECOVERY_LIMIT = 10.0
TASKS = 50


def _probe(base_url: str) -> tuple[int | None, str]:
    """/healthz status and the database_up line of /metrics, while the database is down."""
    try:
        health = httpx.get(f"{base_url}/healthz", timeout=10).status_code
        metrics = httpx.get(f"{base_url}/metrics", timeout=10).text
    except httpx.HTTPError as error:
        return None, type(error).__name__
    up = next((line for line in metrics.splitlines() if line.startswith("duban_database_up")), "absent")
    return health, up


def _logged_503s(log: Path) -> set[str]:
    """Request ids of the 503 answers in the API's JSON access log."""
    found = set()
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"duban.access"' in line:
            record = json.loads(line)
            if record.get("status") == 503 and record.get("request_id"):
                found.add(str(record["request_id"]))
    return found


def run(ctx: Context, outcome: Outcome) -> None:
    """Load the API, stop PostgreSQL (fast shutdown) for DOWN seconds, start it, keep loading."""
    outcome.tried = (
        f"`duban run` (the API) on the private PostgreSQL; 4 writers (progress reports, each with a unique "
        f"text) and 2 readers (task lists) without pause; after {BASELINE:.0f} s `pg_ctl stop -m fast` "
        f"(open transactions rolled back, every connection cut), {DOWN:.0f} s down, `pg_ctl start`, then "
        f"{AFTER:.0f} s more load. Checked: every answer while down is 503 (problem+json, Retry-After), "
        f"no other 5xx, answers again within {RECOVERY_LIMIT:.0f} s, every 201 stored."
    )
    url, engine = ctx.database(NAME)
    tokens = make_users(engine)
    task_ids = populate(engine, TASKS, key="pgload", lead=tokens.lead_department_id)
    folder = ctx.scratch / NAME
    port = free_port()
    api = start_api(ctx.env(url, folder), folder / "api.log", port)
    base_url = f"http://{HOST}:{port}"
    load = Load(base_url, tokens, task_ids)
    started = time.monotonic()
    try:
        load.start()
        time.sleep(BASELINE)
        stop_began = time.monotonic()
        ctx.postgres.stop("fast")
        time.sleep(DOWN / 2)
        health_down, metrics_down = _probe(base_url)
        time.sleep(DOWN / 2)
        ctx.postgres.start()
        back = time.monotonic()
        time.sleep(AFTER)
        load.stop()
        health_after = httpx.get(f"{base_url}/healthz", timeout=10).status_code
    finally:
        load.stop()
        api.stop()
    replies = sorted(load.replies, key=lambda r: r.started)
    accepted = [r for r in replies if r.kind == "write" and r.status == 201]
    stored = stored_reports(engine, [r.marker for r in replies if r.kind == "write"])
    lost = [r for r in accepted if r.marker not in stored]
    unavailable = [r for r in replies if r.status == 503]
    other_5xx = [r for r in replies if r.status is not None and r.status >= 500 and r.status != 503]
    no_answer = [r for r in replies if r.status is None]
    late_503 = [r for r in unavailable if r.started > back + RECOVERY_LIMIT]
    first_ok = next(
        (r for r in replies if r.started >= back and r.status is not None and r.status < 500), None
    )
    recovery = (first_ok.ended - back) if first_ok else float("inf")
    last_503 = max((r.ended for r in unavailable), default=stop_began) - stop_began
    stored_after_503 = [r for r in replies if r.kind == "write" and r.status == 503 and r.marker in stored]
    logged = _logged_503s(folder / "api.log")
    outcome.figure("requests", len(replies))
    outcome.figure("writes accepted (201)", len(accepted))
    outcome.figure("accepted writes lost", len(lost))
    outcome.figure("503 answers", len(unavailable))
    outcome.figure("other 5xx", len(other_5xx))
    outcome.figure("requests without an answer", len(no_answer))
    outcome.figure("seconds from restart to the first answer", round(recovery, 2))
    outcome.figure("seconds from stop to the last 503", round(last_503, 2))
    outcome.figure(
        "503s in the JSON access log (by request id)", len(logged & {r.request_id for r in unavailable})
    )
    outcome.figure("writes answered 503 yet stored", len(stored_after_503))
    outcome.figure("seconds", round(elapsed(started), 1))
    statuses: dict[str, int] = {}
    for reply in replies:
        key = str(reply.status) if reply.status is not None else reply.error
        statuses[key] = statuses.get(key, 0) + 1
    outcome.note(f"answers by status: {dict(sorted(statuses.items()))}")
    outcome.note(
        f"while PostgreSQL was down: /healthz answered {health_down}, /metrics said `{metrics_down}`; "
        f"after: /healthz {health_after}"
    )
    outcome.note(
        f"the API answered again {recovery:.2f} s after PostgreSQL was back; "
        f"{len(accepted)} writes accepted, "
        f"all {len(accepted) - len(lost)} found in the database"
    )
    if stored_after_503:
        outcome.note(
            f"{len(stored_after_503)} writes answered 503 were stored: the commit reached the server but its "
            "answer was lost with the connection (a client retries them with an Idempotency-Key)"
        )
    outcome.check(not lost, f"{len(lost)} accepted writes lost")
    outcome.check(not other_5xx, f"{len(other_5xx)} 5xx answers other than 503: {other_5xx[:3]}")
    outcome.check(not no_answer, f"{len(no_answer)} requests got no answer: {no_answer[:3]}")
    outcome.check(bool(unavailable), "no 503 while PostgreSQL was down: the outage was not observed")
    outcome.check(recovery <= RECOVERY_LIMIT, f"no answer within {RECOVERY_LIMIT:.0f} s of the restart")
    outcome.check(not late_503, f"{len(late_503)} 503s more than {RECOVERY_LIMIT:.0f} s after the restart")
    outcome.check(health_down == 503, f"/healthz answered {health_down} while the database was down")
    outcome.check(health_after == 200, f"/healthz answered {health_after} after the restart")
