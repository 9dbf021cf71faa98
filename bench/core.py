"""The benchmark interface: measured samples, goals, results, and the context a benchmark runs in."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from rich.console import Console
from rich.progress import Progress

Comparison = Literal["<", "<=", ">", ">="]

REPO_ROOT = Path(__file__).resolve().parents[1]
MIN_RUNS = 3
# duban settings of this shell that would change what a child process measures.
PARENT_SETTINGS = ("DUBAN_BROKER_URL", "DUBAN_NOW", "DUBAN_MAIL_DIR")


@dataclass(frozen=True)
class Measured:
    """Samples of one figure (one per run), in `unit`."""

    samples: tuple[float, ...]
    unit: str

    @classmethod
    def of(cls, samples: Sequence[float], unit: str) -> Measured:
        """Samples as a Measured (at least one)."""
        if not samples:
            raise ValueError("a figure needs at least one sample")
        return cls(tuple(float(s) for s in samples), unit)

    @property
    def median(self) -> float:
        """The median sample."""
        return float(statistics.median(self.samples))

    @property
    def low(self) -> float:
        """The smallest sample."""
        return min(self.samples)

    @property
    def high(self) -> float:
        """The largest sample."""
        return max(self.samples)

    def scaled(self, factor: float, unit: str) -> Measured:
        """The same samples multiplied by `factor`, in `unit` (e.g. seconds to milliseconds)."""
        return Measured(tuple(s * factor for s in self.samples), unit)


@dataclass(frozen=True)
class Goal:
    """A target a median must meet, such as `< 1 s` or `>= 0.8`."""

    op: Comparison
    threshold: float
    text: str

    def met_by(self, value: float) -> bool:
        """Whether `value` meets the goal."""
        return {
            "<": value < self.threshold,
            "<=": value <= self.threshold,
            ">": value > self.threshold,
            ">=": value >= self.threshold,
        }[self.op]


@dataclass(frozen=True)
class Result:
    """One row of a benchmark's table: a figure, optionally its reference and its goal."""

    label: str
    value: Measured
    reference_label: str | None = None
    reference: Measured | None = None
    goal: Goal | None = None

    @property
    def met(self) -> bool | None:
        """Whether the median meets the goal (None without a goal)."""
        return None if self.goal is None else self.goal.met_by(self.value.median)


@dataclass
class Section:
    """What one benchmark leaves in the report besides its table: load at start, notes, profiles."""

    name: str
    title: str
    intro: str
    started: str = ""
    load_at_start: tuple[float, float, float] = (0.0, 0.0, 0.0)
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


class Context:
    """What a benchmark gets: runs count, scratch folder, progress, its section's notes; `profile` asks for a
    profile even when the goals are met."""

    def __init__(
        self,
        runs: int,
        scratch: Path,
        console: Console,
        progress: Progress,
        section: Section,
        profile: bool = False,
    ) -> None:
        self.runs = max(runs, MIN_RUNS)
        self.profile = profile
        self.scratch = scratch
        self.console = console
        self.progress = progress
        self.section = section
        self.versions: dict[str, str] = {}

    def note(self, text: str) -> None:
        """Add a line of prose under the benchmark's table."""
        self.section.notes.append(text)

    def detail(self, markdown: str) -> None:
        """Add a block (a profile, a per-document table) after the notes."""
        self.section.details.append(markdown)

    def log(self, text: str) -> None:
        """Print a progress line on the console (not in the report)."""
        self.progress.console.print(text, markup=False, highlight=False)

    def set_version(self, name: str, value: str) -> None:
        """Record a version learnt while running (e.g. the PostgreSQL server's)."""
        self.versions[name] = value

    def steps(self, label: str, total: int) -> Callable[[], None]:
        """A progress bar with `total` steps; returns the function that advances it."""
        task = self.progress.add_task(f"{self.section.name}: {label}", total=total)
        return lambda: self.progress.advance(task)


class Benchmark(Protocol):
    """What `bench.run` expects of a benchmark module."""

    NAME: str
    TITLE: str
    INTRO: str

    def run(self, ctx: Context) -> list[Result]: ...


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    return os.getloadavg()


def ratio_samples(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Per-run ratios of two figures measured in the same rounds."""
    return [n / d if d else 0.0 for n, d in zip(numerators, denominators, strict=True)]


def child_environment(**settings: str) -> dict[str, str]:
    """This process's environment without PARENT_SETTINGS, the repository importable, plus `settings`."""
    kept = {k: v for k, v in os.environ.items() if k not in PARENT_SETTINGS}
    return {**kept, "PYTHONPATH": str(REPO_ROOT), **settings}


def run_child(
    command: Sequence[str],
    *,
    what: str,
    timeout: float,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> dict[str, Any]:
    """Run a child process in the repository root; the last JSON object it printed (`what` names it)."""
    done = subprocess.run(  # noqa: S603
        list(command),
        cwd=REPO_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    # py-spy, when it wraps the child, prints its own lines after the child's.
    line = next((line for line in reversed(done.stdout.splitlines()) if line.startswith("{")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-4000:]}{done.stdout[-500:]}")
    data: dict[str, Any] = json.loads(line)
    return data
