"""SIGKILL the worker mid-batch five times: no notice lost, a repeat only for a row in flight at a kill."""

from __future__ import annotations

import time

from duban.notifications.celery_app import celery_app
from duban.notifications.models import OutboxStatus
from faults.core import Context, Outcome, elapsed
from faults.processes import start_worker
from faults.world import NOW, drain, in_flight, populate, rows, settled, unsent, verdict, wait

NAME = "kill"
TITLE = "worker SIGKILLed mid-batch ×5"
NOTICES = 3000
KILLS = 5
CONCURRENCY = 4


def run(ctx: Context, outcome: Outcome) -> None:
    """Queue NOTICES immediate notices, kill the worker (pool included) KILLS times while it delivers."""
    outcome.tried = (
        f"{NOTICES} overdue tasks swept at once (one 蓝色督办单 each, {NOTICES // 20} delivery jobs of 20), "
        f"a worker of {CONCURRENCY} processes on the private Redis; SIGKILL to the worker's whole process "
        f"group {KILLS} times while it sends, each after about {NOTICES // (2 * KILLS)} more mails, a new "
        "worker after each kill; then beat's relay (played at simulated times after the 5-minute leases "
        "and 10-minute re-queue window) until every row is sent."
    )
    url, engine = ctx.database(NAME)
    populate(engine, NOTICES)
    folder = ctx.scratch / NAME
    env = ctx.env(url, folder)
    log = folder / "worker.log"
    flights: list[set[int]] = []
    started = time.monotonic()
    with ctx.celery_on(url):
        worker = start_worker(env, log, concurrency=CONCURRENCY)
        try:
            answer = celery_app.send_task("duban.sweep", args=[NOW]).get(timeout=120)
            outcome.check(answer["queued"] == NOTICES, f"the sweep queued {answer['queued']}, not {NOTICES}")
            step = NOTICES // (2 * KILLS)
            for kill in range(1, KILLS + 1):
                target = min(len(ctx.mail.messages) + step, NOTICES - 1)
                wait(ctx.mail.received(target), 120, f"mail {target}", worker.output, 0.005)
                worker.kill()
                # Rows still held by an earlier dead worker are not in this one's hands.
                flight = in_flight(engine) - set().union(*flights)
                flights.append(flight)
                received = len(ctx.mail.messages)
                ctx.say(f"  kill {kill}: {received} mails received, {len(flight)} rows in flight")
                outcome.check(received < NOTICES, f"kill {kill} came after the batch had finished")
                worker = start_worker(env, log, concurrency=CONCURRENCY)
            first_pass = wait(settled(engine, ctx.redis.url()), 180, "the queue to drain", worker.output)
            stuck = unsent(engine)
            requeued, relays = drain(engine, ctx.redis.url(), worker.output)
        finally:
            worker.stop()
    outbox = rows(engine)
    result = verdict(outbox, ctx.mail.messages, flights)
    outcome.figure("notices", len(outbox))
    outcome.figure("mails received", result.received)
    outcome.figure("distinct Message-IDs", result.distinct)
    outcome.figure("kills", len(flights))
    outcome.figure("rows in flight at the kills", sum(len(f) for f in flights))
    outcome.figure("stuck after the restarts", stuck)
    outcome.figure("re-queued by the relay", len(requeued))
    outcome.figure("relay passes", relays)
    outcome.figure("lost", len(result.lost))
    outcome.figure("repeats", sum(result.repeats.values()))
    outcome.figure("repeats not explained by a kill", sum(result.unexplained.values()))
    outcome.figure("seconds to drain after the last kill", round(first_pass, 1))
    outcome.figure("seconds", round(elapsed(started), 1))
    not_sent = sum(1 for status, _ in outbox.values() if status != OutboxStatus.sent.value)
    outcome.note(
        f"{len(flights)} kills caught {sum(len(f) for f in flights)} rows in flight (claimed, maybe sent, "
        f"not yet marked); {stuck} rows were stuck until the relay found them after their leases ran out."
    )
    outcome.note(
        f"{result.received} mails for {len(outbox)} rows: {len(result.lost)} lost, "
        f"{sum(result.repeats.values())} repeated (same Message-ID), all of them rows in flight at a kill"
        if not result.unexplained
        else f"{len(result.unexplained)} rows repeated more often than the kills that caught them in flight"
    )
    outcome.check(not_sent == 0, f"{not_sent} rows not sent")
    outcome.check(not result.lost, f"{len(result.lost)} notices lost: rows {result.lost[:10]}")
    outcome.check(not result.unexplained, f"repeats beyond the messages in flight: {result.unexplained}")
