"""Redis restarted (empty) in the middle of a delivery batch: the queued jobs are gone with it, yet no
notice is lost — the relay finds the rows from the database — and the worker comes back on its own."""

from __future__ import annotations

import time

import httpx

from duban.notifications.celery_app import celery_app
from faults.core import Context, Outcome, elapsed
from faults.processes import start_api, start_worker
from faults.services import HOST, free_port
from faults.world import NOW, drain, in_flight, populate, rows, unsent, verdict, wait

NAME = "redis"
TITLE = "Redis restarted mid-batch (queue lost)"
NOTICES = 1500
DOWN = 3.0


def run(ctx: Context, outcome: Outcome) -> None:
    """Queue NOTICES notices, restart Redis without persistence when a third has gone, then relay."""
    outcome.tried = (
        f"{NOTICES} immediate notices queued as {NOTICES // 20} delivery jobs on the private Redis (no "
        f"persistence), a worker of 4 processes, and the API; when about a third had been mailed Redis was "
        f"stopped for {DOWN:.0f} s and started empty — the queued jobs and the unacknowledged ones gone. "
        "Then: does the worker reconnect and run new jobs, does /healthz tell, and does beat's relay "
        "(played at the simulated moment after the leases) deliver every row once?"
    )
    url, engine = ctx.database(NAME)
    populate(engine, NOTICES, key="redis")
    folder = ctx.scratch / NAME
    env = ctx.env(url, folder)
    port = free_port()
    api = start_api(env, folder / "api.log", port)
    started = time.monotonic()
    with ctx.celery_on(url):
        worker = start_worker(env, folder / "worker.log", concurrency=4, name="redis")
        try:
            answer = celery_app.send_task("duban.sweep", args=[NOW]).get(timeout=120)
            outcome.check(answer["queued"] == NOTICES, f"the sweep queued {answer['queued']}")
            wait(ctx.mail.received(NOTICES // 3), 120, "a third of the mails", worker.output, 0.005)
            ctx.redis.stop()
            stopped = time.monotonic()
            flight = in_flight(engine)
            received_at_stop = len(ctx.mail.messages)
            time.sleep(DOWN / 2)
            health_down = httpx.get(f"http://{HOST}:{port}/healthz", timeout=15).status_code
            time.sleep(DOWN / 2)
            ctx.redis.start()
            back = time.monotonic()
            ping = celery_app.send_task("duban.ping", args=["after-restart"]).get(timeout=120)
            reconnect = time.monotonic() - back
            outcome.check(ping.get("payload") == "after-restart", f"ping after the restart answered {ping}")
            health_after = wait(
                lambda: httpx.get(f"http://{HOST}:{port}/healthz", timeout=15).status_code == 200,
                30,
                "/healthz to answer 200",
                api.output,
                0.5,
            )
            stuck = unsent(engine)
            requeued, relays = drain(engine, ctx.redis.url(), worker.output)
        finally:
            worker.stop()
            api.stop()
    outbox = rows(engine)
    result = verdict(outbox, ctx.mail.messages, [flight])
    outcome.figure("notices", len(outbox))
    outcome.figure("mails when Redis stopped", received_at_stop)
    outcome.figure("rows in flight when Redis stopped", len(flight))
    outcome.figure("rows unsent after the restart", stuck)
    outcome.figure("re-queued by the relay", len(requeued))
    outcome.figure("relay passes", relays)
    outcome.figure("seconds until the worker ran a new job", round(reconnect, 1))
    outcome.figure("lost", len(result.lost))
    outcome.figure("repeats", sum(result.repeats.values()))
    outcome.figure("seconds", round(elapsed(started), 1))
    outcome.note(
        f"Redis stopped after {received_at_stop} of {NOTICES} mails; the {stuck} rows still unsent after "
        f"it came back empty were found by the relay from the outbox table, not from the broker"
    )
    outcome.note(
        f"the worker ran a new job {reconnect:.1f} s after Redis was back (down {back - stopped:.1f} s); "
        f"/healthz answered {health_down} while Redis was down, 200 {health_after:.1f} s after"
    )
    outcome.note(
        f"{result.received} mails for {len(outbox)} rows: {len(result.lost)} lost, "
        f"{sum(result.repeats.values())} repeated"
    )
    outcome.check(not result.lost, f"{len(result.lost)} notices lost")
    outcome.check(not result.unexplained, f"repeats beyond the rows in flight: {result.unexplained}")
    outcome.check(health_down == 503, f"/healthz answered {health_down} with Redis down")
