"""Start and stop uvicorn servers as subprocesses on free loopback ports."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.core import REPO_ROOT
from bench.machine import descendants

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Server:
    """A running uvicorn: its supervisor pid and port."""

    pid: int
    port: int

    def worker_pids(self) -> list[int]:
        """The processes serving requests: the workers below the supervisor, or uvicorn itself when it
        runs a single worker in-process."""
        return [p for p in descendants(self.pid) if p != self.pid] or [self.pid]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def uvicorn_command(factory: str, port: int, workers: int) -> list[str]:
    """uvicorn with the app factory, `workers` processes, no access log (same flags for every app)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def _answers(port: int, path: str) -> bool:
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
    except OSError:
        return False
    return status < 500


@contextmanager
def serve(
    factory: str,
    env: dict[str, str],
    workers: int,
    ready_path: str,
    log: Path,
    timeout: float = 60.0,
    cwd: Path = REPO_ROOT,
) -> Iterator[Server]:
    """Run `factory` under uvicorn (from `cwd`, so a copy of duban there is the one served) until the
    block ends; waits until every worker answers."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603
            uvicorn_command(factory, port, workers),
            cwd=cwd,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout
        server = Server(process.pid, port)
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{factory} exited with {process.returncode}; see {log}")
            serving = server.worker_pids()
            if (workers == 1 or (len(serving) >= workers and serving != [server.pid])) and _answers(
                port, ready_path
            ):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{factory} did not answer within {timeout:.0f} s; see {log}")
            time.sleep(0.2)
        # Each worker imports the app on its own; a few more answers let the slower one finish.
        for _ in range(4 * workers):
            _answers(port, ready_path)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
