"""Whether reminders are running: heartbeats of the workers and of beat, and the last completed sweep.

Every worker's main process writes a row `worker:<queue>` for each queue it consumes every
`DUBAN_HEARTBEAT_SECONDS` (a thread beside the pool: a worker busy with a long delivery batch is alive,
not stale); the beat that holds the beat lock writes `beat` as it ticks; the sweep job writes `sweep` in
the same transaction as the sweep, so a fresh `sweep` proves beat, broker, worker and database work
together. The rows live in the shared database, so /healthz on any API host (the embedded runtime's or a
separate production one) reads the same truth.

Ages are measured on the wall clock, never `clock.now()`: `DUBAN_NOW` stands the business clock still
on a chosen day, and a heartbeat that never ages would never go stale.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

from duban.core.config import Settings, get_settings
from duban.core.db import session_scope
from duban.core.types import UTCDateTime
from duban.tasks.models.common import json_dict_field

QUEUES: Final = ("sweeps", "delivery")
SWEEP: Final = "sweep"
BEAT: Final = "beat"

log = logging.getLogger("duban.heartbeat")


def worker_key(queue: str) -> str:
    """The heartbeat row of the workers on `queue`."""
    return f"worker:{queue}"


class RuntimeHeartbeat(SQLModel, table=True):
    """The last sign of life of one part of the scheduler; `since` starts its current unbroken run."""

    __tablename__ = "runtime_heartbeat"

    name: str = Field(primary_key=True, max_length=64)
    at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    since: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    host: str = Field(default="", max_length=255)
    detail: dict[str, Any] = json_dict_field()


heartbeat_t: Final = RuntimeHeartbeat.__table__  # type: ignore[attr-defined]


def wall_now() -> dt.datetime:
    """The real time (UTC), whatever `DUBAN_NOW` says."""
    return dt.datetime.now(dt.UTC)


def record(
    session: Session,
    name: str,
    host: str,
    detail: dict[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> None:
    """Write the heartbeat `name` at `now` (one statement, safe when two workers beat at once)."""
    moment = now or wall_now()
    stale = dt.timedelta(seconds=(settings or get_settings()).heartbeat_stale_seconds)
    values = {"name": name, "at": moment, "since": moment, "host": host[:255], "detail": detail or {}}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(heartbeat_t).values(**values)
    unbroken = heartbeat_t.c.at >= sa.literal(moment - stale, UTCDateTime)
    statement = statement.on_conflict_do_update(
        index_elements=[heartbeat_t.c.name],
        set_={
            "at": statement.excluded.at,
            "host": statement.excluded.host,
            "detail": statement.excluded.detail,
            "since": sa.case((unbroken, heartbeat_t.c.since), else_=statement.excluded.since),
        },
    )
    session.connection().execute(statement)


def _age(now: dt.datetime, then: dt.datetime | None) -> float | None:
    return None if then is None else round(max((now - then).total_seconds(), 0.0), 1)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat(timespec="seconds")


@dataclass
class RuntimeStatus:
    """The scheduler as /healthz and the pages see it."""

    expected: bool
    worker: dict[str, Any] = field(default_factory=dict)
    sweep: dict[str, Any] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        """Heartbeats fresh on every queue and a sweep completed recently (or not due yet)."""
        return self.worker.get("status") == "ok" and self.sweep.get("status") in ("ok", "pending")

    @property
    def healthy(self) -> bool:
        """What /healthz answers on: running, or no worker expected here."""
        return self.running or not self.expected


def runtime_status(
    session: Session, settings: Settings | None = None, now: dt.datetime | None = None
) -> RuntimeStatus:
    """Read the heartbeats and judge them against the thresholds in settings."""
    config = settings or get_settings()
    moment = now or wall_now()
    found = {
        row.name: row
        for row in session.connection().execute(
            sa.select(heartbeat_t.c.name, heartbeat_t.c.at, heartbeat_t.c.since)
        )
    }
    queues: dict[str, float | None] = {}
    state = "ok"
    for queue, key in [*((q, worker_key(q)) for q in QUEUES), (BEAT, BEAT)]:
        row = found.get(key)
        queues[queue] = _age(moment, row.at if row else None)
        if row is None:
            state = "missing" if state != "stale" else state
        elif (moment - row.at).total_seconds() > config.heartbeat_stale_seconds:
            state = "stale"
    beat_age = queues.pop(BEAT)
    seen = [row.at for key, row in found.items() if key.startswith("worker:")]
    last = max(seen, default=None)
    worker = {
        "status": state,
        "last_seen": _iso(last),
        "age_seconds": _age(moment, last),
        "stale_after_seconds": config.heartbeat_stale_seconds,
        "queues": queues,
        "beat_age_seconds": beat_age,
    }
    return RuntimeStatus(bool(config.expect_worker), worker, _sweep(found, config, moment, state))


def _sweep(found: dict[str, Any], config: Settings, moment: dt.datetime, worker: str) -> dict[str, Any]:
    row = found.get(SWEEP)
    limit = config.sweep_stale_seconds
    beating = found.get(worker_key(QUEUES[0]))
    # A worker that came up less than one stale period ago has not had the chance to sweep yet.
    young = worker == "ok" and beating is not None and (moment - beating.since).total_seconds() <= limit
    if row is not None and (moment - row.at).total_seconds() <= limit:
        state = "ok"
    elif young:
        state = "pending"
    else:
        state = "stale" if row is not None else "missing"
    return {
        "status": state,
        "last_completed": _iso(row.at if row else None),
        "age_seconds": _age(moment, row.at if row else None),
        "stale_after_seconds": limit,
    }


def host_name() -> str:
    """This process as a heartbeat names it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Pulse:
    """A thread writing heartbeat rows every `DUBAN_HEARTBEAT_SECONDS` until stopped."""

    def __init__(self, names: Sequence[str], host: str | None = None) -> None:
        """Beat for the rows `names` (not started yet)."""
        self.names = list(names)
        self.host = host or host_name()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def beat_once(self) -> None:
        """Write every row now; a failure is logged once until the database answers again."""
        try:
            with session_scope() as session:
                for name in self.names:
                    record(session, name, self.host, {"pid": os.getpid()})
        except Exception as error:
            if not self._failing:
                log.warning("心跳写入失败 / heartbeat not written: %s", type(error).__name__)
            self._failing = True
        else:
            if self._failing:
                log.info("心跳已恢复 / heartbeat written again")
            self._failing = False

    def start(self) -> None:
        """Beat now and then every interval, in a daemon thread."""
        interval = get_settings().heartbeat_seconds

        def run() -> None:
            self.beat_once()
            while not self._stop.wait(interval):
                self.beat_once()

        self._thread = threading.Thread(target=run, name="duban-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
