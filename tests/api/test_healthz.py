"""/healthz judges the scheduler: a worker heartbeat on every queue and a recently completed sweep."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from duban.core.config import get_settings
from duban.notifications.heartbeat import BEAT, QUEUES, SWEEP, record, wall_now, worker_key
from tests.api.helpers import problem

ROWS = [*(worker_key(queue) for queue in QUEUES), BEAT]


@pytest.fixture
def expecting(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host where a worker is expected (every runtime but the test suite's)."""
    monkeypatch.setenv("DUBAN_EXPECT_WORKER", "true")
    get_settings.cache_clear()


def _beat(session: Session, ago: float, *, sweep_ago: float | None = None, since_ago: float = 1800) -> None:
    now = wall_now()
    for name in ROWS:  # an unbroken run of beats from `since_ago` until `ago`
        for at in range(int(since_ago), int(ago), -30):
            record(session, name, "w1@test", now=now - dt.timedelta(seconds=at))
        record(session, name, "w1@test", now=now - dt.timedelta(seconds=ago))
    if sweep_ago is not None:
        record(session, SWEEP, "w1@test", {"notices": 3}, now=now - dt.timedelta(seconds=sweep_ago))
    session.flush()


@pytest.mark.usefixtures("expecting")
def test_fresh_heartbeat_and_sweep_answer_200_with_their_ages(client: TestClient, session: Session) -> None:
    _beat(session, 5, sweep_ago=100)
    response = client.get("/healthz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["expect_worker"] is True
    assert body["worker"]["status"] == "ok"
    assert set(body["worker"]["queues"]) == {"sweeps", "delivery"}
    assert 4 <= body["worker"]["age_seconds"] < 30
    assert body["worker"]["stale_after_seconds"] == 60
    assert body["sweep"]["status"] == "ok"
    assert 99 <= body["sweep"]["age_seconds"] < 130
    assert body["sweep"]["stale_after_seconds"] == 750  # 2.5 × the 300 s sweep interval
    assert body["sweep"]["last_completed"].endswith("+00:00")


@pytest.mark.usefixtures("expecting")
def test_stale_heartbeat_answers_503(client: TestClient, session: Session) -> None:
    _beat(session, 61, sweep_ago=100)
    body = problem(client.get("/healthz"), 503, "unhealthy")
    assert body["worker"]["status"] == "stale"
    assert body["database"] == "ok" and body["broker"] == "ok"
    assert "worker" in body["detail"]


@pytest.mark.usefixtures("expecting")
def test_one_silent_queue_is_enough_for_503(client: TestClient, session: Session) -> None:
    _beat(session, 5, sweep_ago=100)
    old = wall_now() - dt.timedelta(seconds=300)
    record(session, worker_key("delivery"), "w2@test", now=old)
    session.flush()
    body = problem(client.get("/healthz"), 503, "unhealthy")
    assert body["worker"]["status"] == "stale"
    assert body["worker"]["queues"]["delivery"] >= 300 > body["worker"]["queues"]["sweeps"]


@pytest.mark.usefixtures("expecting")
def test_stale_sweep_answers_503_though_the_worker_beats(client: TestClient, session: Session) -> None:
    _beat(session, 5, sweep_ago=751)
    body = problem(client.get("/healthz"), 503, "unhealthy")
    assert body["worker"]["status"] == "ok"
    assert body["sweep"]["status"] == "stale"
    assert "sweep" in body["detail"]


@pytest.mark.usefixtures("expecting")
def test_a_worker_just_come_up_has_not_had_to_sweep_yet(client: TestClient, session: Session) -> None:
    _beat(session, 2, since_ago=30)
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["sweep"] == {
        "status": "pending",
        "last_completed": None,
        "age_seconds": None,
        "stale_after_seconds": 750.0,
    }


@pytest.mark.usefixtures("expecting")
def test_no_heartbeat_ever_answers_503_where_a_worker_is_expected(client: TestClient) -> None:
    body = problem(client.get("/healthz"), 503, "unhealthy")
    assert body["worker"]["status"] == "missing"
    assert body["sweep"]["status"] == "missing"


def test_without_an_expected_worker_the_figures_are_reported_not_required(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["expect_worker"] is False
    assert body["worker"]["status"] == "missing" and body["sweep"]["status"] == "missing"


def test_a_heartbeat_keeps_its_run_start_until_it_goes_stale(session: Session) -> None:
    from duban.notifications.heartbeat import runtime_status

    start = wall_now() - dt.timedelta(seconds=2000)

    def beat(at: float) -> None:
        for name in ROWS:
            record(session, name, "w", now=start + dt.timedelta(seconds=at))

    def status(at: float) -> tuple[str, str]:
        found = runtime_status(session, now=start + dt.timedelta(seconds=at))
        return found.worker["status"], found.sweep["status"]

    for at in range(0, 801, 50):  # never 60 s apart: one unbroken run
        beat(at)
    assert status(700) == ("ok", "pending")  # up 700 s of the 750 s a first sweep may take
    assert status(810) == ("ok", "missing")  # up 810 s and never swept
    beat(920)  # 120 s of silence: a new run starts
    assert status(921) == ("ok", "pending")
    assert status(981) == ("stale", "missing")


def test_metrics_carry_the_heartbeat_ages(client: TestClient, session: Session) -> None:
    _beat(session, 5, sweep_ago=100)
    text = client.get("/metrics").text
    ages = {
        line.split("{")[1].split("}")[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("duban_worker_heartbeat_age_seconds{")
    }
    assert set(ages) == {'queue="sweeps"', 'queue="delivery"'} and all(4 <= age < 30 for age in ages.values())
    sweep = [line for line in text.splitlines() if line.startswith("duban_sweep_age_seconds ")]
    assert sweep and 99 <= float(sweep[0].rsplit(" ", 1)[1]) < 130
    assert "duban_reminders_running 1.0" in text
    assert "# TYPE duban_runtime_restarts_total counter" in text
