"""Prometheus metrics of the API: requests, actions by kind, and the outbox read from the database.

Counters kept in memory are per process: one API process per container is scraped on its own, and
several uvicorn workers in one container share them through `PROMETHEUS_MULTIPROC_DIR`. What every
process must agree on — the outbox backlog, its age, notices sent and failed — is read from the outbox
table at scrape time (one query), so it is exact however many workers deliver.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any, Final, NamedTuple

import sqlalchemy as sa
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import Scope

from duban.core import clock
from duban.core.db import new_session
from duban.notifications.digest import digest_items_waiting
from duban.notifications.heartbeat import runtime_status
from duban.notifications.models import NotificationOutbox, OutboxKind, OutboxStatus
from duban.workflow.machines import LADDER_ACTIONS, TASK_ACTIONS

log = logging.getLogger("duban.metrics")

REQUESTS: Final = Counter("duban_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY: Final = Histogram("duban_http_request_seconds", "HTTP request latency", ["method", "route"])
ACTIONS: Final = Counter(
    "duban_actions_total",
    "Actions asked of the API by kind; outcome accepted (2xx), refused (4xx) or failed (5xx)",
    ["kind", "outcome"],
)
SIGNIN_FAILURES: Final = Counter(
    "duban_signin_failures_total", "Failed sign-ins (unknown account or wrong password) by way in", ["via"]
)
SIGNIN_REFUSED: Final = Counter(
    "duban_signin_throttled_total",
    "Sign-ins refused by the throttle before the password was checked, by way in and bucket",
    ["via", "bucket"],
)

RUNTIME_RESTARTS: Final = Counter(
    "duban_runtime_restarts_total",
    "Children of `duban run` (worker, beat) found dead and started again by its supervisor",
    ["process"],
)

outbox_t: Final = NotificationOutbox.__table__  # type: ignore[attr-defined]
_PREFIX: Final = "/api/v1"
# Write routes that are actions on tasks, plans and extensions (POST only), and how each names its kind.
_ACTION_ROUTES: Final[dict[str, str]] = {
    f"{_PREFIX}/tasks/{{task_id}}/actions/{{action}}": "{action}",
    f"{_PREFIX}/tasks/{{task_id}}/ladder/{{action}}": "ladder_{action}",
    f"{_PREFIX}/plans/{{plan_id}}/issue": "issue_plan",
    f"{_PREFIX}/tasks/{{task_id}}/progress": "progress",
    f"{_PREFIX}/tasks/{{task_id}}/extensions": "extension_request",
    f"{_PREFIX}/extensions/{{extension_id}}/decision": "extension_decision",
}
_KNOWN_KINDS: Final = frozenset(
    (
        *TASK_ACTIONS,
        *(f"ladder_{a}" for a in LADDER_ACTIONS),
        *(k for k in _ACTION_ROUTES.values() if "{" not in k),
    )
)


def route_template(scope: Scope) -> str:
    """The matched route's path template, or `unmatched`."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


def action_kind(scope: Scope) -> str | None:
    """The kind of action a POST asked for (None for any other request); unknown names are `unknown`."""
    return _kind_on(scope, str(scope.get("method", "")), route_template(scope))


def _kind_on(scope: Scope, method: str, route: str) -> str | None:
    pattern = _ACTION_ROUTES.get(route) if method == "POST" else None
    if pattern is None:
        return None
    kind = pattern.format(action=str((scope.get("path_params") or {}).get("action", "")))
    return kind if kind in _KNOWN_KINDS else "unknown"


class _Series(NamedTuple):
    """The series one kind of request counts in: its latency, its requests, and its action's (if any)."""

    latency: Histogram
    requests: Counter
    action: Counter | None


# Per method, route, status and action kind: the children `labels()` returns, looked up once instead of on
# every request (labels() converts and checks every value under a lock). Bounded as the series are.
_series: dict[tuple[str, str, int, str | None], _Series] = {}


def _series_of(method: str, route: str, status: int, kind: str | None) -> _Series:
    outcome = "accepted" if status < 400 else "refused" if status < 500 else "failed"
    return _Series(
        LATENCY.labels(method, route),
        REQUESTS.labels(method, route, str(status)),
        ACTIONS.labels(kind, outcome) if kind is not None else None,
    )


def observe_request(scope: Scope, status: int, seconds: float) -> None:
    """Count one finished HTTP request (and the action it asked for)."""
    route = route_template(scope)
    method = str(scope.get("method", ""))
    kind = _kind_on(scope, method, route)
    key = (method, route, status, kind)
    series = _series.get(key)
    if series is None:
        series = _series[key] = _series_of(method, route, status, kind)
    series.latency.observe(seconds)
    series.requests.inc()
    if series.action is not None:
        series.action.inc()


def _deliverable() -> sa.ColumnElement[bool]:
    return sa.or_(outbox_t.c.kind != OutboxKind.notice.value, outbox_t.c.delivery == "immediate")


