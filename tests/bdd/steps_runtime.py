"""Steps of 提醒服务保持运行: heartbeats written at chosen ages, /healthz and the office's banner."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session

from duban.core.config import get_settings
from duban.notifications.heartbeat import BEAT, QUEUES, SWEEP, record, wall_now, worker_key
from tests.api.pages.helpers import text_of

ROWS = [*(worker_key(queue) for queue in QUEUES), BEAT]

BANNER = "提醒服务未在运行"


@given("本机应有后台任务在运行")
def worker_expected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_EXPECT_WORKER", "true")
    get_settings.cache_clear()


def _write(session: Session, beat_ago: int, sweep_ago: int) -> None:
    now = wall_now()
    for name in ROWS:  # an unbroken run of beats for the last half hour, up to `beat_ago`
        for ago in range(1800, beat_ago, -30):
            record(session, name, "worker@bdd", now=now - dt.timedelta(seconds=ago))
        record(session, name, "worker@bdd", now=now - dt.timedelta(seconds=beat_ago))
    record(session, SWEEP, "worker@bdd", {"notices": 0}, now=now - dt.timedelta(seconds=sweep_ago))
    session.flush()


@given(parsers.parse("后台任务 {beat:d} 秒前留下心跳，上一次巡检在 {sweep:d} 秒前完成"))
@given(parsers.parse("后台任务 {beat:d} 秒前留下最后一次心跳，上一次巡检在 {sweep:d} 秒前完成"))
def heartbeats(session: Session, beat: int, sweep: int) -> None:
    _write(session, beat, sweep)


@when("调用健康检查接口")
def call_healthz(client: TestClient, context: dict[str, Any]) -> None:
    context["health"] = client.get("/healthz")


@then(parsers.parse('健康检查答 {status:d}，后台任务状态为 "{worker}"，巡检状态为 "{sweep}"'))
def healthz_says(context: dict[str, Any], status: int, worker: str, sweep: str) -> None:
    response = context["health"]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["worker"]["status"] == worker and body["sweep"]["status"] == sweep, body
    if status == 503:
        assert response.headers["content-type"].startswith("application/problem+json")


@then("页面上没有提醒服务未在运行的横幅")
def no_banner(context: dict[str, Any]) -> None:
    assert context["page"].status_code == 200
    assert BANNER not in text_of(context["page"].text)
