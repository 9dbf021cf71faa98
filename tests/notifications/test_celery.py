"""A real worker process runs a job end to end: on the embedded filesystem broker and on Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from duban.core.config import Settings
from duban.notifications.celery_app import celery_app, configure
from duban.notifications.jobs import ping
from faults.processes import start_worker


@pytest.fixture
def restore_celery() -> object:
    yield None
    configure(celery_app, Settings())


def _round_trip(env: dict[str, str], tmp_path: Path) -> None:
    configure(
        celery_app,
        Settings(
            var_dir=Path(env["DUBAN_VAR_DIR"]),
            broker_url=env["DUBAN_BROKER_URL"],
            database_url=env["DUBAN_DATABASE_URL"],
        ),
    )
    worker = start_worker(env, tmp_path / "worker.log", concurrency=2, name="test")
    try:
        result = ping.delay("你好")
        answer = result.get(timeout=60)
    finally:
        worker.stop()
    assert answer["payload"] == "你好"
    assert answer["database"] == 1
    assert "duban.ping" in worker.output()


def test_filesystem_broker_round_trip(tmp_path: Path, restore_celery: object) -> None:
    env = {
        "DUBAN_VAR_DIR": str(tmp_path),
        "DUBAN_BROKER_URL": "filesystem://",
        "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}",
    }
    _round_trip(env, tmp_path)


@pytest.mark.redis
def test_redis_broker_round_trip(tmp_path: Path, redis_url: str, restore_celery: object) -> None:
    env = {
        "DUBAN_VAR_DIR": str(tmp_path),
        "DUBAN_BROKER_URL": redis_url,
        "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}",
    }
    _round_trip(env, tmp_path)
