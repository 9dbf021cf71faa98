"""`duban run` as an operator runs it: JSON logs with request ids, and SIGTERM (docker stop, systemd) stops
the API, the worker and beat together."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from faults.processes import answers, spawn
from tests.fixtures.services import free_port


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    queue = [pid]
    while queue:
        current = queue.pop()
        children = Path(f"/proc/{current}/task/{current}/children")
        if children.exists():
            kids = {int(p) for p in children.read_text().split()}
            found |= kids
            queue.extend(kids)
    return found


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


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
