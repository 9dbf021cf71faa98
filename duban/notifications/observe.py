"""What Celery processes tell operators: job durations (sweeps among them), request ids, JSON logs.

A job queued during a request carries the request id in a message header, and the worker puts it back
in force while the job runs, so its log lines name the request. Job durations are observed in the
pool's child processes; with `PROMETHEUS_MULTIPROC_DIR` set they are shared through files there, and
`DUBAN_METRICS_PORT` makes the worker's main process serve them over HTTP.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Final

from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    before_task_publish,
    task_postrun,
    task_prerun,
    worker_init,
    worker_ready,
)
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

from duban.core.config import get_settings
from duban.core.logging import JOB, REQUEST_ID, use_duban_format

log = logging.getLogger("duban.worker")

REQUEST_HEADER: Final = "duban_request_id"
JOB_SECONDS: Final = Histogram(
    "duban_job_seconds",
    "Duration of Celery jobs (duban.sweep is the reminder/escalation sweep)",
    ["job", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)

_started: dict[str, tuple[float, Any, Any]] = {}


@before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = REQUEST_ID.get()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_HEADER, request_id)


def _request_id_of(task: Any) -> str | None:
    request = getattr(task, "request", None)
    if request is None:
        return None
    found = getattr(request, REQUEST_HEADER, None) or (getattr(request, "headers", None) or {}).get(
        REQUEST_HEADER
    )
    return str(found) if found else None


@task_prerun.connect
def _job_started(task_id: str = "", task: Any = None, **_: Any) -> None:
    name = str(getattr(task, "name", "unknown"))
    request_token = REQUEST_ID.set(_request_id_of(task))
    job_token = JOB.set((name, task_id))
    _started[task_id] = (time.perf_counter(), request_token, job_token)


@task_postrun.connect
def _job_finished(task_id: str = "", task: Any = None, state: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id, None)
    if started is None:
        return
    began, request_token, job_token = started
    name = str(getattr(task, "name", "unknown"))
    seconds = time.perf_counter() - began
    JOB_SECONDS.labels(name, (state or "UNKNOWN").lower()).observe(seconds)
    log.info(
        "job %s %s in %.3f s", name, (state or "").lower(), seconds, extra={"duration_ms": seconds * 1000}
    )
    JOB.reset(job_token)
    REQUEST_ID.reset(request_token)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _duban_log_format(logger: logging.Logger, **_: Any) -> None:
    if get_settings().log_format == "json":
        use_duban_format(logger)
        use_duban_format(logging.getLogger("multiprocessing"))  # billiard's pool supervision


def _multiprocess_dir() -> Path | None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(folder) if folder else None


@worker_init.connect
def _fresh_metric_files(**_: Any) -> None:
    # Files left by an earlier run of this worker would add their counts to this one's.
    folder = _multiprocess_dir()
    if folder is not None and get_settings().metrics_port:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)


def metrics_registry() -> CollectorRegistry:
    """The registry a worker's metrics endpoint serves: every pool process's, or this process's."""
    folder = _multiprocess_dir()
    if folder is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))
    return registry


@worker_ready.connect
def _serve_metrics(**_: Any) -> None:
    settings = get_settings()
    if not settings.metrics_port:
        return
    if _multiprocess_dir() is None:
        log.warning(
            "DUBAN_METRICS_PORT without PROMETHEUS_MULTIPROC_DIR: pool processes' jobs are not counted"
        )
    start_http_server(settings.metrics_port, addr=settings.host, registry=metrics_registry())
    log.info("worker metrics on http://%s:%s/metrics", settings.host, settings.metrics_port)
