"""Heartbeats: the worker's and beat's pulse, the sweep job's completion, judged against the thresholds."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from duban.core.config import Settings
from duban.notifications.heartbeat import (
    BEAT,
    QUEUES,
    SWEEP,
    Pulse,
    heartbeat_t,
    runtime_status,
    wall_now,
    worker_key,
)
from duban.notifications.jobs import sweep_job


def _rows(session: Session) -> dict[str, sa.Row[tuple[str, dt.datetime, str]]]:
    query = sa.select(heartbeat_t.c.name, heartbeat_t.c.at, heartbeat_t.c.host)
    return {row.name: row for row in session.connection().execute(query)}


def test_a_pulse_writes_its_rows_and_the_status_turns_ok(session: Session) -> None:
    Pulse([*(worker_key(queue) for queue in QUEUES), BEAT], "w1@host").beat_once()
    rows = _rows(session)
    assert set(rows) == {"worker:sweeps", "worker:delivery", "beat"}
    assert {row.host for row in rows.values()} == {"w1@host"}
    assert abs((wall_now() - rows["beat"].at).total_seconds()) < 30
    status = runtime_status(session, Settings(expect_worker=True))
    assert status.worker["status"] == "ok" and status.sweep["status"] == "pending"
    assert status.running and status.healthy


def test_a_pulse_on_a_database_that_fails_logs_once_and_keeps_going(
    session: Session, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import duban.notifications.heartbeat as heartbeat

    def broken(*_: object, **__: object) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    caplog.set_level(logging.INFO, "duban.heartbeat")
    monkeypatch.setattr(heartbeat, "record", broken)
    pulse = Pulse([BEAT], "b")
    pulse.beat_once()
    pulse.beat_once()
    assert [r.message for r in caplog.records].count(
        "心跳写入失败 / heartbeat not written: OperationalError"
    ) == 1
    monkeypatch.undo()
    pulse.beat_once()
    assert "心跳已恢复 / heartbeat written again" in [r.message for r in caplog.records]
    assert BEAT in _rows(session)


def test_the_sweep_job_records_its_completion(session: Session, departments: Session) -> None:
    result = sweep_job("2025-10-13T10:00:00+08:00")
    row = _rows(session)[SWEEP]
    assert abs((wall_now() - row.at).total_seconds()) < 30  # the wall clock, not the job's 2025 moment
    detail = session.connection().execute(sa.select(heartbeat_t.c.detail).where(heartbeat_t.c.name == SWEEP))
    assert detail.scalar_one() == {
        "today": "2025-10-13",
        "notices": result["notices"],
        "queued": result["queued"],
    }


def test_a_silent_beat_is_stale_though_the_workers_beat(session: Session) -> None:
    Pulse([worker_key(queue) for queue in QUEUES], "w").beat_once()
    status = runtime_status(session, Settings(expect_worker=True))
    assert status.worker["status"] == "missing" and status.worker["beat_age_seconds"] is None
    Pulse([BEAT], "b").beat_once()
    later = wall_now() + dt.timedelta(seconds=61)
    status = runtime_status(session, Settings(expect_worker=True), later)
    assert status.worker["status"] == "stale" and not status.healthy
    assert not runtime_status(session, Settings(expect_worker=False), later).running
    assert runtime_status(session, Settings(expect_worker=False), later).healthy
