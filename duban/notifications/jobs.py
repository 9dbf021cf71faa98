"""Celery jobs, queued by name with ids after commit; each is safe to run twice.

`duban.sweep` and `duban.dispatch` run on beat; `duban.deliver` takes outbox ids; the two `notify_*`
jobs are queued by the action service. Every job opens its own unit of work and commits it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from duban.core import clock
from duban.core.config import get_settings
from duban.core.db import session_scope
from duban.core.filestore import configured_store
from duban.notifications.calendars import working_calendar
from duban.notifications.celery_app import celery_app
from duban.notifications.delivery import deliver
from duban.notifications.digest import dispatch
from duban.notifications.events import notify_plan_issued, notify_task_event
from duban.notifications.heartbeat import QUEUES, SWEEP, Pulse, host_name, record, worker_key
from duban.notifications.outbox import run_sweep
from duban.workflow.evidence.files import remove_orphans
from duban.workflow.policy import bundled_policy

# A database that is briefly away (restart, failover) is retried with backoff; acks_late keeps the message.
RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 10,
}


@celery_app.task(name="duban.ping")
def ping(payload: str) -> dict[str, Any]:
    """Round-trip check: answers with the payload, the worker's clock and a database probe."""
    with session_scope() as session:
        database = session.connection().execute(text("SELECT 1")).scalar_one()
    return {"payload": payload, "at": clock.now().isoformat(), "database": database}


@celery_app.task(name="duban.sweep", **RETRY)
def sweep_job(now: str | None = None) -> dict[str, Any]:
    """One reminder/escalation sweep (what `duban sweep` runs), at `now` (ISO) or the clock's time."""
    moment = dt.datetime.fromisoformat(now) if now else None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.TZ)
    with session_scope() as session:
        result = run_sweep(session, moment)
        summary = {
            "today": result.today.isoformat(),
            "notices": result.notices,
            "moved": result.moved,
            "queued": result.queued,
            "by_step": dict(result.by_step),
        }
        # In the sweep's own transaction: "completed" means committed.
        record(session, SWEEP, _host(sweep_job), {k: summary[k] for k in ("today", "notices", "queued")})
    return summary


def _host(job: Any) -> str:
    return str(getattr(job.request, "hostname", None) or host_name())


_pulse: list[Pulse] = []


@worker_ready.connect
def _start_pulse(sender: Any = None, **_: Any) -> None:
    # The worker's main process beats for the queues it consumes, beside the pool: a busy pool is alive.
    consumer = getattr(sender, "task_consumer", None)
    queues = [str(queue.name) for queue in getattr(consumer, "queues", ()) if queue.name in QUEUES]
    pulse = Pulse([worker_key(queue) for queue in queues], str(getattr(sender, "hostname", "") or ""))
    pulse.start()
    _pulse.append(pulse)


@worker_shutdown.connect
def _stop_pulse(**_: Any) -> None:
    while _pulse:
        _pulse.pop().stop()


@celery_app.task(name="duban.dispatch", **RETRY)
def dispatch_job() -> dict[str, int]:
    """Compose today's digests and this week's summary in office hours, and queue what is due."""
    with session_scope() as session:
        return dispatch(session, None, working_calendar(session), bundled_policy())


@celery_app.task(name="duban.deliver", **RETRY)
def deliver_job(*outbox_ids: int) -> dict[str, int]:
    """Deliver outbox rows by id (one claimed at a time; a row already sent is left alone)."""
    return dict(deliver(outbox_ids))


@celery_app.task(name="duban.notify_task_event", **RETRY)
def notify_task_event_job(*event_ids: int) -> int:
    """The notices task events call for (the API batches the events committed close together)."""
    with session_scope() as session:
        return sum(notify_task_event(session, event_id) for event_id in event_ids)


@celery_app.task(name="duban.notify_plan_issued", **RETRY)
def notify_plan_issued_job(plan_id: int) -> int:
    """Freeze the policy onto a plan's issued tasks and send each lead its 交办通知."""
    with session_scope() as session:
        return notify_plan_issued(session, plan_id)


@celery_app.task(name="duban.remove_orphaned_files", **RETRY)
def remove_orphaned_files_job() -> int:
    """Delete stored evidence bytes that no row names, older than DUBAN_EVIDENCE_ORPHAN_GRACE_HOURS."""
    grace = dt.timedelta(hours=get_settings().evidence_orphan_grace_hours)
    with session_scope() as session:
        return remove_orphans(session, configured_store(), grace)
