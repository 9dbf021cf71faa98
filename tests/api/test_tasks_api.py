"""Tasks over HTTP: the authorization matrix, ETag/If-Match, Idempotency-Key, listings and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from duban.api.security import create_access_token
from duban.api.users import create_api_token, create_user
from duban.tasks.enums import Role, TaskState
from duban.tasks.models import Task, TaskEvent
from tests.fixtures.evidence import ready_to_submit
from tests.fixtures.tasks import COOPERATING, LEAD, OTHER, TaskWorld

Headers = Callable[..., dict[str, str]]
CALLERS = ("anonymous", "other", "cooperating", "lead", "office")


def _if_match(world: TaskWorld, task_id: int) -> dict[str, str]:
    """The task's current ETag as If-Match (read from the database, as a client reads it from a GET)."""
    version = world.session.exec(select(Task.version).where(Task.id == task_id)).one()
    return {"If-Match": f'"v{version}"'}


def _headers(auth_headers: Headers, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    if who == "office":
        return auth_headers("office")
    code = {"lead": LEAD, "cooperating": COOPERATING, "other": OTHER}[who]
    return auth_headers("department", code)


def _ready_then_submit(world: TaskWorld, task_id: int) -> tuple[str, dict[str, Any]]:
    """办结报送 of a task that has what 办结 needs (the lead's final report with its evidence)."""
    ready_to_submit(world.session, task_id, world.actor("lead"))
    return f"/api/v1/tasks/{task_id}/actions/submit", {}


# (name, state the task starts in, how to call, expected status for anonymous/other/cooperating/lead/office)
MATRIX: list[
    tuple[str, TaskState, Callable[[TaskWorld, int], tuple[str, dict[str, Any]]], tuple[int, ...]]
] = [
    (
        "issue",
        TaskState.draft,
        lambda w, t: (f"/api/v1/tasks/{t}/actions/issue", {}),
        (401, 403, 403, 403, 200),
    ),
    (
        "accept",
        TaskState.assigned,
        lambda w, t: (f"/api/v1/tasks/{t}/actions/accept", {}),
        (401, 403, 403, 200, 403),
    ),
    (
        "dispute",
        TaskState.assigned,
        lambda w, t: (f"/api/v1/tasks/{t}/actions/dispute", {"reason": "非本单位职责"}),
        (401, 403, 403, 200, 403),
    ),
    (
        "submit",
        TaskState.in_progress,
        _ready_then_submit,
        (401, 403, 403, 200, 403),
    ),
    (
        "approve",
        TaskState.submitted,
        lambda w, t: (f"/api/v1/tasks/{t}/actions/approve", {}),
        (401, 403, 403, 403, 200),
    ),
    (
        "return",
        TaskState.submitted,
        lambda w, t: (f"/api/v1/tasks/{t}/actions/return", {"reason": "补充材料"}),
        (401, 403, 403, 403, 200),
    ),
    (
        "reassign",
        TaskState.in_progress,
        lambda w, t: (f"/api/v1/tasks/{t}/actions/reassign", {"new_lead_id": w.other_id}),
        (401, 403, 403, 403, 200),
    ),
    (
        "cancel",
        TaskState.assigned,
        lambda w, t: (f"/api/v1/tasks/{t}/actions/cancel", {"reason": "规划调整"}),
        (401, 403, 403, 403, 200),
    ),
    (
        "plan issue",
        TaskState.draft,
        lambda w, t: (
            f"/api/v1/plans/{w.session.get(Task, t).plan_id}/issue",  # type: ignore[union-attr]
            {"confirm_past_deadlines": True},
        ),
        (401, 403, 403, 403, 200),
    ),
]


@pytest.mark.parametrize("name,state,call,expected", MATRIX, ids=[row[0] for row in MATRIX])
def test_authorization_matrix(
    client: TestClient,
    world: TaskWorld,
    auth_headers: Headers,
    name: str,
    state: TaskState,
    call: Callable[[TaskWorld, int], tuple[str, dict[str, Any]]],
    expected: tuple[int, ...],
) -> None:
    for who, status in zip(CALLERS, expected, strict=True):
        task_id = world.task_in(state)
        url, body = call(world, task_id)
        response = client.post(
            url, json=body, headers={**_headers(auth_headers, who), **_if_match(world, task_id)}
        )
        assert response.status_code == status, (name, who, response.text[:300])
        if status >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
            events = world.session.exec(  # the moves only, not the reports made before 办结报送
                select(func.count())
                .select_from(TaskEvent)
                .where(TaskEvent.task_id == task_id, TaskEvent.kind != "progress")
            ).one()
            assert events == 1 + len(__import__("tests.fixtures.tasks", fromlist=["PATH_TO"]).PATH_TO[state])


def test_plan_import_matrix(client: TestClient, auth_headers: Headers, world: TaskWorld) -> None:
    text = "某方案\n\n一、任务\n（一）开展调查。2026年年底前完成。\n"
    for who, status in zip(CALLERS, (401, 403, 403, 403, 201), strict=True):
        response = client.post("/api/v1/plans", json={"text": text}, headers=_headers(auth_headers, who))
        assert response.status_code == status, (who, response.text[:200])


def test_task_detail_etag_and_allowed_actions(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    task_id = world.task_in(TaskState.assigned)
    lead = client.get(f"/api/v1/tasks/{task_id}", headers=_headers(auth_headers, "lead"))
    assert lead.status_code == 200
    assert lead.headers["etag"] == f'"v{lead.json()["version"]}"'
    assert lead.json()["allowed_actions"] == ["accept", "dispute"]
    coop = client.get(f"/api/v1/tasks/{task_id}", headers=_headers(auth_headers, "cooperating")).json()
    assert coop["allowed_actions"] == []
    office = client.get(f"/api/v1/tasks/{task_id}", headers=_headers(auth_headers, "office")).json()
    assert office["allowed_actions"] == ["reassign", "cancel"]
    assert client.get(f"/api/v1/tasks/{task_id}", headers=_headers(auth_headers, "other")).status_code == 403
    assert (
        client.get(f"/api/v1/tasks/{task_id}", headers=_headers(auth_headers, "anonymous")).status_code == 401
    )


def test_if_match_stale_is_412_and_conflict_is_409(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    task_id = world.task_in(TaskState.assigned)
    lead = _headers(auth_headers, "lead")
    etag = client.get(f"/api/v1/tasks/{task_id}", headers=lead).headers["etag"]
    ok = client.post(f"/api/v1/tasks/{task_id}/actions/accept", headers={**lead, "If-Match": etag})
    assert ok.status_code == 200
    assert ok.headers["etag"] != etag
    stale = client.post(f"/api/v1/tasks/{task_id}/actions/submit", headers={**lead, "If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version"
    current = {"If-Match": ok.headers["etag"]}
    again = client.post(f"/api/v1/tasks/{task_id}/actions/accept", headers={**lead, **current})
    assert again.status_code == 409
    assert again.json()["allowed_actions"] == ["submit"]
    missing_reason = client.post(
        f"/api/v1/tasks/{task_id}/actions/cancel", headers={**_headers(auth_headers, "office"), **current}
    )
    assert missing_reason.status_code == 422
    unknown = client.post(f"/api/v1/tasks/{task_id}/actions/fly", headers={**lead, **current})
    assert unknown.status_code == 404
    missing = client.post(f"/api/v1/tasks/{task_id}/actions/submit", headers=lead)
    assert missing.status_code == 428 and missing.json()["etag"] == ok.headers["etag"]


def test_idempotency_key_gives_the_same_answer_once(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    task_id = world.task_in(TaskState.assigned)
    lead = {**_headers(auth_headers, "lead"), "Idempotency-Key": "oa-123", **_if_match(world, task_id)}
    first = client.post(f"/api/v1/tasks/{task_id}/actions/accept", headers=lead)
    second = client.post(f"/api/v1/tasks/{task_id}/actions/accept", headers=lead)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.headers["etag"] == second.headers["etag"]
    accepts = world.session.exec(
        select(func.count())
        .select_from(TaskEvent)
        .where(TaskEvent.task_id == task_id, TaskEvent.kind == "accept")
    ).one()
    assert accepts == 1
    reused = client.post(f"/api/v1/tasks/{task_id}/actions/submit", headers=lead)
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"


def test_listing_scopes_filters_and_pages(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    ids = [world.task_in(TaskState.assigned) for _ in range(3)]
    office = _headers(auth_headers, "office")
    page = client.get("/api/v1/tasks", params={"state": "assigned", "limit": 2}, headers=office).json()
    assert len(page["items"]) == 2 and page["next_after_id"] is not None
    rest = client.get(
        "/api/v1/tasks",
        params={"state": "assigned", "limit": 2, "after_id": page["next_after_id"]},
        headers=office,
    ).json()
    seen = [t["id"] for t in page["items"] + rest["items"]]
    assert set(ids) <= set(seen) and len(seen) == len(set(seen))
    other = client.get("/api/v1/tasks", headers=_headers(auth_headers, "other")).json()
    assert other["items"] == []
    coop = client.get(
        "/api/v1/tasks", params={"lead": world.lead_id}, headers=_headers(auth_headers, "cooperating")
    )
    assert {t["id"] for t in coop.json()["items"]} >= set(ids)


def test_overdue_is_computed_for_the_day(
    client: TestClient, world: TaskWorld, auth_headers: Headers, clock_at: Callable[[str | None], None]
) -> None:
    task_id = world.task_in(TaskState.in_progress)
    office = _headers(auth_headers, "office")
    clock_at("2026-06-01T09:00:00")
    assert task_id not in [t["id"] for t in client.get("/api/v1/overdue", headers=office).json()["items"]]
    clock_at("2027-01-04T09:00:00")
    office = _headers(auth_headers, "office")
    answer = client.get("/api/v1/overdue", headers=office)
    assert answer.status_code == 200, answer.text
    overdue = answer.json()["items"]
    assert task_id in [t["id"] for t in overdue]
    assert all(t["overdue"] for t in overdue)
    assert client.get("/api/v1/overdue", headers=_headers(auth_headers, "lead")).status_code == 403


def test_events_endpoint_lists_the_audit_log(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    task_id = world.task_in(TaskState.returned)
    events = client.get(f"/api/v1/tasks/{task_id}/events", headers=_headers(auth_headers, "lead")).json()
    assert [e["kind"] for e in events] == ["created", "issue", "accept", "progress", "submit", "return"]
    assert events[-1]["reason"] == "请补充材料"
    assert (
        client.get(f"/api/v1/tasks/{task_id}/events", headers=_headers(auth_headers, "other")).status_code
        == 403
    )


def test_an_action_admits_only_a_known_active_caller(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    """The action path reads its caller together with the task: the same 401/404/422 as every route."""
    task_id = world.task_in(TaskState.assigned)
    url = f"/api/v1/tasks/{task_id}/actions/accept"
    nobody = {"Authorization": f"Bearer {create_access_token(2**31 - 1)}"}
    assert client.post(url, headers=nobody).status_code == 401
    leaving = create_user(world.session, "lead-leaving", Role.department, None, LEAD)
    world.session.flush()
    assert leaving.id is not None
    leaving.active = False
    world.session.add(leaving)
    world.session.flush()
    assert (
        client.post(url, headers={"Authorization": f"Bearer {create_access_token(leaving.id)}"}).status_code
        == 401
    )
    missing = client.post("/api/v1/tasks/999999/actions/accept", headers=_headers(auth_headers, "lead"))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    too_long = {**_headers(auth_headers, "lead"), "Idempotency-Key": "k" * 129}
    assert client.post(url, headers=too_long).status_code == 422


def test_an_oa_system_acts_with_its_api_token_and_its_use_is_recorded_once_a_minute(
    client: TestClient, world: TaskWorld, clock_at: Callable[[str], None]
) -> None:
    clock_at("2026-03-02T09:00")
    create_user(world.session, "oa-lead", Role.department, None, LEAD)
    issued = create_api_token(world.session, "oa-lead", "OA")
    headers = {"Authorization": f"Bearer {issued.token}", "If-Match": "*"}
    task_id = world.task_in(TaskState.assigned)
    assert client.post(f"/api/v1/tasks/{task_id}/actions/accept", headers=headers).status_code == 200
    world.session.refresh(issued.record)
    first_use = issued.record.last_used_at
    assert first_use is not None
    clock_at("2026-03-02T09:00:30")
    ready_to_submit(world.session, task_id, world.actor("lead"))
    assert client.post(f"/api/v1/tasks/{task_id}/actions/submit", headers=headers).status_code == 200
    world.session.refresh(issued.record)
    assert issued.record.last_used_at == first_use  # within the minute: no write on the token's row
    clock_at("2026-03-02T09:02")
    assert client.get(f"/api/v1/tasks/{task_id}", headers=headers).status_code == 200
    world.session.refresh(issued.record)
    assert issued.record.last_used_at is not None and issued.record.last_used_at > first_use
