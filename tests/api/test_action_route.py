"""The action route served as a plain Starlette route (issue 17) answers every request exactly as the
FastAPI route `post_action` declares it: same status, problem+json and headers for bad ids, bodies, JSON,
media types, headers and actions; the OpenAPI document still has the route."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlmodel import Session

from duban.api.routers.action_route import ActionRoute, serve_action
from duban.tasks.enums import TaskState
from tests.fixtures.tasks import LEAD, OTHER, TaskWorld

Headers = Callable[..., dict[str, str]]
STALE = '"v99"'  # every case names a stale version, so nothing moves and both apps see the same task


def _apps(session: Session) -> Iterator[tuple[TestClient, TestClient]]:
    from duban.api.app import create_app

    fast = create_app()
    declared = create_app()
    declared.router.routes[:] = [r for r in declared.router.routes if not isinstance(r, ActionRoute)]
    assert isinstance(fast.router.routes[0], ActionRoute)
    with (
        TestClient(fast, raise_server_exceptions=False) as fast_client,
        TestClient(declared, raise_server_exceptions=False) as declared_client,
    ):
        yield fast_client, declared_client


@pytest.fixture
def clients(session: Session) -> Iterator[tuple[TestClient, TestClient]]:
    """The app as served (the Starlette route first) and the same app answering through FastAPI."""
    yield from _apps(session)


def _compared(response: Any) -> tuple[int, str | None, str | None, str | None, Any]:
    body = response.json() if response.content else None
    return (
        response.status_code,
        response.headers.get("content-type"),
        response.headers.get("etag"),
        response.headers.get("allow"),
        body,
    )


# (task: "ok" for the seeded task or a literal id, action, headers to add/drop, request keyword arguments)
CASES: list[tuple[str, str, str, dict[str, str | None], dict[str, Any]]] = [
    ("stale version, no body", "ok", "accept", {}, {}),
    ("stale version, empty object", "ok", "accept", {}, {"json": {}}),
    ("JSON null", "ok", "accept", {}, {"json": None, "content": b"null"}),
    ("extra field", "ok", "accept", {}, {"json": {"note": 1}}),
    ("reason and a lead", "ok", "accept", {}, {"json": {"reason": "好", "new_lead_id": 3}}),
    ("id not a number", "abc", "accept", {}, {}),
    ("id zero", "0", "accept", {}, {}),
    ("id past the column", "99999999999", "accept", {}, {}),
    ("id and body both bad", "abc", "accept", {}, {"json": {"reason": 5, "new_lead_id": "x"}}),
    ("bad id, bad JSON", "abc", "accept", {}, {"content": b"{", "ct": "application/json"}),
    ("bad JSON", "ok", "accept", {}, {"content": b'{"reason": ', "ct": "application/json"}),
    ("not UTF-8", "ok", "accept", {}, {"content": b'{"reason": "\xff"}', "ct": "application/json"}),
    ("a list", "ok", "accept", {}, {"json": [1, 2]}),
    ("a string", "ok", "accept", {}, {"json": "accept"}),
    ("a number", "ok", "accept", {}, {"json": 3}),
    ("reason not text", "ok", "accept", {}, {"json": {"reason": 5}}),
    ("reason too long", "ok", "accept", {}, {"json": {"reason": "长" * 4001}}),
    ("lead not a number", "ok", "reassign", {}, {"json": {"new_lead_id": "abc"}}),
    ("text/plain body", "ok", "accept", {}, {"content": b"{}", "ct": "text/plain"}),
    ("no media type", "ok", "accept", {}, {"content": b"{}", "ct": None}),
    ("+json media type", "ok", "accept", {}, {"content": b"{}", "ct": "application/vnd.duban+json"}),
    ("json with charset", "ok", "accept", {}, {"content": b"{}", "ct": "application/json; charset=utf-8"}),
    (
        "json form of a form",
        "ok",
        "accept",
        {},
        {"content": b"a=1", "ct": "application/x-www-form-urlencoded"},
    ),
    ("unknown action", "ok", "fly", {}, {"json": {}}),
    ("no such task", "2147483000", "accept", {}, {"json": {}}),
    ("not signed in", "ok", "accept", {"authorization": None}, {}),
    ("a bad token", "ok", "accept", {"authorization": "Bearer nonsense"}, {}),
    ("no If-Match", "ok", "accept", {"if-match": None}, {}),
    ("If-Match not an ETag", "ok", "accept", {"if-match": "abc"}, {}),
    ("Idempotency-Key too long", "ok", "accept", {"idempotency-key": "k" * 300}, {"json": {}}),
    ("reason required", "ok", "dispute", {}, {"json": {}}),
    ("another department", "ok", "accept", {"as": OTHER, "if-match": '"v2"'}, {}),
    ("reason required, right version", "ok", "dispute", {"if-match": '"v2"'}, {"json": {}}),
]


def _request(
    client: TestClient, task_id: int, case: tuple[Any, ...], lead: dict[str, str], other: Any
) -> Any:
    _, task, action, changes, kwargs = case
    headers: dict[str, str] = {**(other if changes.get("as") else lead), "If-Match": STALE}
    for name, value in changes.items():
        if name == "as":
            continue
        headers = {k: v for k, v in headers.items() if k.lower() != name}
        if value is not None:
            headers[name] = value
    kwargs = dict(kwargs)
    if "ct" in kwargs:
        content_type = kwargs.pop("ct")
        if content_type is not None:
            headers["content-type"] = content_type
    if "content" in kwargs:
        kwargs.pop("json", None)
    path_id = str(task_id) if task == "ok" else task
    return client.post(f"/api/v1/tasks/{path_id}/actions/{action}", headers=headers, **kwargs)


def test_the_starlette_route_answers_every_case_as_the_declared_route(
    clients: tuple[TestClient, TestClient], world: TaskWorld, auth_headers: Headers
) -> None:
    fast, declared = clients
    task_id = world.task_in(TaskState.assigned)
    lead = auth_headers("department", LEAD)
    other = auth_headers("department", OTHER)
    statuses = set()
    for case in CASES:
        served = _request(fast, task_id, case, lead, other)
        expected = _request(declared, task_id, case, lead, other)
        assert _compared(served) == _compared(expected), case[0]
        assert served.headers["x-request-id"], case[0]
        statuses.add(served.status_code)
    assert statuses >= {400, 401, 403, 404, 412, 422, 428}


def test_other_methods_get_the_same_405(clients: tuple[TestClient, TestClient], world: TaskWorld) -> None:
    fast, declared = clients
    task_id = world.task_in(TaskState.assigned)
    for method in ("GET", "PUT", "DELETE"):
        url = f"/api/v1/tasks/{task_id}/actions/accept"
        served, expected = fast.request(method, url), declared.request(method, url)
        assert served.status_code == 405
        assert _compared(served) == _compared(expected), method


def test_an_accepted_action_answers_alike_and_is_counted_under_its_route(
    clients: tuple[TestClient, TestClient], world: TaskWorld, auth_headers: Headers
) -> None:
    fast, declared = clients
    lead = {**auth_headers("department", LEAD), "If-Match": '"v2"'}
    route = "/api/v1/tasks/{task_id}/actions/{action}"
    labels = {"method": "POST", "route": route, "status": "200"}
    before = REGISTRY.get_sample_value("duban_http_requests_total", labels) or 0.0
    answers = []
    for client in (fast, declared):
        task_id = world.task_in(TaskState.assigned)
        answer = client.post(f"/api/v1/tasks/{task_id}/actions/accept", json={"reason": "收到"}, headers=lead)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body.pop("event_id") > 0 and body["task"].pop("id") == task_id
        answers.append((answer.headers["content-type"], answer.headers["etag"], body))
    assert answers[0] == answers[1]
    assert REGISTRY.get_sample_value("duban_http_requests_total", labels) == before + 2


def test_the_route_is_served_by_the_starlette_endpoint_and_documented_once(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    first = app.router.routes[0]
    assert isinstance(first, ActionRoute) and first.endpoint is serve_action
    operation = app.openapi()["paths"]["/api/v1/tasks/{task_id}/actions/{action}"]["post"]
    assert operation["operationId"] == "post_action_api_v1_tasks__task_id__actions__action__post"
    names = [(p["in"], p["name"]) for p in operation["parameters"]]
    assert names == [
        ("path", "task_id"),
        ("path", "action"),
        ("header", "If-Match"),
        ("header", "Idempotency-Key"),
    ]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["anyOf"][0] == {"$ref": "#/components/schemas/ActionBody"}
    assert set(operation["responses"]) == {"200", "401", "403", "404", "409", "412", "422", "428"}
