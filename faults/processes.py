"""duban's own processes for the fault suite and the worker tests: Celery workers and beats, the API.

Each runs in a process group of its own, so a SIGKILL takes the pool's children with it, as when a
container or a machine dies.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CELERY_APP = "duban.notifications.celery_app:celery_app"
HOST = "127.0.0.1"


@dataclass
class Child:
    """A child process in its own process group, writing to `log`."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """What it wrote so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        """Whether it still runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group and reap the leader."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> None:
        """Warm shutdown (SIGTERM), then make sure the whole group is gone."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self.kill()


Worker = Child


def spawn(command: list[str], env: dict[str, str], log: Path) -> Child:
    """Start `command` with `env` added to this environment, in a new session, appending to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        process = subprocess.Popen(  # noqa: S603
            command,
            env={**os.environ, **env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Child(process, log)


def _wait_for(child: Child, ready: str, seen: int, seconds: float) -> None:
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise RuntimeError(f"{child.log.name}: exited early:\n{child.output()[-4000:]}")
            if child.output().count(ready) > seen:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{child.log.name}: not ready after {seconds:.0f} s:\n{child.output()[-4000:]}")
    except BaseException:
        child.kill()
        raise


def start_worker(
    env: dict[str, str],
    log: Path,
    *,
    concurrency: int = 4,
    queues: str = "sweeps,delivery",
    name: str = "kill",
) -> Child:
    """Start a Celery worker on `queues` and wait until it is ready."""
    seen = log.read_text(errors="replace").count("ready.") if log.exists() else 0
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        CELERY_APP,
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "-Q",
        queues,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h",
    ]
    worker = spawn(command, env, log)
    _wait_for(worker, "ready.", seen, 60)
    return worker


def start_beat(env: dict[str, str], log: Path, schedule: Path) -> Child:
    """Start a Celery beat (duban's locked scheduler) with its own schedule file."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        CELERY_APP,
        "beat",
        "--loglevel=INFO",
        f"--schedule={schedule}",
    ]
    beat = spawn(command, env, log)
    _wait_for(beat, "beat: Starting", 0, 60)
    return beat


def children(pid: int) -> set[int]:
    """The children of every thread of `pid` (`duban run` starts restarted ones from its supervisor)."""
    found: set[int] = set()
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found |= {int(child) for child in listing.read_text().split()}
    return found


def descendants(pid: int) -> set[int]:
    """Every process below `pid`."""
    found: set[int] = set()
    queue = [pid]
    while queue:
        kids = children(queue.pop())
        found |= kids
        queue.extend(kids)
    return found


def role_of(pid: int) -> str | None:
    """`worker` or `beat` for a live Celery process of duban's app, else None."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
    if state == "Z" or CELERY_APP.encode() not in argv:
        return None
    for role in ("worker", "beat"):
        if role.encode() in argv:
            return role
    return None


def answers(port: int, path: str = "/healthz", timeout: float = 5) -> int | None:
    """The status the server on `port` gives `path`, None when it does not answer."""
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
    except OSError:
        return None
    return status


def start_api(env: dict[str, str], log: Path, port: int) -> Child:
    """`duban run --no-worker` on `port`; waits until /healthz answers 200 (no worker serves the faults'
    API-only databases, so none is expected)."""
    duban = str(Path(sys.executable).with_name("duban"))
    command = [duban, "run", "--no-worker", "--host", HOST, "--port", str(port)]
    api = spawn(command, {"DUBAN_EXPECT_WORKER": "false", **env}, log)
    deadline = time.monotonic() + 60
    while answers(port) != 200:
        if not api.alive() or time.monotonic() > deadline:
            api.kill()
            raise RuntimeError(f"the API did not come up on {port}:\n{api.output()[-4000:]}")
        time.sleep(0.2)
    return api
