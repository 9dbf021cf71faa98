"""The beat lock: one beat sends the schedule, another stands by and takes over when the lock is free."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from duban.core.config import Settings, get_settings
from duban.notifications.beat import (
    STANDBY_SECONDS,
    FileBeatLock,
    LockedScheduler,
    RedisBeatLock,
    beat_lock,
)
from duban.notifications.celery_app import celery_app


@pytest.mark.redis
def test_one_redis_lock_holder_at_a_time_and_a_takeover_after_the_ttl(redis_url: str) -> None:
    first = RedisBeatLock(redis_url, ttl_ms=400, key="duban:test:beat-lock")
    second = RedisBeatLock(redis_url, ttl_ms=400, key="duban:test:beat-lock")
    assert first.hold()
    assert first.hold()  # renewing is holding
    assert not second.hold()
    time.sleep(0.6)  # the holder died without releasing: the key expires
    assert second.hold()
    assert not first.hold()
    second.release()
    assert first.hold()
    second.release()  # not the holder: nothing happens
    assert not second.hold()
    first.release()


def test_an_unreachable_redis_means_standing_by() -> None:
    from tests.fixtures.services import free_port

    lock = RedisBeatLock(f"redis://127.0.0.1:{free_port()}/0")
    assert not lock.hold()


def test_the_file_lock_admits_one_beat(tmp_path: Path) -> None:
    first = FileBeatLock(tmp_path / "beat.lock")
    second = FileBeatLock(tmp_path / "beat.lock")
    assert first.hold() and first.hold()
    assert not second.hold()
    first.release()
    assert second.hold()
    second.release()


def test_the_lock_follows_the_broker(tmp_path: Path) -> None:
    assert isinstance(beat_lock(Settings(var_dir=tmp_path)), FileBeatLock)
    redis = beat_lock(Settings(var_dir=tmp_path, broker_url="redis://127.0.0.1:6379/0"))
    assert isinstance(redis, RedisBeatLock)


def test_a_scheduler_without_the_lock_stands_by_and_sends_nothing(tmp_path: Path) -> None:
    assert "LockedScheduler" in str(celery_app.conf.beat_scheduler)
    holder = FileBeatLock(get_settings().var_dir / "beat.lock")
    assert holder.hold()
    scheduler = LockedScheduler(app=celery_app, schedule_filename=str(tmp_path / "schedule"))
    try:
        assert scheduler.tick() == STANDBY_SECONDS
        assert not scheduler.holding
        holder.release()
        interval = scheduler.tick()
        assert scheduler.holding
        assert 0 <= interval <= 5.0  # renewing often enough to keep the lock
    finally:
        scheduler.close()
        holder.release()
    again = FileBeatLock(get_settings().var_dir / "beat.lock")
    assert again.hold()  # closing the scheduler released it
    again.release()
