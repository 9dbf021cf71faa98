"""Where a server's CPU goes: py-spy samples of the threads holding the GIL, grouped by phase and library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.core import run_child
from bench.http.servers import Server
from bench.pyspy import leaf_tables, library, record_command, stacks

# The deepest of these functions on a sampled stack names the phase the sample belongs to.
PHASES: dict[str, str] = {
    "decode_access_token": "auth: JWT decode",
    "authenticate": "auth: user lookup (one prepared SELECT, incl. connection checkout)",
    "load_caller_and_header": "caller and task: one prepared SELECT",
    "unit_scope": "unit: checkout, commit, close",
    "load_header": "load_header (task + holders, one prepared statement)",
    "apply_action": "apply_action: checks, UPDATE + INSERT event",
    "BaseModel.model_dump": "response: model_dump to JSON",
    "JSONResponse.render": "response: model_dump to JSON",
    "_act": "action's unit of work: other",
    "post_action": "action's unit of work: other",
    "session_scope": "session: open, commit, close",
    "Session.commit": "session: open, commit, close",
    "Session.close": "session: open, commit, close",
    "send_job": "after commit: jobs sent to the Celery broker",
    "observe_request": "HTTP: request metrics",
    "solve_dependencies": "FastAPI: dependencies, validation",
    "serialize_response": "FastAPI: dependencies, validation",
    "run_endpoint_function": "FastAPI: dependencies, validation",
    "AsyncIOBackend.run_sync_in_worker_thread": "threadpool hand-offs (anyio queue, futex wake)",
    "RequestGuard.__call__": "HTTP: uvicorn, Starlette, middleware, event loop",
    "RequestResponseCycle.run_asgi": "HTTP: uvicorn, Starlette, middleware, event loop",
    "HttpToolsProtocol.data_received": "HTTP: uvicorn, Starlette, middleware, event loop",
    "Runner.run": "HTTP: uvicorn, Starlette, middleware, event loop",
}
HANDOFF = "threadpool hand-offs (anyio queue, futex wake)"
# A worker thread whose innermost frame is a lock or queue primitive is waking up or handing work back.
HANDOFF_FILES = ("threading.py", "queue.py")
LIBRARIES = (
    "sqlalchemy",
    "sqlmodel",
    "psycopg",
    "pydantic",
    "pydantic_core",
    "fastapi",
    "starlette",
    "uvicorn",
    "anyio",
    "jwt",
    "prometheus_client",
)


def record(server: Server, seconds: float, folder: Path) -> list[subprocess.Popen[bytes]]:
    """Start sampling every worker (GIL holders only, 100 Hz); wait on the returned processes."""
    return [
        subprocess.Popen(  # noqa: S603
            record_command(
                folder / f"worker-{pid}.txt", "--pid", str(pid), "--gil", "--duration", str(round(seconds))
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in server.worker_pids()
    ]


def summarise(folder: Path) -> dict[str, Any]:
    """Samples by phase and by library of the leaf frame, plus the hottest leaf functions."""
    phases: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for frames, count in stacks(folder, "worker-*.txt"):
        total += count
        phase = "other"
        if frames[-1][1] in HANDOFF_FILES and any(func == "WorkerThread.run" for func, _ in frames):
            phase = HANDOFF
        for func, _file in reversed(frames if phase == "other" else ()):
            if func in PHASES:
                phase = PHASES[func]
                break
        phases[phase] += count
        func, file = frames[-1]
        libraries[library(file, LIBRARIES)] += count
        leaves[f"{func} ({file})"] += count
    return {
        "samples": total,
        "phases": phases.most_common(),
        "libraries": libraries.most_common(),
        "leaves": leaves.most_common(15),
    }


def markdown(summary: dict[str, Any], ms_per_action: float) -> str:
    """The profile as report tables; shares are of the server's GIL-held samples."""
    total = summary["samples"] or 1
    lines = [
        f"Server profile (py-spy, GIL-holding threads of every worker, {summary['samples']} samples "
        f"at 100 Hz, during an extra duban run that is not counted above). Milliseconds are the share of "
        f"the server's measured CPU per accepted action ({ms_per_action:.1f} ms):",
        "",
        "| phase (deepest duban/framework function on the stack) | share | ms per action |",
        "|---|---:|---:|",
    ]
    for phase, count in summary["phases"]:
        share = count / total
        lines.append(f"| {phase} | {100 * share:.1f}% | {share * ms_per_action:.2f} |")
    lines += ["", *leaf_tables(summary, total)]
    return "\n".join(lines)


def statements_per_action(env: dict[str, str], payload: dict[str, Any]) -> dict[str, list[str]]:
    """The SQL duban sends for one submit and one return (see bench.http.querycount)."""
    command = [sys.executable, "-m", "bench.http.querycount"]
    seen = run_child(
        command, what="querycount", timeout=120, env={**os.environ, **env}, stdin=json.dumps(payload)
    )
    return {name: list(statements) for name, statements in seen.items()}
