"""Benchmark: 100,000 due items mailed as daily digests over SMTP, next to a plain smtplib loop (issue 8)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.core import REPO_ROOT, Context, Goal, Measured, Result, child_environment, ratio_samples, run_child
from bench.pgscratch import Scratch, load_registry, scratch_database, server_version, vacuum_analyze
from bench.pyspy import profile_folder, report, wrap

NAME = "digests"
ORDER = 40
TITLE = "Digests: 100,000 due items mailed as daily digests (PostgreSQL, SMTP)"
ITEMS: Final = int(os.environ.get("DUBAN_BENCH_DIGEST_ITEMS", "100000"))
DAYS: Final = int(os.environ.get("DUBAN_BENCH_DIGEST_DAYS", "12"))
FIRST_DAY: Final = dt.date(2025, 11, 3)  # a Monday
INTRO = f"""\
What it measures: {ITEMS:,} due notice items (reminders 5/3/1 working days before a deadline and the
催办 one day after, {ITEMS // 4:,} tasks led by the registry's 70 party, government and 盟市 bodies) mailed as
digests — one per department per day — over {DAYS} working days to a local SMTP server (aiosmtpd in its
own process, keeping every message as a file, as a mail catcher does). In one fresh process, day after
day: the day's items written into the outbox as the sweep writes them at 00:05 (untimed; staged set-based
by `bench/digests/population.py`, each run on a fresh copy of that database), then, timed, what beat and
the workers do: `dispatch` (compose today's digests — one INSERT … SELECT … GROUP BY department, each
digest recording the id window of its items —, the office's weekly summary on Mondays, relay) in one
transaction, then each `duban.deliver` job it queued (20 rows each: claim — read each digest's items by
its window, freeze what it shows into its payload, take the lease —, render HTML and text with Jinja2,
send over one SMTP connection, mark sent), run in the same process. Reference, in the same round to the
same server: a plain `smtplib` loop sending the same number of messages with the same subjects,
recipients and bodies (duban's own messages of round 1, split into text and HTML before the clock
starts), each built as a multipart `EmailMessage`, over one connection. Goal (issues 8 and 17): duban
≥ 0.5× the smtplib loop's throughput."""

GOAL: Final = Goal(">=", 0.5, "≥ 0.5×")


@dataclass
class Rounds:
    """What each round measured."""

    duban: list[dict[str, Any]] = field(default_factory=list)
    plain: list[dict[str, Any]] = field(default_factory=list)
    received: list[tuple[int, int]] = field(default_factory=list)
    plain_received: list[tuple[int, int]] = field(default_factory=list)


def working_days(count: int) -> list[dt.date]:
    """`count` working days from FIRST_DAY on (the bundled calendar)."""
    from duban.workflow.calendar import WorkingCalendar

    calendar = WorkingCalendar.from_bundled()
    days = [FIRST_DAY if calendar.is_working_day(FIRST_DAY) else calendar.next_working_day(FIRST_DAY)]
    while len(days) < count:
        days.append(calendar.next_working_day(days[-1]))
    return days


@contextmanager
def sink(folder: Path) -> Iterator[int]:
    """An SMTP sink process keeping messages in `folder`; yields its port."""
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bench.digests.sink", str(folder)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert process.stdout is not None
        yield int(process.stdout.readline())
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _received(folder: Path) -> tuple[int, int]:
    files = list(folder.glob("*.eml"))
    return len(files), sum(f.stat().st_size for f in files)


def _child(args: list[str], env: dict[str, str], profile: Path | None = None) -> dict[str, Any]:
    command = wrap([sys.executable, "-m", "bench.digests.child", *args], profile)
    return run_child(command, what="bench.digests.child", timeout=900, env=child_environment(**env))


def _duban(
    ctx: Context, copy: Scratch, port: int, moments: list[str], profile: Path | None = None
) -> dict[str, Any]:
    env = {
        "DUBAN_DATABASE_URL": copy.url,
        "DUBAN_VAR_DIR": str(ctx.scratch / "var"),
        "DUBAN_ENV": "development",
        "DUBAN_MAIL_BACKEND": "smtp",
        "DUBAN_SMTP_HOST": "127.0.0.1",
        "DUBAN_SMTP_PORT": str(port),
    }
    return _child(["duban", *moments], env, profile)


def _round(
    ctx: Context, template: str, moments: list[str], index: int, rounds: Rounds, profile: Path | None
) -> None:
    folder = ctx.scratch / f"round{index}"
    captured = ctx.scratch / "round0" / "duban"

    def run_duban() -> None:
        with scratch_database("bench_digests_run", template=template) as copy, sink(folder / "duban") as port:
            rounds.duban.append(_duban(ctx, copy, port, moments, profile))
        rounds.received.append(_received(folder / "duban"))

    def run_plain() -> None:
        with sink(folder / "smtplib") as port:
            rounds.plain.append(_child(["smtplib", str(port), str(captured)], {}))
        rounds.plain_received.append(_received(folder / "smtplib"))

    # Round 1 must capture duban's messages first; later rounds alternate the order.
    for step in (run_plain, run_duban) if index % 2 else (run_duban, run_plain):
        step()


def run(ctx: Context) -> list[Result]:
    """Populate a template; per round, duban and the smtplib loop, each to a fresh SMTP sink."""
    from bench.digests.population import populate
    from duban.workflow.policy import bundled_policy

    ctx.set_version("PostgreSQL", server_version())
    ctx.set_version("aiosmtpd", _version("aiosmtpd"))
    days = working_days(DAYS)
    moments = [
        dt.datetime.combine(day, dt.time(9), tzinfo=dt.timezone(dt.timedelta(hours=8))).isoformat()
        for day in days
    ]
    with scratch_database("bench_digests") as template:
        began = time.perf_counter()
        load_registry(template.url)
        counts = populate(template.dsn, days, ITEMS // 4, bundled_policy())
        vacuum_analyze(template.dsn)
        ctx.log(
            f"  populated {counts['bench_digest_item']:,} digest items in {time.perf_counter() - began:.0f} s"
        )
        rounds = Rounds()
        advance = ctx.steps("rounds (duban, smtplib loop)", ctx.runs)
        # The last round's duban run is sampled by py-spy (without pausing it), for the profile below.
        profile = profile_folder(ctx)
        for index in range(ctx.runs):
            _round(ctx, template.name, moments, index, rounds, profile if index == ctx.runs - 1 else None)
            duban, plain = rounds.duban[-1], rounds.plain[-1]
            messages, size = rounds.received[-1]
            ctx.log(
                f"  round {index + 1}: duban {duban['seconds']:.2f} s ({messages:,} messages, "
                f"{size / 1e6:.1f} MB; compose {duban['compose']:.2f} s, deliver {duban['deliver']:.2f} s), "
                f"smtplib {plain['seconds']:.2f} s ({plain['messages']:,} messages)"
            )
            advance()
        if profile is not None:
            report(ctx, profile, f"duban's process in round {ctx.runs}")
    return _results(ctx, rounds, counts)


def _version(name: str) -> str:
    from bench.machine import package_version

    return package_version(name)


def _results(ctx: Context, rounds: Rounds, counts: dict[str, int]) -> list[Result]:
    duban_s = [d["seconds"] for d in rounds.duban]
    plain_s = [p["seconds"] for p in rounds.plain]
    messages = [m for m, _ in rounds.received]
    per_s = "messages/s"
    items = counts["bench_digest_item"]
    results = [
        Result(
            f"duban: {items:,} items as {messages[0]:,} digests, composed and delivered",
            Measured.of(duban_s, "s"),
            "plain smtplib loop, the same messages",
            Measured.of(plain_s, "s"),
        ),
        Result(
            "duban messages/s",
            Measured.of([m / s for m, s in zip(messages, duban_s, strict=True)], per_s),
            "smtplib loop messages/s",
            Measured.of([p["messages"] / p["seconds"] for p in rounds.plain], per_s),
        ),
        Result(
            "duban / smtplib loop throughput, per round",
            Measured.of(ratio_samples(plain_s, duban_s), "×"),
            goal=GOAL,
        ),
        Result("duban items/s", Measured.of([items / s for s in duban_s], "items/s")),
        Result(
            "of which compose (dispatch, one transaction a day)",
            Measured.of([d["compose"] for d in rounds.duban], "s"),
        ),
        Result(
            "of which deliver (claim, render, send, mark)",
            Measured.of([d["deliver"] for d in rounds.duban], "s"),
        ),
        Result(
            "duban process CPU",
            Measured.of([d["cpu"] for d in rounds.duban], "s"),
            "smtplib loop process CPU",
            Measured.of([p["cpu"] for p in rounds.plain], "s"),
        ),
    ]
    sizes = [size for _, size in rounds.received]
    plain_sizes = [size for _, size in rounds.plain_received]
    first = rounds.duban[0]
    ctx.note(
        f"Each duban run sent {messages[0]:,} messages ({first['counts'].get('digests', 0):,} digests, "
        f"{first['counts'].get('weekly', 0)} weekly summaries; outcomes {first['outcomes']}), "
        f"{Measured.of(sizes, 'B').median / 1e6:.1f} MB as received by the server; the smtplib loop "
        f"{rounds.plain[0]['messages']:,} messages, {Measured.of(plain_sizes, 'B').median / 1e6:.1f} MB. "
        f"Population: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()) + "."
    )
    return results
