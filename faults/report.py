"""docs/faults.md: what each fault tried, what it found, its figures; and the console summary."""

from __future__ import annotations

import datetime as dt

from bench import machine
from faults.core import Outcome

INTRO = """Written by `make faults` (`python -m faults.run`); do not edit by hand. Every fault runs against
private servers the suite starts on free loopback ports — a PostgreSQL cluster made with `initdb`, a
`redis-server` without persistence, an SMTP server (aiosmtpd) — and duban's own processes (`duban run`,
`celery worker`, `celery beat`) as subprocesses; the suite stops and restarts those servers, never the
shared ones. The clock of every duban process stands on Monday 2025-10-13 10:00 (`DUBAN_NOW`), inside
office hours, so that no notice waits for the office to open whatever time the suite runs; where time
must pass (leases of 5 minutes, retries after a backoff), the suite plays beat's dispatcher at the
simulated moment (`relay(now)`), as beat would a minute or ten later. The 督办单 notice mails go without
their PDF attachment (`DUBAN_MAIL_NOTICE_PDF=false`): at about 0.2 s of CPU apiece, the PDFs of thousands of
notices would turn each fault into a PDF benchmark; the attachment itself is tested in `tests/`.

A fault fails the suite on a lost notice or write, a repeat beyond the messages in flight when a
process was killed, a 5xx other than the 503 a database outage calls for, or a recovery slower than
promised."""


def _verdict(outcome: Outcome) -> str:
    if outcome.error:
        return "error"
    return "passed" if outcome.passed else "FAILED"


def summary(outcomes: list[Outcome], wall: float) -> str:
    """The console summary: one line per fault."""
    lines = ["", "fault summary"]
    for outcome in outcomes:
        keys = list(outcome.figures.items())[:6]
        figures = ", ".join(f"{key} {value}" for key, value in keys)
        lines.append(f"  {outcome.name:<9} {_verdict(outcome):<7} {outcome.seconds:6.0f} s  {figures}")
        lines.extend(f"      ✗ {failure}" for failure in outcome.failures)
        if outcome.error:
            lines.append(f"      ✗ {outcome.error}")
    lines.append(f"  wall time {wall:.0f} s")
    return "\n".join(lines)


def render(outcomes: list[Outcome], wall: float, postgres: str, smtp_outage: float) -> str:
    """The whole report."""
    info = machine.machine()
    when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    passed = sum(1 for outcome in outcomes if outcome.passed)
    out = [
        "# Fault suite",
        "",
        INTRO,
        "",
        f"Last run {when}, commit {machine.git_revision()}, {wall:.0f} s wall time on {info['cores']} cores "
        f"({info['CPU']}, {info['RAM']}); PostgreSQL {postgres}, Python {machine.versions()['Python']}. "
        f"{passed} of {len(outcomes)} faults passed. SMTP outage: {smtp_outage:.0f} s.",
        "",
        "| fault | result | seconds | key figures |",
        "|---|---|---|---|",
    ]
    for outcome in outcomes:
        keys = list(outcome.figures.items())[:5]
        figures = "; ".join(f"{key} {value}" for key, value in keys)
        out.append(
            f"| {outcome.name}: {outcome.title} | {_verdict(outcome)} | {outcome.seconds:.0f} | {figures} |"
        )
    for outcome in outcomes:
        out += ["", f"## {outcome.name}: {outcome.title}", "", f"**Tried.** {outcome.tried}", ""]
        if outcome.found:
            out += ["**Found.**", ""]
            out += [f"- {line}" for line in outcome.found]
            out.append("")
        if outcome.failures or outcome.error:
            out += ["**Failures.**", ""]
            out += [f"- {line}" for line in outcome.failures]
            if outcome.error:
                out.append(f"- the fault itself crashed: `{outcome.error}`")
            out.append("")
        if outcome.figures:
            out += ["| figure | value |", "|---|---|"]
            out += [f"| {key} | {value} |" for key, value in outcome.figures.items()]
    return "\n".join(out).rstrip() + "\n"


def merge(previous: str, outcomes: list[Outcome], wall: float) -> str:
    """The report of an earlier full run with these faults' rows and sections replaced or added (a run of
    some faults only, e.g. `python -m faults.run worker`); the header says which came from which run."""
    fresh = render(outcomes, wall, "", 0.0)
    rows = {
        o.name: next(line for line in fresh.splitlines() if line.startswith(f"| {o.name}: "))
        for o in outcomes
    }
    sections = {
        o.name: "## " + next(s for s in fresh.split("\n## ")[1:] if s.startswith(f"{o.name}: "))
        for o in outcomes
    }
    head, *parts = previous.split("\n## ")
    lines = head.splitlines()
    for name, row in rows.items():
        found = [i for i, line in enumerate(lines) if line.startswith(f"| {name}: ")]
        if found:
            lines[found[0]] = row
        else:
            last = max(
                i for i, line in enumerate(lines) if line.startswith("| ") and not line.startswith("|---")
            )
            lines.insert(last + 1, row)
    when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    names = ", ".join(rows)
    revision = machine.git_revision()
    note = f"Rows and sections of {names}: from a run of only those faults {when}, commit {revision}."
    lines = [line for line in lines if not line.startswith(f"Rows and sections of {names}:")]
    at = next(i for i, line in enumerate(lines) if line.startswith("Last run "))
    lines.insert(at + 1, "")
    lines.insert(at + 2, note)
    kept = ["## " + part.rstrip() for part in parts if part.split(":", 1)[0] not in rows]
    body = "\n\n".join(section.rstrip() for section in [*kept, *sections.values()])
    return "\n".join(lines).rstrip() + "\n\n" + body + "\n"