def outbox_query(now: dt.datetime) -> sa.Select[Any]:
    """The one query behind the outbox metrics: per status, kind, channel and deliverability, the rows,
    the oldest, how many are due and how many wait after a failed attempt."""
    due = outbox_t.c.next_attempt_at <= now
    deliverable = _deliverable().label("deliverable")
    return sa.select(
        outbox_t.c.status,
        outbox_t.c.kind,
        outbox_t.c.channel,
        deliverable,
        sa.func.count().label("rows"),
        sa.func.min(outbox_t.c.created_at).label("oldest"),
        sa.func.count().filter(due).label("due"),
        sa.func.min(outbox_t.c.next_attempt_at).filter(due).label("oldest_due"),
        sa.func.count().filter(outbox_t.c.attempts > 0).label("retrying"),
    ).group_by(outbox_t.c.status, outbox_t.c.kind, outbox_t.c.channel, deliverable)


def _age(now: dt.datetime, since: dt.datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


class OutboxCollector:
    """Outbox figures read from the database at scrape time; a database that is away is reported, not
    raised."""

    def collect(self) -> Iterator[Metric]:
        """The metrics of one scrape."""
        up = GaugeMetricFamily("duban_database_up", "Whether the database answered the metrics query")
        now = clock.now()
        try:
            with new_session() as session:
                rows = session.connection().execute(outbox_query(now)).all()
                waiting = session.connection().execute(digest_items_waiting()).scalar_one()
        except Exception:
            log.warning("metrics: the outbox query failed", exc_info=True)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield from self._families(rows, now, float(waiting))
        yield from _runtime_families()

    def _families(
        self, rows: Sequence[sa.Row[Any]], now: dt.datetime, digest_items: float
    ) -> Iterator[Metric]:
        sent = CounterMetricFamily(
            "duban_notices_sent", "Outbox messages delivered", labels=["kind", "channel"]
        )
        failed = CounterMetricFamily(
            "duban_notices_failed", "Outbox messages given up on", labels=["kind", "channel"]
        )
        backlog = GaugeMetricFamily(
            "duban_outbox_backlog", "Messages waiting to be delivered", labels=["status"]
        )
        in_digest = GaugeMetricFamily(
            "duban_outbox_digest_items_waiting", "Notices waiting for their department's daily digest"
        )
        waiting: dict[str, float] = {OutboxStatus.pending.value: 0.0, OutboxStatus.sending.value: 0.0}
        due = retrying = 0.0
        oldest: dt.datetime | None = None
        oldest_due: dt.datetime | None = None
        for row in rows:
            status, kind, channel = str(row.status), str(row.kind), str(row.channel)
            if status == OutboxStatus.sent.value:
                sent.add_metric([kind, channel], float(row.rows))
            elif status == OutboxStatus.failed.value:
                failed.add_metric([kind, channel], float(row.rows))
            elif status in waiting and not row.deliverable:
                continue  # digest items: counted by digest_items_waiting (listed ones stay pending)
            elif status in waiting:
                waiting[status] += row.rows
                due += row.due
                retrying += row.retrying
                oldest = min(filter(None, (oldest, row.oldest)), default=None)
                oldest_due = min(filter(None, (oldest_due, row.oldest_due)), default=None)
        for status, count in waiting.items():
            backlog.add_metric([status], count)
        in_digest.add_metric([], digest_items)
        yield from (sent, failed, backlog, in_digest)
        yield GaugeMetricFamily("duban_outbox_due", "Waiting messages whose time has come", value=due)
        yield GaugeMetricFamily(
            "duban_outbox_retrying", "Waiting messages after a failed attempt", value=retrying
        )
        yield GaugeMetricFamily(
            "duban_outbox_oldest_pending_age_seconds",
            "Age of the oldest message waiting to be delivered",
            value=_age(now, oldest),
        )
        yield GaugeMetricFamily(
            "duban_outbox_oldest_due_age_seconds",
            "How long the most overdue waiting message has been due",
            value=_age(now, oldest_due),
        )


def _runtime_families() -> Iterator[Metric]:
    """Ages of the workers' heartbeats (per queue) and of the last completed sweep; absent when never seen."""
    try:
        with new_session() as session:
            status = runtime_status(session)
    except Exception:
        log.warning("metrics: the heartbeat query failed", exc_info=True)
        return
    beats = GaugeMetricFamily(
        "duban_worker_heartbeat_age_seconds", "Seconds since a worker took beat's heartbeat", labels=["queue"]
    )
    for queue, age in status.worker["queues"].items():
        if age is not None:
            beats.add_metric([queue], float(age))
    yield beats
    sweep = GaugeMetricFamily("duban_sweep_age_seconds", "Seconds since the last completed sweep")
    if status.sweep["age_seconds"] is not None:
        sweep.add_metric([], float(status.sweep["age_seconds"]))
    yield sweep
    yield GaugeMetricFamily(
        "duban_reminders_running", "1 while heartbeats and sweeps are fresh", value=float(status.running)
    )


_database_registry = CollectorRegistry(auto_describe=False)
_database_registry.register(OutboxCollector())


def render_metrics() -> bytes:
    """The text exposition of a scrape: this process's (or all workers') metrics, then the outbox's."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
        process_part = generate_latest(registry)
    else:
        process_part = generate_latest(REGISTRY)
    return process_part + generate_latest(_database_registry)
