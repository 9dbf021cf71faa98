"""schemathesis over the running server (`duban run`, real PostgreSQL and Redis): at least 1,000 requests
generated from the OpenAPI, valid and invalid, as the office; not one 5xx."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from duban.tasks.parser import parse
from duban.tasks.plans import import_plan
from faults.core import Context, Outcome, elapsed
from faults.http import make_users
from faults.processes import start_api
from faults.services import HOST, free_port
from faults.world import populate

NAME = "fuzz"
TITLE = "schemathesis over the running server"
MINIMUM_REQUESTS = 1000
EXAMPLES = 50
SEED = 20251013
PLAN = Path(__file__).resolve().parents[1] / "examples" / "plans"
_STATUS = re.compile(r"^\s+code: '?(\d{3})'?\s*$")


def _statuses(cassette: Path) -> Counter[int]:
    """The status of every response recorded in the VCR cassette."""
    found: Counter[int] = Counter()
    if not cassette.exists():
        return found
    with cassette.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            match = _STATUS.match(line)
            if match:
                found[int(match.group(1))] += 1
    return found


def _seed_plans(engine: Engine) -> int:
    """Import the bundled example plans (draft tasks to act on); returns how many."""
    files = sorted(PLAN.glob("*.txt"))[:2]
    with Session(engine) as session:
        for file in files:
            text = file.read_text(encoding="utf-8")
            import_plan(session, text, parse(text), file.name)
        session.commit()
    return len(files)


def run(ctx: Context, outcome: Outcome) -> None:
    """Run `st run` against the server with the office's token; count the responses by status."""
    outcome.tried = (
        f"`st run` (schemathesis) against `duban run` on a free port, every operation of /openapi.json, "
        f"positive and negative data (`-D all`), up to {EXAMPLES} examples each, seed {SEED}, 2 workers, "
        "as the office (API token); the database held two bundled plans and 30 overdue tasks. The only "
        f"check that fails the fault is `not_a_server_error`; it fails below {MINIMUM_REQUESTS} requests too."
    )
    url, engine = ctx.database(NAME)
    tokens = make_users(engine)
    plans = _seed_plans(engine)
    populate(engine, 30, key="fuzz", lead=tokens.lead_department_id)
    folder = ctx.scratch / NAME
    port = free_port()
    api = start_api(ctx.env(url, folder), folder / "api.log", port)
    cassette = folder / "cassette.yaml"
    started = time.monotonic()
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"http://{HOST}:{port}/openapi.json",
        "--force-schema-version",
        "30",
        "--checks",
        "not_a_server_error",
        "-D",
        "all",
        "--hypothesis-max-examples",
        str(EXAMPLES),
        "--hypothesis-seed",
        str(SEED),
        "--hypothesis-phases",
        "explicit,generate",
        "--hypothesis-suppress-health-check",
        "all",
        "--hypothesis-database",
        "none",
        "--workers",
        "2",
        "--request-timeout",
        "60000",
        "--cassette-path",
        str(cassette),
        "--schemathesis-io-telemetry",
        "false",
        "-H",
        f"Authorization: Bearer {tokens.office}",
    ]
    env = {**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "NO_COLOR": "1"}
    try:
        finished = subprocess.run(  # noqa: S603
            command, env=env, capture_output=True, text=True, timeout=420, check=False
        )
    finally:
        api.stop()
    (folder / "schemathesis.txt").write_text(finished.stdout + finished.stderr, encoding="utf-8")
    statuses = _statuses(cassette)
    requests = sum(statuses.values())
    server_errors = {status: count for status, count in statuses.items() if status >= 500}
    summary = [
        line for line in finished.stdout.splitlines() if re.search(r"\b(passed|failed|errored)\b", line)
    ]
    counted = re.findall(r"(\d+) (?:passed|failed|errored)", summary[-1] if summary else "")
    operations = sum(int(n) for n in counted)
    outcome.figure("requests", requests)
    outcome.figure("5xx", sum(server_errors.values()))
    outcome.figure("operations", operations)
    outcome.figure("responses by status", dict(sorted(statuses.items())))
    outcome.figure("st exit status", finished.returncode)
    outcome.figure("bundled plans loaded", plans)
    outcome.figure("seconds", round(elapsed(started), 1))
    outcome.note(
        f"{requests} requests over {operations} operations; statuses {dict(sorted(statuses.items()))}"
    )
    if summary:
        outcome.note(f"schemathesis: {summary[-1].strip(' =')}")
    outcome.check(requests >= MINIMUM_REQUESTS, f"only {requests} requests were made")
    outcome.check(not server_errors, f"5xx answers: {server_errors}")
    outcome.check(finished.returncode == 0, f"st exited {finished.returncode}: {finished.stdout[-1500:]}")
