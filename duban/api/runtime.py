"""`duban run`: the API in this process, a Celery worker and beat beside it, supervised, stopped together.

The supervisor polls its children; one that died (a crash, the OOM killer, SIGKILL) is logged, counted in
`duban_runtime_restarts_total{process}` and started again after a backoff that doubles while it keeps
dying young (1 s, 2 s, 4 s … 30 s) and resets once it has run a minute. Each child leads its own process
group, so a dead worker's orphaned pool processes are killed with it before the next one starts.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Final

import uvicorn

from duban.api.metrics import RUNTIME_RESTARTS
from duban.core.config import get_settings
from duban.core.logging import uvicorn_log_config

CELERY_APP = "duban.notifications.celery_app:celery_app"
POLL_SECONDS: Final = 0.5
FIRST_BACKOFF: Final = 1.0
MAX_BACKOFF: Final = 30.0
STABLE_SECONDS: Final = 60.0
STOP_SECONDS: Final = 20.0

log = logging.getLogger("duban.runtime")


def celery_command(*args: str) -> list[str]:
    """The argv of a Celery command for duban's app, with this interpreter."""
    return [sys.executable, "-m", "celery", "-A", CELERY_APP, *args]


def worker_command(concurrency: int = 2) -> list[str]:
    """The worker's argv (both queues)."""
    return celery_command(
        "worker", "--loglevel=INFO", f"--concurrency={concurrency}", "-Q", "sweeps,delivery"
    )


def beat_command() -> list[str]:
    """The beat's argv, with its schedule file under var/."""
    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return celery_command("beat", "--loglevel=INFO", f"--schedule={settings.var_dir / 'celerybeat-schedule'}")


PR_SET_PDEATHSIG: Final = 1


def _end_with_parent() -> None:
    """In the child before exec: SIGTERM it when `duban run` dies, even by SIGKILL (Linux), since its own
    process group no longer shares the parent's fate."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Supervised:
    """One supervised child: its name, argv, current process and restart bookkeeping."""

    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    young_deaths: int = 0
    restart_at: float | None = None
    restarts: int = 0

    def start(self) -> None:
        """Start the command as the leader of a new process group."""
        self.process = subprocess.Popen(  # noqa: S603
            self.command, env=os.environ.copy(), process_group=0, preexec_fn=_end_with_parent
        )
        self.started = time.monotonic()
        self.restart_at = None

    def kill_group(self) -> None:
        """SIGKILL whatever is left of the child's process group (pool processes it left behind)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)


@dataclass
class Supervisor:
    """Keeps the worker and beat running beside the API until `stop()`."""

    children: list[Supervised]
    poll_seconds: float = POLL_SECONDS
    _stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Start every child and the watching thread."""
        for child in self.children:
            child.start()
        self._thread = threading.Thread(target=self._watch, name="duban-supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.wait(self.poll_seconds):
            with self._lock:
                if self._stopping.is_set():
                    return
                for child in self.children:
                    self.check(child)

    def check(self, child: Supervised) -> None:
        """Notice a death, schedule the restart, or restart when its time has come."""
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.start()
                log.info(
                    "%s 已重启（pid %s）/ %s restarted (pid %s)",
                    child.name,
                    child.process.pid if child.process else "?",
                    child.name,
                    child.process.pid if child.process else "?",
                )
            return
        if child.process is None or child.process.poll() is None:
            return
        code = child.process.returncode
        child.kill_group()
        lived = now - child.started
        child.young_deaths = child.young_deaths + 1 if lived < STABLE_SECONDS else 0
        delay = min(FIRST_BACKOFF * 2 ** max(child.young_deaths - 1, 0), MAX_BACKOFF)
        child.restart_at = now + delay
        child.restarts += 1
        RUNTIME_RESTARTS.labels(child.name).inc()
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        log.error(
            "%s 进程已退出（%s，运行 %.0f 秒），%.0f 秒后重启 / "
            "%s exited (%s after %.0f s), restarting in %.0f s",
            child.name,
            how,
            lived,
            delay,
            child.name,
            how,
            lived,
            delay,
        )

    def stop(self) -> None:
        """Stop watching, then SIGTERM every child (warm shutdown), SIGKILL what is left after a while."""
        self._stopping.set()
        with self._lock:
            pass  # a check in progress finishes (and may start a child) before the children are stopped
        if self._thread is not None:
            self._thread.join(timeout=5)
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        for child in running:
            assert child.process is not None
            child.process.send_signal(signal.SIGTERM)
        for child in self.children:
            if child.process is None:
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=STOP_SECONDS)
            child.kill_group()
            child.process.wait()


@contextmanager
def supervised(commands: dict[str, list[str]]) -> Iterator[Supervisor]:
    """Start and supervise `commands` (name → argv) and stop them all on exit."""
    supervisor = Supervisor([Supervised(name, command) for name, command in commands.items()])
    supervisor.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def serve(host: str, port: int, *, with_worker: bool = True) -> None:
    """Serve the app on host:port, with a supervised worker and beat unless told otherwise."""
    commands = {"worker": worker_command(), "beat": beat_command()} if with_worker else {}
    # uvicorn shuts down on SIGTERM and then raises it again with the handler it found: with the default
    # one the process would die on the spot, leaving the worker and beat running. Ours unwinds instead.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    from duban.api.first_run import announce_sign_in  # issue 15: the output ends with where to sign in

    announce_sign_in(host, port)
    with supervised(commands):
        uvicorn.run(
            "duban.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            log_config=uvicorn_log_config(get_settings()),
        )
