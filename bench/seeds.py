"""Benchmark: parse and import the five example plans into a fresh SQLite database (issue 3)."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.core import REPO_ROOT, Context, Goal, Measured, Result, run_child

NAME = "seeds"
ORDER = 10
TITLE = "Seeds: parse and import of the five example plans (SQLite)"
INTRO = """\
What it measures: the five documents of `examples/plans/` read, decoded, parsed and imported
into a freshly migrated SQLite database — the department registry loaded, then for each document
`decode_bytes` → `parse` → `import_plan`, all in one session committed at the end — as
`duban plans import` and `make run` do it. Each run is a fresh Python process, so first-use costs
(registry YAML, OpenCC dictionaries, compiled patterns) are counted; the migration and the import of
Python modules are not (the latter is shown on its own line). Goal (issue 3): under 1 s together.
References, measured in the same process: the five files only read and decoded, and one bare
`sqlite3` transaction that `executemany`-inserts the very plan, measure and task rows the import
wrote — the storage floor under the import."""

GOAL = Goal("<", 1.0, "< 1 s")
RUNS = 5  # a cold run takes a few seconds: more of them steady the median on a shared machine


def _once(folder: Path, *extra: str) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "bench.seeds_once", str(folder), *extra]
    return run_child(command, what="bench.seeds_once", timeout=300)


def _ms(value: float) -> str:
    return f"{value * 1000:.0f}"


def _sum(run: dict[str, Any], key: str) -> float:
    return float(sum(doc[key] for doc in run["documents"]))


def run(ctx: Context) -> list[Result]:
    """Run the cold import (at least RUNS times), each in a fresh process, and report the figures."""
    count = max(ctx.runs, RUNS)
    advance = ctx.steps("cold imports", count)
    runs: list[dict[str, Any]] = []
    for index in range(count):
        runs.append(_once(ctx.scratch / f"run{index}"))
        advance()
    cold = [r["cold"] for r in runs]
    total = Measured.of([c["total"] for c in cold], "s")
    read = Measured.of([r["read"] for r in runs], "s")
    results = [
        Result("registry + parse + import + commit, five documents", total, "read + decode only", read, GOAL),
        Result("parse, five documents", Measured.of([_sum(c, "parse") for c in cold], "s")),
        Result(
            "import_plan, five documents",
            Measured.of([_sum(c, "import") for c in cold], "s"),
            f"bare executemany of the same {runs[0]['bare_plan_measure_task_rows']} plan/measure/task rows",
            Measured.of([r["bare_plan_measure_task"] for r in runs], "s"),
        ),
        Result("department registry load (75 rows)", Measured.of([c["departments"] for c in cold], "s")),
        Result("commit", Measured.of([c["commit"] for c in cold], "s")),
        Result(
            "warm: the same again in a process that has imported once",
            Measured.of([r["warm"]["total"] for r in runs], "s"),
            f"bare executemany of all {runs[0]['bare_all_rows']} rows the import wrote",
            Measured.of([r["bare_all"] for r in runs], "s"),
        ),
        Result(
            "Python module import of duban (not counted above)",
            Measured.of([r["module_import"] for r in runs], "s"),
        ),
    ]
    _per_document(ctx, cold)
    rows = runs[0]["rows"]
    ctx.note(
        "Rows written by one import: " + ", ".join(f"{table} {count}" for table, count in rows.items()) + "."
    )
    if ctx.profile or not GOAL.met_by(total.median):
        profile = _once(ctx.scratch / "profile", "--profile")["profile"]
        ctx.detail("cProfile of one cold import (top entries):\n\n```text\n" + _trim(profile) + "\n```")
    return results


def _per_document(ctx: Context, cold: list[dict[str, Any]]) -> None:
    by_doc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    facts: dict[str, tuple[int, int]] = {}
    for run_ in cold:
        for doc in run_["documents"]:
            by_doc[doc["name"]]["parse"].append(doc["parse"])
            by_doc[doc["name"]]["import"].append(doc["import"])
            facts[doc["name"]] = (doc["chars"], doc["measures"])
    lines = [
        "Per document (cold runs; milliseconds, median and min–max):",
        "",
        "| document | characters | measures | parse ms | import ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, phases in by_doc.items():
        parse = Measured.of(phases["parse"], "s")
        imp = Measured.of(phases["import"], "s")
        chars, measures = facts[name]
        lines.append(
            f"| {Path(name).stem} | {chars} | {measures} | "
            f"{_ms(parse.median)} ({_ms(parse.low)}–{_ms(parse.high)}) | "
            f"{_ms(imp.median)} ({_ms(imp.low)}–{_ms(imp.high)}) |"
        )
    ctx.detail("\n".join(lines))


def _trim(profile: str) -> str:
    kept = [line.rstrip() for line in profile.splitlines() if line.strip()]
    return "\n".join(line.replace(str(REPO_ROOT) + "/", "") for line in kept[:80])
