"""Benchmark: the reminder/escalation sweep over 1,000,000 tasks on PostgreSQL (issue 6)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import psycopg

from bench.core import Context, Goal, Measured, Result, child_environment, ratio_samples, run_child
from bench.pgscratch import load_registry, scratch_database, server_version, vacuum_analyze
from bench.pyspy import profile_folder, report, wrap

NAME = "sweep"
ORDER = 30
TITLE = "Sweep: reminders and escalations over 1,000,000 tasks (PostgreSQL)"
TASKS: Final = int(os.environ.get("DUBAN_BENCH_SWEEP_TASKS", "1000000"))
NOW: Final = "2025-11-19T09:00:00+08:00"  # a Wednesday in office hours; the window reaches back past 国庆
INTRO = f"""\
What it measures: one `duban sweep --now {NOW}` — `run_sweep` and its commit, in a fresh process
as the CLI runs it (the policy frozen onto new issues, every rule's notices inserted into the outbox with
their dedupe keys, the ladder climbed with one event per task moved, immediate notices queued for
delivery after commit on the embedded filesystem broker) — over {TASKS:,} tasks in a scratch PostgreSQL
database: 10% overdue by 1–60 days, 4% due within two weeks, 2% waiting to be signed for, the rest
further out, submitted, completed, drafts or cancelled; one or two leads and 0–3 cooperating units per
task; a tenth of the measures with a monthly or quarterly report duty (`bench/sweep/population.py`,
written set-based with `INSERT … SELECT generate_series` once, as a template database; every round
works on fresh copies of it). Reference, in the same round on an identical copy: one hand-written
`SELECT` of exactly the rows the sweep inserts (the same dedupe keys, checked in round 1), fetched by
bare psycopg (`bench/sweep/bare.py`). Also measured: the sweep's writes as one hand-written statement
on another copy (the database's floor for this work), the same sweep repeated at once (every notice
already in the outbox: what beat's sweep every 5 minutes does for the rest of the day), and the peak
RSS of the sweeping process (its own `VmHWM`). Goals (issue 17, each a ratio within one round): the
first sweep ≤ 1.5× the bare writes, the repeated sweep ≤ 1.2× the bare SELECT; peak RSS < 200 MB (issue
6). The first sweep against the bare SELECT (issue 6's "≤ 2×", which only reads) stays as a figure, and
so does the same bare SELECT run again at once with `SET jit = off` (the sweep turns JIT off for its own
transaction; PostgreSQL's default JIT is a large share of the reference's time)."""

FIRST_VS_WRITES: Final = Goal("<=", 1.5, "≤ 1.5×")
REPEAT_VS_SELECT: Final = Goal("<=", 1.2, "≤ 1.2×")
RSS: Final = Goal("<", 200.0, "< 200 MB")


def _child(url: str, var: Path, *, profile: Path | None = None) -> dict[str, Any]:
    """One sweep in a fresh process (see bench.sweep.child)."""
    env = child_environment(DUBAN_DATABASE_URL=url, DUBAN_VAR_DIR=str(var), DUBAN_ENV="development")
    command = wrap([sys.executable, "-m", "bench.sweep.child", NOW], profile)
    return run_child(command, what="bench.sweep.child", timeout=900, env=env)


def _office_id(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT id FROM department WHERE code = 'sthbwbgs'").fetchone()
    if row is None:
        raise RuntimeError("the registry has no committee office (sthbwbgs)")
    return int(row[0])


def _statements(first: dict[str, Any], which: str = "one sweep") -> str:
    """The statements of one sweep, grouped by their first words, by time."""
    groups: dict[str, list[float]] = {}
    rows: dict[str, int] = {}
    for statement in first["statements"]:
        key = statement["sql"][:90]
        groups.setdefault(key, []).append(statement["seconds"])
        rows[key] = rows.get(key, 0) + max(statement["rows"], 0)
    total = first["seconds"]
    lines = [
        f"Where {which}'s {total:.2f} s went (run 1; wall time of each SQL statement as the driver "
        f"returned it, summed by statement; {first['run_sweep']:.2f} s in `run_sweep`, "
        f"{first['commit']:.2f} s in the commit and its after-commit broker sends):",
        "",
        "| statement (first words) | times | seconds | share | rows |",
        "|---|---:|---:|---:|---:|",
    ]
    ordered = sorted(groups.items(), key=lambda item: -sum(item[1]))
    for key, seconds in ordered[:12]:
        share = 100 * sum(seconds) / total if total else 0.0
        cell = key.replace("|", "\\|")
        lines.append(f"| `{cell}` | {len(seconds)} | {sum(seconds):.2f} | {share:.0f}% | {rows[key]:,} |")
    in_sql = sum(s["seconds"] for s in first["statements"])
    lines += [
        "",
        f"SQL statements: {len(first['statements'])}, {in_sql:.2f} s in all; the rest of `run_sweep` "
        f"({max(first['run_sweep'] - in_sql, 0.0):.2f} s) is Python: building the statements, the "
        "notices returned into Python objects, the ladder targets.",
    ]
    return "\n".join(lines)


@dataclass
class Rounds:
    """Per round: the bare SELECT, the sweep, the repeated sweep, the bare writes."""

    selects: list[float] = field(default_factory=list)
    selects_no_jit: list[float] = field(default_factory=list)
    sweeps: list[dict[str, Any]] = field(default_factory=list)
    repeats: list[dict[str, Any]] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    selected: int = 0
    copies: list[float] = field(default_factory=list)


def _sweep_phase(
    ctx: Context, template: str, params: dict[str, Any], rounds: Rounds, first: bool, profile: Path | None
) -> None:
    """On a fresh copy: the bare SELECT, then the sweep (under py-spy if `profile`), then the same again."""
    from bench.sweep import bare

    began = time.perf_counter()
    with scratch_database("bench_sweep_run", template=template) as copy:
        rounds.copies.append(time.perf_counter() - began)
        seconds, rounds.selected = bare.select_due(copy.dsn, params)
        rounds.selects.append(seconds)
        # Second, so the judged reference keeps the conditions it always had (the first read of the copy).
        rounds.selects_no_jit.append(bare.select_due(copy.dsn, params, jit=False)[0])
        var = ctx.scratch / f"var{len(rounds.sweeps)}"
        rounds.sweeps.append(_child(copy.url, var, profile=profile))
        if first:
            selected, written, apart = bare.differences(copy.dsn, params)
            if apart or selected != rounds.sweeps[-1]["notices"] or written != selected:
                raise RuntimeError(
                    f"the bare SELECT ({selected} rows) and the sweep ({written} outbox rows) disagree on "
                    f"{apart} dedupe keys"
                )
        rounds.repeats.append(_child(copy.url, var))
        shutil.rmtree(var, ignore_errors=True)


def _write_phase(template: str, params: dict[str, Any], rounds: Rounds) -> None:
    """On a fresh copy: the sweep's writes as one hand-written statement."""
    from bench.sweep import bare

    began = time.perf_counter()
    with scratch_database("bench_sweep_run", template=template) as copy:
        rounds.copies.append(time.perf_counter() - began)
        seconds, _ = bare.write_due(copy.dsn, params, dt.datetime.fromisoformat(NOW))
        rounds.writes.append(seconds)


def run(ctx: Context) -> list[Result]:
    """Populate a template once; then per round, each on a fresh copy of it: bare SELECT + sweep + repeat,
    and the bare writes (the two halves in alternating order)."""
    from bench.sweep import bare
    from bench.sweep.population import populate
    from duban.workflow.calendar import WorkingCalendar
    from duban.workflow.policy import bundled_policy

    ctx.set_version("PostgreSQL", server_version())
    today = dt.datetime.fromisoformat(NOW).date()
    policy = bundled_policy()
    with scratch_database("bench_sweep") as template:
        began = time.perf_counter()
        ctx.log(f"  populating {TASKS:,} tasks in {template.name}")
        load_registry(template.url)
        counts = populate(template.dsn, today, TASKS, policy, ctx.log)
        vacuum_analyze(template.dsn)
        built = time.perf_counter() - began
        ctx.log(f"  population ready in {built:.0f} s (VACUUM ANALYZE included)")
        params = bare.parameters(policy, WorkingCalendar.from_bundled(), today, _office_id(template.dsn))
        advance = ctx.steps("rounds (copy: bare SELECT, sweep, repeat; copy: bare writes)", ctx.runs)
        rounds = Rounds()
        # The last round's sweep is sampled by py-spy (without pausing it), for the profile below.
        profile = profile_folder(ctx)
        for index in range(ctx.runs):
            if index % 2:
                _write_phase(template.name, params, rounds)
            last = index == ctx.runs - 1
            _sweep_phase(ctx, template.name, params, rounds, index == 0, profile if last else None)
            if index % 2 == 0:
                _write_phase(template.name, params, rounds)
            sweep, repeat = rounds.sweeps[-1], rounds.repeats[-1]
            ctx.log(
                f"  round {index + 1}: bare SELECT {rounds.selects[-1]:.2f} s ({rounds.selected:,} rows; "
                f"{rounds.selects_no_jit[-1]:.2f} s with jit off), "
                f"sweep {sweep['seconds']:.2f} s ({sweep['notices']:,} notices, {sweep['moved']:,} moved, "
                f"peak RSS {sweep['peak_rss_kib'] / 1024:.0f} MB), repeat {repeat['seconds']:.2f} s "
                f"({repeat['notices']} new), bare writes {rounds.writes[-1]:.2f} s"
            )
            advance()
        if profile is not None:
            report(ctx, profile, f"the sweeping process in round {ctx.runs}")
    return _results(ctx, rounds, counts, built)


def _results(ctx: Context, rounds: Rounds, counts: dict[str, int], built: float) -> list[Result]:
    sweep_s = [s["seconds"] for s in rounds.sweeps]
    repeat_s = [s["seconds"] for s in rounds.repeats]
    selects = Measured.of(rounds.selects, "s")
    bare_label = f"bare SELECT of the same {rounds.selected:,} rows"
    results = [
        Result("sweep: first of the day (empty outbox)", Measured.of(sweep_s, "s"), bare_label, selects),
        Result("sweep / bare SELECT, per round", Measured.of(ratio_samples(sweep_s, rounds.selects), "×")),
        Result(
            "sweep / bare writes, per round",
            Measured.of(ratio_samples(sweep_s, rounds.writes), "×"),
            "bare writes: the same rows inserted, ladders and events, one statement",
            Measured.of(rounds.writes, "s"),
            FIRST_VS_WRITES,
        ),
        Result(
            "bare writes / bare SELECT, per round",
            Measured.of(ratio_samples(rounds.writes, rounds.selects), "×"),
        ),
        Result(
            "sweep repeated at once (every notice already there)",
            Measured.of(repeat_s, "s"),
            bare_label,
            selects,
        ),
        Result(
            "repeat / bare SELECT, per round",
            Measured.of(ratio_samples(repeat_s, rounds.selects), "×"),
            goal=REPEAT_VS_SELECT,
        ),
        Result(
            "repeat / bare SELECT with jit = off, per round (a figure, not a goal)",
            Measured.of(ratio_samples(repeat_s, rounds.selects_no_jit), "×"),
            "the same bare SELECT run next with `SET jit = off`, as the sweep runs",
            Measured.of(rounds.selects_no_jit, "s"),
        ),
        Result(
            "peak RSS of the sweeping process",
            Measured.of([s["peak_rss_kib"] / 1024 for s in rounds.sweeps], "MB"),
            "RSS of that process just before the sweep (Python + duban imported)",
            Measured.of([s["rss_before_kib"] / 1024 for s in rounds.sweeps], "MB"),
            RSS,
        ),
    ]
    sweeps = rounds.sweeps
    first = sweeps[0]
    steps = ", ".join(f"{step} {count:,}" for step, count in sorted(first["by_step"].items()))
    ctx.note(
        f"Each first sweep inserted {first['notices']:,} outbox rows ({steps}), moved {first['moved']:,} "
        f"ladders (one event each) and queued {first['queued']:,} immediate notices for delivery; the "
        "repeated sweep inserted none and moved none."
    )
    ctx.note(
        "Population: "
        + ", ".join(f"{table} {count:,}" for table, count in counts.items())
        + f"; built in {built:.0f} s (foreign-key triggers off while loading, VACUUM ANALYZE after) as a "
        "template. Each round copies it twice (`CREATE DATABASE … TEMPLATE`, "
        f"{Measured.of(rounds.copies, 's').median:.0f} s a copy, not counted): one copy for the bare SELECT, "
        "the sweep and its repeat, one for the bare writes, so every first sweep starts from the same rows "
        "in the same physical layout. PostgreSQL runs with its default settings (shared_buffers 128 MB, "
        "work_mem 4 MB, JIT on). The peak RSS is the process's own VmHWM: getrusage's ru_maxrss would "
        "report the parent's size, which Linux carries over exec."
    )
    ctx.detail(_statements(first))
    ctx.detail(_statements(rounds.repeats[0], "the repeated sweep"))
    return results
