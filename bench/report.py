"""docs/benchmarks.md, written whole from this run's sections and those carried over from earlier runs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.core import REPO_ROOT, Goal, Measured, Result, Section

ANALYSIS_DIR = REPO_ROOT / "bench" / "analysis"

PREAMBLE = """\
# Benchmarks

`make bench` (or `python -m bench.run [names…]`) measures duban against references that do the same
work with nothing of duban on the path, each reference measured in the same run on the same machine,
so that a ratio says how much duban's own code costs. Every figure is the median of at least three
runs with the smallest and largest run beside it. The suite uses loopback only, runs in well under
15 minutes on two cores, and is not part of `make test`. This file is regenerated whole by each run;
a section that a partial run (`python -m bench.run seeds`) did not measure is carried over from the
last run that did (its figures are kept in `bench/results.json`, committed with this file), with its own
date.

The machine is shared: other jobs may run beside the benchmark. The load average at the start of each
benchmark, and for the HTTP benchmark the CPU the rest of the machine used during each run, are
recorded so that a reader can judge the noise.

Each benchmark is a module of `bench/` with `NAME`, `TITLE`, `INTRO` and `run(ctx)`; `bench.run`
finds it by itself. A benchmark's hand-written analysis (what the profile says, what would close a
gap) lives in `bench/analysis/NAME.md` and is printed under its figures, so it survives regeneration;
it carries its own date and must be checked against the figures it sits under."""


def fmt(value: float) -> str:
    """A number with a precision that suits its size."""
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _cell(measured: Measured | None) -> tuple[str, str]:
    if measured is None:
        return "", ""
    return f"{fmt(measured.median)} {measured.unit}", f"{fmt(measured.low)}–{fmt(measured.high)}"


def _met(result: Result) -> str:
    if result.met is None:
        return ""
    return "met" if result.met else "**missed**"


def section_markdown(section: Section, carried: bool) -> str:
    """One benchmark's part of the report."""
    lines = [f"## {section.title}", ""]
    when = f"Measured {section.started}" + (" (carried over from an earlier run)" if carried else "")
    load = " / ".join(f"{x:.2f}" for x in section.load_at_start)
    lines += [f"{when}; load average at start {load} (1/5/15 min); took {section.seconds:.0f} s.", ""]
    lines += [section.intro, ""]
    if section.error:
        lines += [f"**This benchmark failed:** {section.error}", ""]
    if section.results:
        lines += [
            "| figure | median | min–max | reference | median | min–max | goal | |",
            "|---|---:|---:|---|---:|---:|---|---|",
        ]
        for result in section.results:
            value, spread = _cell(result.value)
            ref_value, ref_spread = _cell(result.reference)
            goal = result.goal.text if result.goal else ""
            lines.append(
                f"| {result.label} | {value} | {spread} | {result.reference_label or ''} | {ref_value} | "
                f"{ref_spread} | {goal} | {_met(result)} |"
            )
        lines.append("")
    for note in section.notes:
        lines += [note, ""]
    for block in section.details:
        lines += [block, ""]
    analysis = ANALYSIS_DIR / f"{section.name}.md"
    if analysis.exists():
        lines += [
            f"### Analysis (written by hand in `bench/analysis/{section.name}.md`; check it against the "
            "figures above)",
            "",
            analysis.read_text(encoding="utf-8").strip(),
            "",
        ]
    return "\n".join(lines)


def goals_markdown(sections: list[tuple[Section, bool]]) -> str:
    """The summary of every goal in the report."""
    rows = [
        f"| {section.name} | {result.label} | {fmt(result.value.median)} {result.value.unit} | "
        f"{result.goal.text} | {_met(result)} |"
        for section, _ in sections
        for result in section.results
        if result.goal is not None
    ]
    if not rows:
        return ""
    return "\n".join(
        [
            "## Goals at a glance",
            "",
            "| benchmark | figure | median | goal | |",
            "|---|---|---:|---|---|",
            *rows,
        ]
    )


def render(
    sections: list[tuple[Section, bool]], machine: dict[str, str], versions: dict[str, str], header: str
) -> str:
    """The whole report."""
    parts = [PREAMBLE, "", header, ""]
    parts.append("Machine: " + "; ".join(f"{k} {v}" for k, v in machine.items()) + ".")
    parts.append("")
    parts.append("Versions: " + "; ".join(f"{k} {v}" for k, v in versions.items()) + ".")
    parts.append("")
    summary = goals_markdown(sections)
    if summary:
        parts += [summary, ""]
    for section, carried in sections:
        parts += [section_markdown(section, carried), ""]
    return "\n".join(parts).rstrip() + "\n"


def _result_to_json(result: Result) -> dict[str, Any]:
    return asdict(result)


def _measured(data: dict[str, Any] | None) -> Measured | None:
    return None if data is None else Measured(tuple(data["samples"]), data["unit"])


def _result_from_json(data: dict[str, Any]) -> Result:
    value = _measured(data["value"])
    assert value is not None
    goal = Goal(**data["goal"]) if data.get("goal") else None
    return Result(data["label"], value, data.get("reference_label"), _measured(data.get("reference")), goal)


@dataclass
class Stored:
    """What a run leaves for the next: its sections, versions, header line and which were carried over."""

    sections: dict[str, Section] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    header: str = ""
    carried: dict[str, bool] = field(default_factory=dict)


def save(path: Path, stored: Stored) -> None:
    """Store a run's sections for later partial runs and for `--render`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "versions": stored.versions,
        "header": stored.header,
        "carried": stored.carried,
        "sections": {
            name: {**asdict(section), "results": [_result_to_json(r) for r in section.results]}
            for name, section in stored.sections.items()
        },
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")


def load(path: Path) -> Stored:
    """What an earlier run stored (empty if none or unreadable)."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        sections = {}
        for name, data in payload["sections"].items():
            results = [_result_from_json(r) for r in data.pop("results")]
            data["load_at_start"] = tuple(data["load_at_start"])
            sections[name] = Section(**data, results=results)
        return Stored(
            sections,
            dict(payload.get("versions", {})),
            str(payload.get("header", "")),
            {k: bool(v) for k, v in payload.get("carried", {}).items()},
        )
    except (OSError, ValueError, KeyError, TypeError):
        return Stored()
