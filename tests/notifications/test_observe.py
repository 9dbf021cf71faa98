"""A real worker: the request id travels onto its jobs and into its JSON log lines, and its metrics
endpoint counts the jobs every pool process ran (Prometheus multiprocess files)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from duban.core.config import Settings
from duban.core.logging import request_context
from duban.notifications.celery_app import celery_app, configure
from faults.processes import start_worker
from tests.conftest import database_url_for
from tests.fixtures.services import free_port

pytestmark = pytest.mark.redis


@pytest.fixture
def worker_env(redis_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """This process's Celery app and a worker's environment on the test Redis and a SQLite file."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    database = next(database_url_for("sqlite", tmp_path))
    configure(celery_app, Settings(var_dir=tmp_path, broker_url=redis_url, database_url=database))
    try:
        yield {
            "DUBAN_VAR_DIR": str(tmp_path),
            "DUBAN_BROKER_URL": redis_url,
            "DUBAN_DATABASE_URL": database,
            "DUBAN_ENV": "test",
            "DUBAN_LOG_FORMAT": "json",
            "DUBAN_METRICS_PORT": str(free_port()),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        }
    finally:
        configure(celery_app, Settings())


def _job_count(port: int, job: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "duban_job_seconds_count" and sample.labels == {
                "job": job,
                "outcome": "success",
            }:
                return float(sample.value)
    return 0.0


def test_a_job_logs_the_request_that_queued_it_and_is_counted(
    worker_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_stale.db").write_bytes(b"left by an earlier run")
    log = tmp_path / "worker.log"
    worker = start_worker(worker_env, log, concurrency=2, name="observe")
    try:
        assert not (tmp_path / "metrics" / "counter_stale.db").exists()  # wiped at start
        with request_context("oa-req-314"):
            first = celery_app.send_task("duban.ping", args=["one"]).get(timeout=60)
        second = celery_app.send_task("duban.ping", args=["two"]).get(timeout=60)
        assert first["payload"] == "one" and second["payload"] == "two"
        port = int(worker_env["DUBAN_METRICS_PORT"])
        deadline = time.monotonic() + 20
        while _job_count(port, "duban.ping") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _job_count(port, "duban.ping") == 2
    finally:
        worker.stop()
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    finished = [r for r in records if r.get("logger") == "duban.worker" and r.get("job") == "duban.ping"]
    assert len(finished) == 2
    assert [r.get("request_id") for r in finished].count("oa-req-314") == 1
    assert all(r["job_id"] and r["duration_ms"] >= 0 for r in finished)
    assert any(r.get("logger") == "celery.apps.worker" for r in records)  # Celery's own lines are JSON too
