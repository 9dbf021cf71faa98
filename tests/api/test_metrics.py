"""/metrics: request counters, actions by kind, and the outbox figures read from the table at scrape time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from duban.api.metrics import render_metrics
from duban.core import clock, db
from duban.core.db import build_engine
from duban.notifications.models import NotificationOutbox
from duban.tasks.enums import TaskState
from tests.fixtures.tasks import LEAD, TaskWorld

outbox_t = NotificationOutbox.__table__  # type: ignore[attr-defined]
Headers = Callable[..., dict[str, str]]
NOW = dt.datetime(2025, 10, 13, 10, 0, tzinfo=clock.TZ)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape: (name, sorted labels) → value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_answer_with_request_counters_and_database_up(client: TestClient) -> None:
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    key = ("duban_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))
    assert found[key] >= 1
    assert found[("duban_database_up", ())] == 1.0
    assert found[("duban_outbox_backlog", (("status", "pending"),))] == 0.0
    assert ("duban_job_seconds_count", ()) not in found  # a histogram with labels: no sample until a job ran


def _row(n: int, *, minutes_old: int, **values: Any) -> dict[str, Any]:
    row = {
        "dedupe_key": f"test:{n}",
        "kind": "notice",
        "delivery": "immediate",
        "channel": "email",
        "recipient": "x@example.gov.cn",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW - dt.timedelta(minutes=1),
        "payload": {},
        "last_error": "",
        "created_at": NOW - dt.timedelta(minutes=minutes_old),
    }
    return {**row, **values}


def _a_department(session: Session) -> int:
    return int(session.connection().execute(sa.text("SELECT min(id) FROM department")).scalar_one())


def test_outbox_figures_are_read_from_the_table(
    client: TestClient, departments: Session, clock_at: Callable[[dt.datetime | str | None], None]
) -> None:
    clock_at(NOW)
    rows = [
        _row(1, minutes_old=60, next_attempt_at=NOW - dt.timedelta(minutes=30)),  # due half an hour ago
        _row(2, minutes_old=120, attempts=2, next_attempt_at=NOW + dt.timedelta(minutes=30)),  # retrying
        _row(3, minutes_old=10, status="sending", next_attempt_at=NOW + dt.timedelta(minutes=5)),  # leased
        _row(4, minutes_old=180, delivery="digest"),  # waits for the daily digest, not counted as backlog
        _row(5, minutes_old=300, kind="digest", status="sent"),
        _row(6, minutes_old=300, status="sent"),
        _row(7, minutes_old=300, status="sent"),
        _row(8, minutes_old=300, status="failed", channel="webhook", attempts=8),
        _row(9, minutes_old=300, status="skipped"),
    ]
    department = _a_department(departments)  # a digest item waits for its department's digest
    departments.connection().execute(
        outbox_t.insert(), [{**row, "department_id": department} for row in rows]
    )
    found = samples(client.get("/metrics").text)
    assert found[("duban_outbox_backlog", (("status", "pending"),))] == 2
    assert found[("duban_outbox_backlog", (("status", "sending"),))] == 1
    assert found[("duban_outbox_due", ())] == 1
    assert found[("duban_outbox_retrying", ())] == 1
    assert found[("duban_outbox_digest_items_waiting", ())] == 1
    assert found[("duban_outbox_oldest_pending_age_seconds", ())] == 7200  # row 2, two hours old
    assert found[("duban_outbox_oldest_due_age_seconds", ())] == 1800  # row 1, due 30 minutes ago
    assert found[("duban_notices_sent_total", (("channel", "email"), ("kind", "notice")))] == 2
    assert found[("duban_notices_sent_total", (("channel", "email"), ("kind", "digest")))] == 1
    assert found[("duban_notices_failed_total", (("channel", "webhook"), ("kind", "notice")))] == 1


def _actions(kind: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("duban_actions_total", {"kind": kind, "outcome": outcome}) or 0.0


def test_actions_are_counted_by_kind_and_outcome(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    before = {
        (kind, outcome): _actions(kind, outcome)
        for kind, outcome in [
            ("accept", "accepted"),
            ("accept", "refused"),
            ("unknown", "refused"),
            ("progress", "accepted"),
        ]
    }
    task = world.task_in(TaskState.assigned)
    lead = {**auth_headers("department", LEAD), "If-Match": "*"}
    assert client.post(f"/api/v1/tasks/{task}/actions/accept", json={}, headers=lead).status_code == 200
    assert client.post(f"/api/v1/tasks/{task}/actions/accept", json={}, headers=lead).status_code == 409
    assert client.post(f"/api/v1/tasks/{task}/actions/fly", json={}, headers=lead).status_code == 404
    progress = client.post(
        f"/api/v1/tasks/{task}/progress", json={"percent": 10, "text": "已启动"}, headers=lead
    )
    assert progress.status_code == 201
    client.get(f"/api/v1/tasks/{task}", headers=lead)  # a read is not an action
    assert _actions("accept", "accepted") - before[("accept", "accepted")] == 1
    assert _actions("accept", "refused") - before[("accept", "refused")] == 1
    assert _actions("unknown", "refused") - before[("unknown", "refused")] == 1
    assert _actions("progress", "accepted") - before[("progress", "accepted")] == 1
    assert "fly" not in client.get("/metrics").text  # free text never becomes a label


@pytest.fixture
def database_away(session: Session) -> Iterator[None]:
    """Every session of the app goes to a PostgreSQL port nobody listens on."""
    from tests.fixtures.services import free_port

    engine = build_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/duban", pool_size=1)
    previous = db._session_factory
    db.set_session_factory(lambda: Session(engine))
    try:
        yield
    finally:
        db.set_session_factory(previous)
        engine.dispose()


def test_a_database_that_is_away_is_reported_not_raised(database_away: None) -> None:
    found = samples(render_metrics().decode())
    assert found[("duban_database_up", ())] == 0.0
    assert not any(name.startswith("duban_outbox") for name, _ in found)
