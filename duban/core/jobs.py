"""Jobs queued by name, with ids, after the transaction commits (the sender is set by the Celery app)."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from duban.core.config import get_settings
from duban.core.db import Unit, after_commit

log = logging.getLogger("duban.jobs")

Sender = Callable[[str, tuple[Any, ...]], None]
_sender: Sender | None = None
BATCH_LIMIT = 500  # ids per batched job, so one message stays small


def set_sender(sender: Sender | None) -> None:
    """Install the function that hands a named job to the broker (None: jobs are only logged)."""
    global _sender
    _sender = sender


def _send(name: str, args: tuple[Any, ...]) -> None:
    if _sender is None:
        log.info("job %s%r not sent: no broker configured in this process", name, args)
        return
    try:
        _sender(name, args)
    except Exception:
        # The write has committed; the dispatcher re-finds unsent work, so a broker hiccup loses nothing.
        log.exception("could not queue job %s%r", name, args)


def enqueue(session: Unit, name: str, *args: Any) -> None:
    """Queue job `name` with `args` once the session commits; nothing is sent on rollback."""
    after_commit(session, lambda: _send(name, args))


class _Batches:
    """Ids committed for batched jobs, sent by one thread per process a short window after the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[str, list[Any]] = {}
        self.wake = threading.Event()
        self.owner_pid = 0  # a forked child starts its own thread and forgets the parent's ids

    def add(self, name: str, ids: tuple[Any, ...], window: float) -> None:
        with self.lock:
            if self.owner_pid != os.getpid():
                self.owner_pid = os.getpid()
                self.pending = {}
                self.wake = threading.Event()
                threading.Thread(
                    target=self._run, args=(self.wake, window), name="duban-jobs", daemon=True
                ).start()
            self.pending.setdefault(name, []).extend(ids)
        self.wake.set()

    def _run(self, wake: threading.Event, window: float) -> None:
        while True:
            wake.wait()
            wake.clear()
            time.sleep(window)  # the commits of the next few milliseconds join this message
            self.flush()

    def flush(self) -> None:
        with self.lock:
            pending, self.pending = self.pending, {}
        for name, ids in pending.items():
            for start in range(0, len(ids), BATCH_LIMIT):
                _send(name, tuple(ids[start : start + BATCH_LIMIT]))


_batches = _Batches()
atexit.register(_batches.flush)


def enqueue_batched(session: Unit, name: str, *ids: Any) -> None:
    """Queue `ids` for job `name` once the session commits; commits close together share one job
    (`name` must take any number of ids). A process killed inside the window loses the message, not
    the work: the dispatcher's catch-up finds events without notices."""
    window = get_settings().job_batch_seconds
    if window <= 0:
        enqueue(session, name, *ids)
        return
    after_commit(session, lambda: _batches.add(name, ids, window))


def flush_batched() -> None:
    """Send every batched id now (tests, shutdown)."""
    _batches.flush()
