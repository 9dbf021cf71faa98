"""The SMTP server down for a minute: notices wait (pending, retried after their backoff) and then go out,
each once, when it is back."""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa

from duban.api.metrics import outbox_query
from duban.notifications.celery_app import celery_app
from faults.core import Context, Outcome, elapsed
from faults.processes import start_worker
from faults.world import NOW, attempts, populate, relay_at, rows, verdict, wait, waiting

NAME = "smtp"
TITLE = "SMTP server down for a minute"
NOTICES = 600
OUTAGE_SECONDS = 60.0  # `--smtp-outage` changes it
RELAY_EVERY = 5.0


def _retrying(ctx_engine: sa.Engine) -> int:
    """What /metrics calls duban_outbox_retrying: waiting rows after a failed attempt (same query)."""
    with ctx_engine.connect() as conn:
        return sum(
            int(row.retrying)
            for row in conn.execute(outbox_query(dt.datetime.fromisoformat(NOW)))
            if str(row.status) == "pending" and row.deliverable
        )


def run(ctx: Context, outcome: Outcome) -> None:
    """Take SMTP down, sweep, play beat's relay every RELAY_EVERY s at the simulated time, bring it back."""
    outcome.tried = (
        f"the SMTP server stopped (connections refused); a sweep queued {NOTICES} immediate notices; a "
        f"worker of 4 processes tried them all; beat's relay played every {RELAY_EVERY:.0f} s at the "
        f"simulated moment `NOW + time since the outage began`; the server came back after "
        f"{OUTAGE_SECONDS:.0f} s. Checked: nothing sent meanwhile, every row pending (none given up), then "
        "every notice received exactly once after the server returned."
    )
    url, engine = ctx.database(NAME)
    populate(engine, NOTICES, key="smtp")
    folder = ctx.scratch / NAME
    env = ctx.env(url, folder)
    ctx.mail.stop()
    began = time.monotonic()
    start = dt.datetime.fromisoformat(NOW)
    relayed = 0
    retrying_during = 0
    received_in_outage = 0
    back = delivered = float("nan")
    with ctx.celery_on(url):
        worker = start_worker(env, folder / "worker.log", concurrency=4, name="smtp")
        try:
            answer = celery_app.send_task("duban.sweep", args=[NOW]).get(timeout=120)
            outcome.check(answer["queued"] == NOTICES, f"the sweep queued {answer['queued']}")
            wait(lambda: _retrying(engine) == NOTICES, 120, "every notice to fail once", worker.output, 0.5)
            retrying_during = _retrying(engine)
            while True:
                time.sleep(RELAY_EVERY)
                since = elapsed(began)
                if since >= OUTAGE_SECONDS and not ctx.mail.running:
                    received_in_outage = len(ctx.mail.messages)
                    ctx.mail.start()
                    back = time.monotonic()
                relayed += len(relay_at(engine, start + dt.timedelta(seconds=since)))
                if ctx.mail.running and waiting(engine) == 0:
                    delivered = time.monotonic() - back
                    break
                if since > OUTAGE_SECONDS + 180:
                    outcome.failures.append("notices still waiting 3 minutes after the outage")
                    break
        finally:
            worker.stop()
            ctx.mail.start()
    outbox = rows(engine)
    result = verdict(outbox, ctx.mail.messages)
    tries = attempts(engine)
    outcome.figure("notices", len(outbox))
    outcome.figure("outage seconds", round(back - began, 1))
    outcome.figure("mails received during the outage", received_in_outage)
    outcome.figure("rows waiting after a failed attempt", retrying_during)
    outcome.figure("rows re-queued by the relay", relayed)
    outcome.figure("seconds from SMTP back to all delivered", round(delivered, 1))
    outcome.figure("attempts per row", dict(sorted(tries.items())))
    outcome.figure("mails received", result.received)
    outcome.figure("lost", len(result.lost))
    outcome.figure("repeats", sum(result.repeats.values()))
    outcome.note(
        f"while the server was down every one of the {NOTICES} notices failed its first attempt and waited "
        f"(pending, next attempt after the 1-minute backoff; `duban_outbox_retrying` {retrying_during})"
    )
    outcome.note(
        f"the server came back after {back - began:.0f} s; the relay queued the waiting rows once their "
        f"backoff had passed and all {result.received} mails arrived {delivered:.1f} s after the server's "
        f"return, {result.distinct} distinct Message-IDs"
    )
    outcome.check(received_in_outage == 0, f"{received_in_outage} mails arrived during the outage")
    outcome.check(not result.lost, f"{len(result.lost)} notices lost")
    outcome.check(not result.repeats, f"{len(result.repeats)} notices sent more than once")
    outcome.check(waiting(engine) == 0, "rows still waiting at the end")
