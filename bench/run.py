"""`python -m bench.run [names…] [--runs N] [--profile] [--list] [--render]`: run benchmarks, write
docs/benchmarks.md (`--render` only rewrites it from the last stored figures, e.g. after editing an
analysis in bench/analysis/).

A benchmark is any module or package directly under `bench/` that defines `NAME`, `TITLE`, `INTRO`
and `run(ctx)`; `ORDER` (default 100) sets its place in the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import pkgutil
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import ModuleType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import bench
from bench import machine, report
from bench.core import MIN_RUNS, REPO_ROOT, Context, Section, load_average

DOC = REPO_ROOT / "docs" / "benchmarks.md"
# Committed beside the report, so that a partial run on a fresh checkout carries the other sections over
# instead of writing a report of its own section alone.
STORE = REPO_ROOT / "bench" / "results.json"


def discover() -> dict[str, ModuleType]:
    """Every benchmark module under bench/, by NAME, in report order."""
    found: list[tuple[int, str, ModuleType]] = []
    for info in pkgutil.iter_modules(bench.__path__):
        if info.name.startswith("_") or info.name in ("run", "core", "report", "machine"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if all(hasattr(module, attr) for attr in ("NAME", "TITLE", "INTRO", "run")):
            found.append((getattr(module, "ORDER", 100), module.NAME, module))
    return {name: module for _, name, module in sorted(found, key=lambda item: (item[0], item[1]))}


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def run_one(
    module: ModuleType, runs: int, console: Console, progress: Progress, profile: bool
) -> tuple[Section, dict[str, str]]:
    """Run one benchmark in its own scratch folder; a failure is recorded, not raised."""
    section = Section(module.NAME, module.TITLE, module.INTRO, started=_now(), load_at_start=load_average())
    scratch = Path(tempfile.mkdtemp(prefix=f"duban-bench-{module.NAME}-"))
    ctx = Context(runs, scratch, console, progress, section, profile=profile)
    progress.console.print(
        f"[bold]{module.NAME}[/bold]: {module.TITLE} (load average {section.load_at_start[0]:.2f})"
    )
    began = time.perf_counter()
    try:
        section.results = module.run(ctx)
    except Exception as error:  # a broken benchmark must not lose the others' figures
        section.error = f"{type(error).__name__}: {error}"
        progress.console.print(f"[red]{module.NAME} failed[/red]")
        progress.console.print(traceback.format_exc(), markup=False)
    finally:
        section.seconds = time.perf_counter() - began
        shutil.rmtree(scratch, ignore_errors=True)
    return section, ctx.versions


def summary_table(sections: list[Section]) -> Table:
    """The console summary of this run."""
    table = Table(title="duban benchmarks")
    for column in ("benchmark", "figure", "median", "min–max", "reference median", "goal"):
        table.add_column(column)
    for section in sections:
        if section.error:
            table.add_row(section.name, "[red]failed[/red]", section.error, "", "", "")
        for result in section.results:
            value = result.value
            ref = result.reference
            goal = ""
            if result.goal is not None:
                goal = result.goal.text + (" [green]met[/green]" if result.met else " [red]missed[/red]")
            table.add_row(
                section.name,
                result.label,
                f"{report.fmt(value.median)} {value.unit}",
                f"{report.fmt(value.low)}–{report.fmt(value.high)}",
                f"{report.fmt(ref.median)} {ref.unit}" if ref else "",
                goal,
            )
    return table


def write(output: Path, stored: report.Stored, available: dict[str, ModuleType]) -> None:
    """Render the stored sections, in the benchmarks' order, to `output`."""
    order = [name for name in available if name in stored.sections]
    order += [name for name in stored.sections if name not in available]
    sections = [(stored.sections[name], stored.carried.get(name, False)) for name in order]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        report.render(sections, machine.machine(), stored.versions, stored.header), encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks (all by default) and rewrite docs/benchmarks.md."""
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(available)})")
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"runs per figure (at least {MIN_RUNS})")
    parser.add_argument("--profile", action="store_true", help="profile even when the goals are met")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--output", type=Path, default=DOC, help="report file (default docs/benchmarks.md)")
    parser.add_argument(
        "--render", action="store_true", help="only rewrite the report from the last stored figures"
    )
    args = parser.parse_args(argv)
    console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
    if args.list:
        for name, module in available.items():
            console.print(f"{name}: {module.TITLE}")
        return 0
    unknown = [n for n in args.names if n not in available]
    if unknown:
        console.print(f"[red]unknown benchmark(s): {', '.join(unknown)}[/red]; known: {', '.join(available)}")
        return 2
    previous = report.load(STORE)
    if args.render:
        if not previous.sections:
            console.print(f"[red]no stored figures in {STORE}; run the benchmarks first[/red]")
            return 2
        write(args.output, previous, available)
        console.print(f"written {args.output}")
        return 0
    chosen = args.names or list(available)
    versions = {**previous.versions, **machine.versions()}
    fresh: dict[str, Section] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    began = time.perf_counter()
    with Progress(*columns, console=console) as progress:
        for name in chosen:
            section, learnt = run_one(available[name], args.runs, console, progress, args.profile)
            fresh[name] = section
            versions.update(learnt)
    stored = report.Stored(
        {**previous.sections, **fresh},
        versions,
        f"Last run {_now()} (commit {machine.git_revision()}), {time.perf_counter() - began:.0f} s.",
        {name: name not in fresh for name in {**previous.sections, **fresh}},
    )
    report.save(STORE, stored)
    write(args.output, stored, available)
    console.print(summary_table(list(fresh.values())))
    console.print(f"written {args.output}")
    return 1 if any(s.error for s in fresh.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
