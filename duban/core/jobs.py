"""Jobs queued by name, with ids, after the transaction commits (the sender is set by the Celery app)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from duban.core.db import after_commit

log = logging.getLogger("duban.jobs")

Sender = Callable[[str, tuple[Any, ...]], None]
_sender: Sender | None = None


def set_sender(sender: Sender | None) -> None:
    """Install the function that hands a named job to the broker (None: jobs are only logged)."""
    global _sender
    _sender = sender


def enqueue(session: Session, name: str, *args: Any) -> None:
    """Queue job `name` with `args` once the session commits; nothing is sent on rollback."""

    def send() -> None:
        if _sender is None:
            log.info("job %s%r not sent: no broker configured in this process", name, args)
            return
        try:
            _sender(name, args)
        except Exception:
            # The write has committed; the sweep re-finds unsent work, so a broker hiccup loses nothing.
            log.exception("could not queue job %s%r", name, args)

    after_commit(session, send)
