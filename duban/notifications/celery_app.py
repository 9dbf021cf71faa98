"""The Celery app: the same code on the embedded filesystem broker and on Redis."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from kombu import pools
from kombu.connection import Connection

from duban.core import jobs
from duban.core.config import Settings, get_settings
from duban.core.db import dispose_engine
from duban.notifications import broker
from duban.notifications import observe as _observe  # noqa: F401  (job metrics, request ids, JSON logs)

QUEUE_SWEEPS = "sweeps"
QUEUE_DELIVERY = "delivery"
DISPATCH_SECONDS = 60.0
ORPHAN_SWEEP_SECONDS = 3600.0  # stored bytes no evidence row names (a failed upload request), hourly

# `filesystem://` is duban's embedded broker: whole-file writes, claims by rename (see broker.py).
broker.install()


def broker_options(settings: Settings) -> dict[str, Any]:
    """Transport options; the filesystem broker needs its folders."""
    if settings.broker_url.startswith("filesystem"):
        folder = settings.broker_dir
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
    return {"visibility_timeout": 3600}


def result_backend(settings: Settings) -> str | None:
    """Where task results go: configured, Redis next to a Redis broker, else a folder."""
    if settings.result_backend:
        return settings.result_backend
    if settings.broker_url.startswith("redis"):
        return settings.broker_url
    folder = settings.var_dir / "results"
    folder.mkdir(parents=True, exist_ok=True)
    return f"file://{folder}"


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app configured from settings."""
    app = Celery("duban", include=["duban.notifications.jobs"])
    configure(app, settings or get_settings())
    return app


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Beat's timetable: a sweep every DUBAN_SWEEP_INTERVAL_SECONDS, the dispatcher every minute."""
    return {
        "duban-sweep": {"task": "duban.sweep", "schedule": float(settings.sweep_interval_seconds)},
        "duban-dispatch": {"task": "duban.dispatch", "schedule": DISPATCH_SECONDS},
        "duban-evidence-orphans": {"task": "duban.remove_orphaned_files", "schedule": ORPHAN_SWEEP_SECONDS},
    }


def configure(app: Celery, settings: Settings) -> None:
    """Point `app` at the broker and result backend that `settings` name."""
    app.conf.update(
        broker_url=settings.broker_url,
        broker_transport_options=broker_options(settings),
        result_backend=result_backend(settings),
        result_expires=3600,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone="Asia/Shanghai",
        enable_utc=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE_DELIVERY,
        task_routes={
            "duban.sweep*": {"queue": QUEUE_SWEEPS},
            "duban.dispatch": {"queue": QUEUE_SWEEPS},
            "duban.notify_*": {"queue": QUEUE_SWEEPS},
        },
        broker_connection_retry_on_startup=True,
        beat_schedule=beat_schedule(settings),
        beat_scheduler="duban.notifications.beat:LockedScheduler",
    )
    # Forget connections and the result backend built for an earlier configuration.
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps producer pools in a process-wide registry keyed by broker URL; drop the closed ones.
    pools.reset()


celery_app = create_celery()


def send_job(name: str, args: tuple[Any, ...]) -> None:
    """Hand a job queued by `duban.core.jobs.enqueue` to the broker (routed by name)."""
    celery_app.send_task(name, args=list(args))


# Every process that imports the app (API, CLI, worker, beat) sends its after-commit jobs to the broker.
jobs.set_sender(send_job)


@worker_process_init.connect
def _fresh_engine_after_fork(**_: Any) -> None:
    # A forked worker must not share the parent's pooled database connections.
    dispose_engine()


def broker_reachable(timeout: float = 2.0) -> bool:
    """Whether the configured broker accepts a connection."""
    settings = get_settings()
    try:
        with Connection(settings.broker_url, transport_options=broker_options(settings)) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            return True
    except Exception:
        return False
