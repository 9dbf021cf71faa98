"""Real Celery workers on Redis delivering to a real SMTP server — and SIGKILLed in the middle of a batch.

The kill test queues ≥ 1,000 immediate notices (督办单) through the `duban.sweep` job, kills the whole
worker (pool children included) once a good part has arrived, starts a new worker, lets the relay find
what was in flight, and then checks the SMTP server: no notice lost; a repeat only for a row that was
being sent at the kill, with the same Message-ID. It prints the counts and timings.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from duban.core.config import Settings
from duban.core.db import build_engine
from duban.notifications.celery_app import celery_app, configure
from duban.notifications.delivery import LEASE, REQUEUE_AFTER
from duban.notifications.models import OutboxStatus
from duban.notifications.outbox import outbox_t
from faults.processes import Worker
from faults.processes import start_worker as start_faults_worker
from faults.world import NOW, populate, relay_at, rows, settled, unsent, wait
from tests.conftest import POSTGRES_URL, database_url_for
from tests.fixtures.services import SmtpCatcher

pytestmark = pytest.mark.redis

NOTICES = 1000
CONCURRENCY = 4


def start_worker(env: dict[str, str], log: Path) -> Worker:
    """A worker on both queues, in its own process group (a kill takes its pool children too)."""
    return start_faults_worker(env, log, concurrency=CONCURRENCY)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A migrated database the worker processes can reach (PostgreSQL when configured)."""
    yield from database_url_for("postgres" if POSTGRES_URL else "sqlite", tmp_path)


@pytest.fixture
def redis_celery(redis_url: str, database: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """This process's Celery app on the test Redis; the worker environment to match."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {
        "DUBAN_VAR_DIR": str(tmp_path),
        "DUBAN_BROKER_URL": redis_url,
        "DUBAN_DATABASE_URL": database,
        "DUBAN_ENV": "test",
        "DUBAN_NOW": NOW,
        "DUBAN_MAIL_BACKEND": "smtp",
    }
    configure(celery_app, Settings(var_dir=tmp_path, broker_url=redis_url, database_url=database))
    try:
        yield env
    finally:
        configure(celery_app, Settings())


def _populate(engine: Engine, tasks: int) -> None:
    populate(engine, tasks)


_unsent = unsent
_rows = rows
_settled = settled
_relay = relay_at


def _statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        query = sa.select(outbox_t.c.status, sa.func.count()).group_by(outbox_t.c.status)
        return {row[0]: int(row[1]) for row in conn.execute(query)}


def _wait_quietly(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _wait(
    condition: Callable[[], bool], seconds: float, what: str, worker: Worker, every: float = 0.1
) -> None:
    wait(condition, seconds, what, worker.output, every)


def test_sweep_job_delivers_through_a_real_worker(
    redis_celery: dict[str, str], database: str, smtp_server: SmtpCatcher, tmp_path: Path
) -> None:
    engine = build_engine(database)
    _populate(engine, 3)
    env = {**redis_celery, "DUBAN_SMTP_HOST": smtp_server.host, "DUBAN_SMTP_PORT": str(smtp_server.port)}
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        answer = celery_app.send_task("duban.sweep", args=[NOW]).get(timeout=60)
        assert answer["by_step"] == {"deadline:supervise_blue": 3}
        _wait(lambda: len(smtp_server.messages) >= 3, 60, "three mails", worker)
        celery_app.send_task("duban.dispatch").get(timeout=60)  # Monday: the office's weekly summary
        _wait(lambda: len(smtp_server.messages) >= 4, 60, "the weekly summary", worker)
        _wait(
            lambda: all(status == OutboxStatus.sent.value for status, _ in _rows(engine).values()),
            30,
            "every row marked sent",
            worker,
        )
    finally:
        worker.stop()
        engine.dispose()
    assert len(smtp_server.messages) == 4
    assert {str(m["Message-ID"]) for m in smtp_server.messages} == {mid for _, mid in _rows(engine).values()}


def test_sigkill_mid_batch_loses_nothing(
    redis_celery: dict[str, str],
    database: str,
    smtp_server: SmtpCatcher,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = build_engine(database)
    _populate(engine, NOTICES)
    env = {**redis_celery, "DUBAN_SMTP_HOST": smtp_server.host, "DUBAN_SMTP_PORT": str(smtp_server.port)}
    log = tmp_path / "worker.log"
    started = time.monotonic()
    worker = start_worker(env, log)
    try:
        answer = celery_app.send_task("duban.sweep", args=[NOW]).get(timeout=120)
        assert answer["queued"] == answer["notices"] == NOTICES
        _wait(lambda: len(smtp_server.messages) >= NOTICES // 4, 120, "a quarter of the mails", worker, 0.01)
        worker.kill()
        killed_at = time.monotonic()
        at_kill = _rows(engine)
        received_at_kill = len(smtp_server.messages)
        in_flight = {
            row_id for row_id, (status, _) in at_kill.items() if status == OutboxStatus.sending.value
        }
        assert received_at_kill < NOTICES, "the batch finished before the kill; nothing was tested"

        worker = start_worker(env, log)
        # The new worker drains what is still queued; what the dead worker held is stuck until the relay
        # (beat's dispatcher, every minute) finds it once the leases have run out.
        _wait(_settled(engine, redis_celery["DUBAN_BROKER_URL"]), 180, "the queue to drain", worker)
        stuck = _unsent(engine)
        later = dt.datetime.fromisoformat(NOW) + max(LEASE, REQUEUE_AFTER) + dt.timedelta(minutes=1)
        requeued = _relay(engine, later)
        # Beat's dispatcher relays every minute: a send that failed under load (SMTP timeout) is retried
        # after its backoff. Relay again only while nothing is in a worker's hands, so no lease is stolen.
        for attempt in range(1, 18):
            if _wait_quietly(lambda: _unsent(engine) == 0, 10):
                break
            if _statuses(engine).get(OutboxStatus.sending.value, 0) == 0:
                requeued += _relay(engine, later + dt.timedelta(minutes=15 * attempt))  # office hours still
        else:
            statuses = _statuses(engine)
            raise AssertionError(
                f"timed out waiting for every row sent: {statuses}\n{worker.output()[-4000:]}"
            )
        _wait(
            lambda: len({m["Message-ID"] for m in smtp_server.messages}) >= NOTICES, 30, "every mail", worker
        )
        finished = time.monotonic()
    finally:
        worker.stop()
        engine.dispose()

    rows = _rows(engine)
    counts = Counter(str(message["Message-ID"]) for message in smtp_server.messages)
    lost = [row_id for row_id, (_, message_id) in rows.items() if counts[str(message_id)] == 0]
    repeated = {message_id for message_id, count in counts.items() if count > 1}
    repeated_rows = {row_id for row_id, (_, message_id) in rows.items() if message_id in repeated}
    with capsys.disabled():
        print(
            f"\n[kill test] notices={len(rows)} received={len(smtp_server.messages)} "
            f"distinct={len(counts)} at_kill={received_at_kill} in_flight_at_kill={len(in_flight)} "
            f"stuck_after_restart={stuck} requeued_by_relay={len(requeued)} lost={len(lost)} repeats={len(repeated)} "
            f"concurrency={CONCURRENCY} first_run={killed_at - started:.1f}s "
            f"after_restart={finished - killed_at:.1f}s"
        )
    assert len(rows) == NOTICES
    assert lost == []
    assert repeated_rows <= in_flight  # only a message in flight at the kill may repeat
    assert len(repeated) <= CONCURRENCY
    assert all(count <= 2 for count in counts.values())
