"""`duban run`: the API in this process, a Celery worker and beat beside it, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from duban.core.config import get_settings
from duban.core.logging import uvicorn_log_config

CELERY_APP = "duban.notifications.celery_app:celery_app"


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


@contextmanager
def background(commands: list[list[str]]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start `commands` as child processes and stop them all on exit."""
    children = [subprocess.Popen(command, env=os.environ.copy()) for command in commands]  # noqa: S603
    try:
        yield children
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def serve(host: str, port: int, *, with_worker: bool = True) -> None:
    """Serve the app on host:port, with a worker and beat unless told otherwise."""
    commands = [worker_command(), beat_command()] if with_worker else []
    # uvicorn shuts down on SIGTERM and then raises it again with the handler it found: with the default
    # one the process would die on the spot, leaving the worker and beat running. Ours unwinds instead.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with background(commands):
        uvicorn.run(
            "duban.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            log_config=uvicorn_log_config(get_settings()),
        )
