"""`duban run` as an operator runs it: JSON logs with request ids, SIGTERM (docker stop, systemd) stops
the API, the worker and beat together, and a worker or beat that dies is started again."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from faults.processes import answers, spawn
from tests.fixtures.services import free_port


def _children(pid: int) -> set[int]:
    """Children of every thread of `pid` (the supervisor thread starts the restarted ones)."""
    kids: set[int] = set()
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            kids |= {int(p) for p in listing.read_text().split()}
    return kids


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    queue = [pid]
    while queue:
        kids = _children(queue.pop())
        found |= kids
        queue.extend(kids)
    return found


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _leader(run_pid: int, role: str) -> int | None:
    """The pid of `duban run`'s child whose Celery command is `role` (worker or beat), if alive."""
    found = [pid for pid in _children(run_pid) if f" {role} " in _cmdline(pid) and _alive(pid)]
    return found[0] if found else None


def _metric(port: int, line_start: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start)]
    return values[0] if values else 0.0


def _wait(condition: Callable[[], object], seconds: float, what: str, output: Callable[[], str]) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}\n{output()[-3000:]}"
        time.sleep(0.2)


def test_duban_run_restarts_a_killed_worker_and_beat(tmp_path: Path) -> None:
    env = {
        "DUBAN_VAR_DIR": str(tmp_path / "var"),
        "DUBAN_ENV": "development",
        "DUBAN_LOG_FORMAT": "json",
        "DUBAN_HEARTBEAT_SECONDS": "1",
        "DUBAN_HEARTBEAT_STALE_SECONDS": "4",
    }
    duban = str(Path(sys.executable).with_name("duban"))
    subprocess.run([duban, "db", "upgrade"], env={**os.environ, **env}, check=True, capture_output=True)
    port = free_port()
    child = spawn([duban, "run", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path / "run.log")
    run_pid = child.process.pid
    spawned: set[int] = set()
    try:
        _wait(lambda: answers(port) == 200, 90, "duban run healthy (heartbeats through)", child.output)
        for role in ("worker", "beat"):
            first = _leader(run_pid, role)
            assert first is not None, child.output()[-3000:]
            group = {first, *_descendants(first)}  # the Celery main process and its pool
            spawned |= group
            for pid in group:
                os.kill(pid, signal.SIGKILL)
            _wait(
                lambda role=role, first=first: _leader(run_pid, role) not in (None, first),  # type: ignore[misc]
                30,
                f"a new {role}",
                child.output,
            )
            spawned.add(_leader(run_pid, role) or 0)
            assert f"{role} exited (signal 9" in child.output()
            assert _metric(port, f'duban_runtime_restarts_total{{process="{role}"}}') == 1.0
        assert not any(_alive(pid) for pid in spawned - set(_descendants(run_pid))), "orphans left behind"
        _wait(lambda: answers(port) == 200, 60, "healthy again", child.output)
    finally:
        spawned |= _descendants(run_pid)
        child.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=60)
        child.kill()
        for pid in spawned:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    records = [json.loads(line) for line in child.output().splitlines() if line.startswith("{")]
    restarts = [
        r for r in records if r.get("logger") == "duban.runtime" and "exited" in str(r.get("message"))
    ]
    assert [r["level"] for r in restarts] == ["ERROR", "ERROR"]


def test_duban_run_logs_json_and_stops_worker_and_beat_on_sigterm(tmp_path: Path) -> None:
    env = {"DUBAN_VAR_DIR": str(tmp_path / "var"), "DUBAN_ENV": "development", "DUBAN_LOG_FORMAT": "json"}
    duban = str(Path(sys.executable).with_name("duban"))
    subprocess.run([duban, "db", "upgrade"], env={**os.environ, **env}, check=True, capture_output=True)
    port = free_port()
    child = spawn([duban, "run", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path / "run.log")
    try:
        deadline = time.monotonic() + 60
        while not (
            answers(port) == 200 and "ready." in child.output() and "beat lock taken" in child.output()
        ):
            assert child.alive() and time.monotonic() < deadline, child.output()[-3000:]
            time.sleep(0.2)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "op-1"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["X-Request-ID"] == "op-1"
        helpers = _descendants(child.process.pid)
        assert len(helpers) >= 2  # the worker (and its pool) and beat
        child.process.send_signal(signal.SIGTERM)
        child.process.wait(timeout=60)
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in helpers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in helpers), "worker or beat outlived duban run"
    finally:
        child.kill()
    records = [json.loads(line) for line in child.output().splitlines() if line.startswith("{")]
    access = [r for r in records if r.get("logger") == "duban.access" and r.get("request_id") == "op-1"]
    assert access and access[0]["status"] == 200 and access[0]["route"] == "/healthz"
    assert any(r.get("logger") == "duban.beat" for r in records)  # beat's lines are JSON as well


def test_worker_and_beat_end_when_duban_run_is_killed(tmp_path: Path) -> None:
    env = {"DUBAN_VAR_DIR": str(tmp_path / "var"), "DUBAN_ENV": "development"}
    duban = str(Path(sys.executable).with_name("duban"))
    subprocess.run([duban, "db", "upgrade"], env={**os.environ, **env}, check=True, capture_output=True)
    port = free_port()
    child = spawn([duban, "run", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path / "run.log")
    helpers: set[int] = set()
    try:
        _wait(
            lambda: _leader(child.process.pid, "worker") and _leader(child.process.pid, "beat"),
            90,
            "worker and beat started",
            child.output,
        )
        time.sleep(2)  # the worker's pool has come up
        helpers = _descendants(child.process.pid)
        child.process.send_signal(signal.SIGKILL)  # no chance to stop its children itself
        child.process.wait(timeout=10)
        _wait(
            lambda: not any(_alive(pid) for pid in helpers),
            60,
            "worker or beat outlived duban run",
            child.output,
        )
    finally:
        for pid in helpers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
