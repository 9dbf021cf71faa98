"""`POST /api/v1/tasks/{id}/ladder/{action}`: the office confirms 约谈 and 问责; nobody else can."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from duban.api.app import create_app
from duban.api.routers import ladder
from tests.notifications.scenario import Scenario, at, open_scenario

PATH = "/api/v1/tasks/{task_id}/ladder/{action}"


@pytest.fixture
def scene(session: Session) -> Iterator[Scenario]:
    yield from open_scenario(session)


@pytest.fixture
def api(scene: Scenario) -> Iterator[TestClient]:
    app = create_app()
    if not any(getattr(route, "path", "") == PATH for route in app.routes):
        app.include_router(ladder.router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _red(scene: Scenario) -> int:
    task = scene.task(dt.date(2025, 9, 30), issued="2025-09-01T09:00")
    scene.sweep("2025-10-28T09:00")  # 15 working days late: red notice, 约谈 proposed to the office
    assert scene.level(task) == ("supervised", "red")
    return task


def test_office_confirms_interview_then_accountability(
    scene: Scenario,
    api: TestClient,
    auth_headers: Callable[..., dict[str, str]],
    clock_at: Callable[..., None],
) -> None:
    task = _red(scene)
    clock_at(at("2025-10-29T10:00"))
    scene.sent_jobs.clear()
    response = api.post(
        PATH.format(task_id=task, action="interview"),
        json={"reason": "经主任办公会同意"},
        headers=auth_headers("office"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from_level"], body["to_level"], body["notice_colour"]) == (
        "supervised",
        "interviewed",
        "red",
    )
    assert response.headers["ETag"] == f'"v{body["version"]}"'
    (event,) = scene.events(task, "interview")
    assert (event.from_level, event.to_level, event.reason) == (
        "supervised",
        "interviewed",
        "经主任办公会同意",
    )
    assert scene.sent_jobs == [("duban.notify_task_event", (event.id,))]
    stale = api.post(
        PATH.format(task_id=task, action="hold_accountable"),
        headers={**auth_headers("office"), "If-Match": '"v1"'},
    )
    assert stale.status_code == 412
    done = api.post(
        PATH.format(task_id=task, action="hold_accountable"),
        headers={**auth_headers("office"), "If-Match": response.headers["ETag"]},
    )
    assert done.status_code == 200, done.text
    assert scene.level(task) == ("accountability", "red")


def test_only_the_office_and_only_from_the_right_rung(
    scene: Scenario, api: TestClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    task = _red(scene)
    lead = api.post(
        PATH.format(task_id=task, action="interview"), headers=auth_headers("department", "sthjt")
    )
    assert lead.status_code == 403
    assert lead.headers["content-type"].startswith("application/problem+json")
    skip = api.post(PATH.format(task_id=task, action="hold_accountable"), headers=auth_headers("office"))
    assert skip.status_code == 409
    assert skip.json()["allowed_actions"] == ["interview"]
    unknown = api.post(PATH.format(task_id=task, action="execute"), headers=auth_headers("office"))
    assert unknown.status_code == 404
    fresh = scene.task(dt.date(2025, 12, 31), issued="2025-09-01T09:00")
    early = api.post(PATH.format(task_id=fresh, action="interview"), headers=auth_headers("office"))
    assert early.status_code == 409
    assert api.post(PATH.format(task_id=task, action="interview")).status_code == 401
    assert (
        api.post(PATH.format(task_id=999_999, action="interview"), headers=auth_headers("office")).status_code
        == 404
    )


def test_the_ladder_stops_with_the_task(
    scene: Scenario, api: TestClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    task = _red(scene)
    scene.act(task, "cancel", "office", "2025-10-28T11:00", reason="撤销")
    scene.session.commit()
    closed = api.post(PATH.format(task_id=task, action="interview"), headers=auth_headers("office"))
    assert closed.status_code == 409
    assert closed.json()["allowed_actions"] == []
