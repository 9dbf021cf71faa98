"""The records API: reports, extensions, decisions, statistics; rules and authorization."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from duban.tasks.enums import TaskState
from duban.tasks.models import Target, Task, TaskEvent
from duban.workflow.models import ExtensionRequest
from tests.api.helpers import problem
from tests.fixtures.records import SHA, World, build_scored, build_world

Headers = Callable[..., dict[str, str]]
CODES = {"lead": "sthjt", "coop": "fgw", "coop2": "lcj", "other": "slt"}
ATTACHMENT = {"name": "验收报告.pdf", "size": 2048, "content_type": "application/pdf", "sha256": SHA}


@pytest.fixture
def world(departments: Session, clock_at: Callable[[Any], None]) -> World:
    """Departments (lead 生态环境厅, cooperating 发展改革委 and 林草局, unrelated 水利厅) and a plan."""
    return build_world(departments, clock_at)


@pytest.fixture
def scored(world: World, clock_at: Callable[[Any], None]) -> World:
    """A small history of five 生态环境厅 tasks and one 发展改革委 task (see build_scored)."""
    return build_scored(world, clock_at)


@pytest.fixture
def who(auth_headers: Headers) -> Callable[[str], dict[str, str]]:
    """Headers by part: anonymous, office, lead, coop, coop2, other."""

    def headers(part: str) -> dict[str, str]:
        if part == "anonymous":
            return {}
        if part == "office":
            return auth_headers("office")
        return auth_headers("department", CODES[part])

    return headers


def event_count(session: Session, task_id: int, kind: str) -> int:
    """How many events of a kind the task has."""
    query = (
        select(func.count())
        .select_from(TaskEvent)
        .where(TaskEvent.task_id == task_id, TaskEvent.kind == kind)
    )
    return int(session.exec(query).one())


# --- the authorization matrix -----------------------------------------------------------------------------

PARTS = ["anonymous", "other", "coop", "lead", "office"]


@pytest.mark.parametrize(("part", "status"), list(zip(PARTS, [401, 403, 201, 201, 403], strict=True)))
def test_post_progress_authorization(
    api: TestClient, world: World, who: Callable[[str], dict[str, str]], part: str, status: int
) -> None:
    task_id = world.task(TaskState.in_progress)
    body = {"percent": 30, "text": "已完成设备招标"}
    response = api.post(f"/api/v1/tasks/{task_id}/progress", json=body, headers=who(part))
    if status == 201:
        assert response.status_code == 201, response.text
        assert response.json()["kind"] == ("progress" if part == "lead" else "contribution")
        assert response.json()["department_code"] == CODES[part]
    else:
        problem(response, status)


@pytest.mark.parametrize(("part", "status"), list(zip(PARTS, [401, 403, 403, 201, 403], strict=True)))
def test_post_extension_authorization(
    api: TestClient, world: World, who: Callable[[str], dict[str, str]], part: str, status: int
) -> None:
    task_id = world.task(TaskState.in_progress)
    body = {"requested_deadline": "2026-03-31", "reason": "冬季无法施工"}
    response = api.post(f"/api/v1/tasks/{task_id}/extensions", json=body, headers=who(part))
    if status == 201:
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending"
    else:
        problem(response, status)


@pytest.mark.parametrize(("part", "status"), list(zip(PARTS, [401, 403, 403, 403, 200], strict=True)))
def test_post_decision_authorization(
    api: TestClient, world: World, who: Callable[[str], dict[str, str]], part: str, status: int
) -> None:
    task_id = world.task(TaskState.in_progress)
    asked = api.post(
        f"/api/v1/tasks/{task_id}/extensions",
        json={"requested_deadline": "2026-03-31", "reason": "冬季无法施工"},
        headers=who("lead"),
    ).json()
    response = api.post(f"/api/v1/extensions/{asked['id']}/decision", json={"grant": True}, headers=who(part))
    if status == 200:
        assert response.status_code == 200, response.text
    else:
        problem(response, status)


@pytest.mark.parametrize(("part", "status"), list(zip(PARTS, [401, 403, 200, 200, 200], strict=True)))
def test_get_reports_authorization(
    api: TestClient, world: World, who: Callable[[str], dict[str, str]], part: str, status: int
) -> None:
    task_id = world.task(TaskState.in_progress)
    response = api.get(f"/api/v1/tasks/{task_id}/reports", headers=who(part))
    if status == 200:
        assert response.status_code == 200, response.text
    else:
        problem(response, status)


@pytest.mark.parametrize(("part", "status"), list(zip(PARTS, [401, 200, 200, 200, 200], strict=True)))
def test_get_stats_authorization(
    api: TestClient, world: World, who: Callable[[str], dict[str, str]], part: str, status: int
) -> None:
    world.task(TaskState.in_progress)
    response = api.get("/api/v1/stats/departments", headers=who(part))
    if status != 200:
        problem(response, status)
        return
    assert response.status_code == 200, response.text
    codes = [row["code"] for row in response.json()["departments"]]
    # a department sees its own row only (an empty list when it leads nothing)
    assert codes == (["sthjt"] if part in ("office", "lead") else [])


def test_unknown_task_and_extension_are_404(
    api: TestClient, world: World, who: Callable[[str], dict[str, str]]
) -> None:
    problem(
        api.post("/api/v1/tasks/987654/progress", json={"percent": 1, "text": "x"}, headers=who("lead")), 404
    )
    problem(api.get("/api/v1/tasks/987654/reports", headers=who("office")), 404)
    problem(api.post("/api/v1/extensions/987654/decision", json={"grant": True}, headers=who("office")), 404)


# --- progress and contributions ----------------------------------------------------------------------------


def test_progress_with_indicators_and_attachments(
    api: TestClient, world: World, who: Callable[[str], dict[str, str]], session: Session
) -> None:
    task_id = world.task(TaskState.in_progress)
    target_id = session.exec(select(Target.id).where(Target.indicator == "森林覆盖率")).one()
    body = {
        "percent": 55,
        "text": "完成过半",
        "indicator_values": [{"target_id": target_id, "value": 22.6}],
        "attachments": [ATTACHMENT],
    }
    created = api.post(f"/api/v1/tasks/{task_id}/progress", json=body, headers=who("lead"))
    assert created.status_code == 201, created.text
    report = created.json()
    assert report["indicator_values"][0]["indicator"] == "森林覆盖率"
    assert report["indicator_values"][0]["target_value"] == "23%"
    assert report["attachments"] == [ATTACHMENT]
    assert event_count(session, task_id, "progress") == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"percent": 10, "text": "x", "indicator_values": [{"indicator": "湿地面积", "value": 1}]},
            "unknown_indicator",
        ),
        ({"text": "没有百分比"}, "percent_required"),
        (
            {"percent": 10, "text": "x", "attachments": [{**ATTACHMENT, "size": 50 * 1024 * 1024 + 1}]},
            "validation_error",
        ),
        ({"percent": 10, "text": "x", "attachments": [{**ATTACHMENT, "sha256": "abc"}]}, "validation_error"),
        ({"percent": 101, "text": "x"}, "validation_error"),
        ({"percent": 10, "text": "x", "unexpected": 1}, "validation_error"),
        ({"percent": 10, "text": "   "}, "text_required"),
        ({"percent": 10, "text": "含有\u0000空字符"}, "text_invalid"),
        ({"percent": 10, "text": "x", "indicator_values": [{"value": 1}]}, "unknown_indicator"),
    ],
)
def test_bad_progress_is_422(
    api: TestClient, world: World, who: Callable[[str], dict[str, str]], body: dict[str, Any], code: str
) -> None:
    task_id = world.task(TaskState.in_progress)
    problem(api.post(f"/api/v1/tasks/{task_id}/progress", json=body, headers=who("lead")), 422, code)


def test_progress_in_the_wrong_state_is_409(
    api: TestClient, world: World, who: Callable[[str], dict[str, str]]
) -> None:
    task_id = world.task(TaskState.submitted)
    body = problem(
        api.post(f"/api/v1/tasks/{task_id}/progress", json={"percent": 90, "text": "x"}, headers=who("lead")),
        409,
        "progress_not_allowed",
    )
    assert "已报送" in body["detail"]
    assert body["allowed_states"] == ["in_progress", "returned"]


def test_a_contribution_reaches_the_lead_but_not_other_cooperating_units(
    api: TestClient, world: World, who: Callable[[str], dict[str, str]]
) -> None:
    task_id = world.task(TaskState.assigned)
    sent = api.post(
        f"/api/v1/tasks/{task_id}/progress",
        json={"text": "配套资金已下达", "attachments": [ATTACHMENT]},
        headers=who("coop"),
    )
    assert sent.status_code == 201, sent.text
    assert (sent.json()["kind"], sent.json()["percent"]) == ("contribution", None)
    seen = api.get(f"/api/v1/tasks/{task_id}/reports", headers=who("lead")).json()
    assert [(r["kind"], r["department_name"]) for r in seen["items"]] == [
        ("contribution", "自治区发展改革委")
    ]
    assert api.get(f"/api/v1/tasks/{task_id}/reports", headers=who("coop2")).json()["items"] == []
    refused = api.post(
        f"/api/v1/tasks/{task_id}/progress",
        json={"text": "x", "indicator_values": [{"indicator": "森林覆盖率", "value": 1}]},
        headers=who("coop"),
    )
    problem(refused, 422, "indicator_values_lead_only")


def test_reports_page_by_keyset(api: TestClient, world: World, who: Callable[[str], dict[str, str]]) -> None:
    task_id = world.task(TaskState.in_progress)
    for percent in (10, 20, 30):
        api.post(
            f"/api/v1/tasks/{task_id}/progress", json={"percent": percent, "text": "x"}, headers=who("lead")
        )
    first = api.get(f"/api/v1/tasks/{task_id}/reports", params={"limit": 2}, headers=who("office")).json()
    assert [r["percent"] for r in first["items"]] == [10, 20]
    rest = api.get(
        f"/api/v1/tasks/{task_id}/reports", params={"after_id": first["next_after_id"]}, headers=who("office")
    ).json()
    assert ([r["percent"] for r in rest["items"]], rest["next_after_id"]) == ([30], None)


def test_the_same_idempotency_key_records_once(
    api: TestClient, world: World, who: Callable[[str], dict[str, str]], session: Session
) -> None:
    task_id = world.task(TaskState.in_progress)
    headers = {**who("lead"), "Idempotency-Key": "oa-20251015-0001"}
    body = {"percent": 40, "text": "来自 OA 的报送"}
    first = api.post(f"/api/v1/tasks/{task_id}/progress", json=body, headers=headers)
    again = api.post(f"/api/v1/tasks/{task_id}/progress", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert event_count(session, task_id, "progress") == 1
    other_body = api.post(f"/api/v1/tasks/{task_id}/progress", json={**body, "percent": 41}, headers=headers)
    problem(other_body, 422, "idempotency_key_reused")


# --- extensions ---------------------------------------------------------------------------------------------


def test_extension_rules_over_http(
    api: TestClient,
    world: World,
    who: Callable[[str], dict[str, str]],
    session: Session,
    clock_at: Callable[[Any], None],
) -> None:
    task_id = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 31))
    url = f"/api/v1/tasks/{task_id}/extensions"
    problem(
        api.post(url, json={"requested_deadline": "2025-10-30", "reason": "x"}, headers=who("lead")),
        422,
        "extension_not_later",
    )
    asked = api.post(
        url, json={"requested_deadline": "2025-12-31", "reason": "设备延迟"}, headers=who("lead")
    )
    assert asked.status_code == 201, asked.text
    problem(
        api.post(url, json={"requested_deadline": "2026-01-31", "reason": "再申请"}, headers=who("lead")),
        409,
        "extension_pending",
    )
    pending = api.get("/api/v1/extensions", params={"status": "pending"}, headers=who("office")).json()
    assert [e["id"] for e in pending] == [asked.json()["id"]]
    assert [e["id"] for e in api.get(url, headers=who("coop")).json()] == [asked.json()["id"]]
    decision_url = f"/api/v1/extensions/{asked.json()['id']}/decision"
    problem(api.post(decision_url, json={"grant": False}, headers=who("office")), 422, "reason_required")
    granted = api.post(
        decision_url, json={"grant": True, "granted_deadline": "2025-11-30"}, headers=who("office")
    )
    assert granted.status_code == 200, granted.text
    result = granted.json()
    assert (result["deadline"], result["original_deadline"]) == ("2025-11-30", "2025-10-31")
    assert granted.headers["etag"] == f'"v{result["version"]}"'
    task = session.get(Task, task_id)
    assert task is not None
    session.refresh(task)
    assert (task.deadline, task.original_deadline, task.version) == (
        dt.date(2025, 11, 30),
        dt.date(2025, 10, 31),
        result["version"],
    )
    problem(
        api.post(decision_url, json={"grant": True}, headers=who("office")), 409, "extension_already_decided"
    )
    late = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 14))
    problem(
        api.post(
            f"/api/v1/tasks/{late}/extensions",
            json={"requested_deadline": "2025-12-31", "reason": "x"},
            headers=who("lead"),
        ),
        422,
        "extension_too_late",
    )
    assert (
        session.exec(
            select(func.count()).select_from(ExtensionRequest).where(col(ExtensionRequest.task_id) == late)
        ).one()
        == 0
    )


# --- statistics ---------------------------------------------------------------------------------------------


def test_stats_over_http(api: TestClient, scored: World, who: Callable[[str], dict[str, str]]) -> None:
    everything = api.get("/api/v1/stats/departments", headers=who("office"))
    assert everything.status_code == 200, everything.text
    rows = {row["code"]: row for row in everything.json()["departments"]}
    assert rows["sthjt"]["on_time_rate"] == 0.25
    assert rows["sthjt"]["days_late_total"] == 74
    assert rows["sthjt"]["highest_level"] == "supervised"
    assert rows["fgw"]["working_days_late_total"] == 1
    summer = api.get(
        "/api/v1/stats/departments",
        params={"start": "2025-07-01", "end": "2025-09-30"},
        headers=who("office"),
    ).json()
    assert [row["code"] for row in summer["departments"]] == ["sthjt"]
    own = api.get("/api/v1/stats/departments", headers=who("coop")).json()
    assert [row["code"] for row in own["departments"]] == ["fgw"]
    problem(
        api.get(
            "/api/v1/stats/departments",
            params={"start": "2025-07-01", "end": "2025-01-01"},
            headers=who("office"),
        ),
        422,
        "invalid_period",
    )


def test_openapi_documents_the_records_endpoints(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    expected = {
        ("/api/v1/tasks/{task_id}/progress", "post"): {"201", "401", "403", "404", "409", "422"},
        ("/api/v1/tasks/{task_id}/reports", "get"): {"200", "401", "403", "404", "422"},
        ("/api/v1/tasks/{task_id}/extensions", "post"): {"201", "401", "403", "404", "409", "422"},
        ("/api/v1/extensions/{extension_id}/decision", "post"): {"200", "401", "403", "404", "409", "422"},
        ("/api/v1/stats/departments", "get"): {"200", "401", "422"},
    }
    for (path, method), statuses in expected.items():
        operation = spec["paths"][path][method]
        assert statuses <= set(operation["responses"]), (path, operation["responses"].keys())
        assert "application/problem+json" in operation["responses"]["401"]["content"]
    schemas = spec["components"]["schemas"]
    progress = spec["paths"]["/api/v1/tasks/{task_id}/progress"]["post"]["requestBody"]["content"]
    report_in = progress["application/json"]["schema"]
    assert report_in["examples"] and schemas["DecisionIn"]["examples"]
    assert (
        report_in["properties"]["attachments"]["items"]["properties"]["size"]["maximum"] == 50 * 1024 * 1024
    )
    assert progress["multipart/form-data"]["schema"]["properties"]["file"]["items"]["format"] == "binary"
