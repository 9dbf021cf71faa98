"""One run of the digests benchmark in a fresh process.

`python -m bench.digests.child duban MOMENT…` — for each moment (a working day at 09:00), the day's
notices written into the outbox (from the staged table, untimed: the sweep's work), then what beat and the
workers do: `dispatch` (compose one digest per department with items that day, the weekly
summary on Mondays, relay) in one transaction, then every `duban.deliver` job it queued, run in this
process as a worker runs it (`deliver(ids)`: claim, render, send over SMTP, mark sent). Database and
mail settings come from the environment (DUBAN_DATABASE_URL, DUBAN_MAIL_BACKEND=smtp, DUBAN_SMTP_PORT).

`python -m bench.digests.child smtplib PORT FOLDER` — the reference: the messages duban sent (the .eml
files the sink kept in FOLDER, read and split into subject, recipient, text and HTML before the clock
starts), each built again as a multipart EmailMessage and sent by a plain smtplib loop over one
connection.

Prints one JSON object with the seconds and counts.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import resource
import smtplib
import sys
import time
from collections import Counter
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_duban(moments: list[dt.datetime]) -> dict[str, Any]:
    """Dispatch and deliver day by day; seconds of each half and what happened."""
    import sqlalchemy as sa

    from bench.digests.population import RELEASE_SQL
    from duban.core import jobs
    from duban.core.db import get_engine, session_scope
    from duban.notifications.calendars import working_calendar
    from duban.notifications.delivery import DELIVER_JOB, deliver
    from duban.notifications.digest import dispatch
    from duban.workflow.policy import bundled_policy

    queued: list[tuple[str, tuple[Any, ...]]] = []
    jobs.set_sender(lambda name, args: queued.append((name, args)))
    with get_engine().connect() as conn:  # the pool warm, as in a running worker
        conn.execute(sa.text("SELECT 1"))
    compose = send = 0.0
    counts: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    cpu = _cpu()
    after = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    for moment in moments:
        # The day's notices reach the outbox as the sweep writes them (at 00:05), before the clock runs.
        with get_engine().begin() as conn:
            conn.exec_driver_sql(RELEASE_SQL, {"after": after, "until": moment})
            conn.exec_driver_sql("ANALYZE notification_outbox")
        after = moment
        began = time.perf_counter()
        with session_scope() as session:
            counts.update(dispatch(session, moment, working_calendar(session), bundled_policy()))
        composed = time.perf_counter()
        batches = [args for name, args in queued if name == DELIVER_JOB]
        queued.clear()
        for ids in batches:
            outcomes.update(deliver(ids, moment))
        send += time.perf_counter() - composed
        compose += composed - began
    return {
        "seconds": compose + send,
        "compose": compose,
        "deliver": send,
        "cpu": _cpu() - cpu,
        "counts": dict(counts),
        "outcomes": dict(outcomes),
    }


def _parts(raw: bytes) -> tuple[str, str, str, str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(message["Subject"]), str(message["To"]), str(text.get_content()), str(html.get_content())


def run_smtplib(port: int, folder: Path) -> dict[str, Any]:
    """Send the same messages again with a plain smtplib loop; seconds and count."""
    messages = [_parts(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]
    cpu = _cpu()
    began = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for subject, recipient, text, html in messages:
            message = EmailMessage()
            message["Subject"] = subject
            message["From"] = "自治区生态环境保护委员会办公室 <duban@localhost>"
            message["To"] = recipient
            message["Message-ID"] = make_msgid(domain="localhost")
            message["Date"] = formatdate(localtime=True)
            message.set_content(text)
            message.add_alternative(html, subtype="html")
            smtp.send_message(message)
    return {"seconds": time.perf_counter() - began, "cpu": _cpu() - cpu, "messages": len(messages)}


def main(argv: list[str]) -> dict[str, Any]:
    """Dispatch on the mode (duban | smtplib)."""
    mode = argv[0]
    if mode == "duban":
        return run_duban([dt.datetime.fromisoformat(moment) for moment in argv[1:]])
    return run_smtplib(int(argv[1]), Path(argv[2]))


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False))
