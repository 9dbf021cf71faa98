"""Benchmark: a 20 MB PDF uploaded as 佐证材料 on the embedded runtime (issue 16)."""

from __future__ import annotations

import sys
from typing import Any, Final

from bench.core import Context, Goal, Measured, Result, child_environment, run_child

NAME = "evidence"
ORDER = 60
TITLE = "Evidence: a 20 MB PDF uploaded as 佐证材料 (embedded runtime)"
MEGABYTES: Final = 20
INTRO = f"""\
What it measures: one {MEGABYTES} MB PDF posted by the lead as a multipart `file` to
`POST /api/v1/tasks/{{id}}/files` on the embedded runtime (SQLite, the local file store under the scratch
`var/files/`), through the whole app in process (ASGI, the request guard, Starlette's multipart parser
spooling the part to disk, the store's hash-while-copying write, fsync and rename, the kind told from the
bytes, the row committed). Each upload is new content, so nothing is deduplicated away; a second line
sends the same bytes raw (`application/octet-stream` with `X-Filename`). Reference, in the same round: the
same bytes written to a file with one `fsync` — the storage floor. Goal (issue 16): under 2 s."""

GOAL: Final = Goal("<", 2.0, "< 2 s")


def run(ctx: Context) -> list[Result]:
    """Run the uploads in a fresh process on a scratch var/ folder and report the figures."""
    env = child_environment(DUBAN_VAR_DIR=str(ctx.scratch), DUBAN_ENV="development")
    command = [sys.executable, "-m", "bench.evidence.child", str(ctx.runs), str(MEGABYTES)]
    data: dict[str, Any] = run_child(command, what="bench.evidence.child", timeout=600, env=env)
    floor = Measured.of(data["floor"], "s")
    results = [
        Result(
            f"multipart upload, {MEGABYTES} MB PDF",
            Measured.of(data["multipart"], "s"),
            "write + fsync",
            floor,
            GOAL,
        ),
        Result(
            f"raw upload, {MEGABYTES} MB PDF", Measured.of(data["raw"], "s"), "write + fsync", floor, GOAL
        ),
    ]
    ctx.note(f"Stored files after the rounds: {data['stored']} (every upload new content).")
    return results
