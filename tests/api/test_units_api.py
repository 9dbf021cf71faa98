"""The written units API: list a plan's units, map one or add it to the registry, issuing refused until then."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import problem
from tests.tasks.test_units import CENTRE, PLAN, SHANGHAI

Headers = Callable[..., dict[str, str]]

CONFIRM = {"confirm_past_deadlines": True}  # the plan's deadlines are history: issue them as they are


def _import(api: TestClient, office: dict[str, str], text: str) -> dict[str, Any]:
    response = api.post("/api/v1/plans", json={"text": text}, headers=office)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()["plan"]
    return body


@pytest.fixture
def plan(api: TestClient, office: dict[str, str]) -> dict[str, Any]:
    return _import(api, office, PLAN)


def test_units_lists_the_written_names_with_their_state(
    api: TestClient, plan: dict[str, Any], office: dict[str, str], auth_headers: Headers
) -> None:
    response = api.get(f"/api/v1/plans/{plan['id']}/units", headers=office)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["registry"]["applies"] is True and body["unresolved"] == 1 and body["blocking"] == 1
    first = body["units"][0]
    assert (first["name"], first["department"], first["resolution"]) == (CENTRE, None, "unresolved")
    assert first["roles"] == ["lead", "cooperating"] and first["measures"] == ["一/(二)", "一/(三)"]
    assert "名录中没有" in first["reason_zh"]
    names = {d["name"] for d in api.get("/api/v1/departments", headers=office).json()}
    assert first["suggestions"] and set(first["suggestions"]) <= names
    resolved = {u["name"]: u for u in body["units"][1:]}
    assert resolved["自治区应急管理厅"]["department"]["code"] == "yjt"
    assert plan["registry_fit"]["applies"] is True
    problem(api.get(f"/api/v1/plans/{plan['id']}/units", headers=auth_headers("department", "zjt")), 403)
    problem(api.get("/api/v1/plans/999999/units", headers=office), 404)


def test_issuing_refuses_until_the_office_maps_the_lead(
    api: TestClient, plan: dict[str, Any], office: dict[str, str]
) -> None:
    survey, bottles, reports, _ = (t["id"] for t in plan["task_list"])
    refused = problem(
        api.post(f"/api/v1/plans/{plan['id']}/issue", headers=office, json=CONFIRM), 422, "lead_unresolved"
    )
    assert f"措施 一/(二) 的牵头单位“{CENTRE}”尚未对应到部门名录中的部门" in refused["detail"]
    assert [t["id"] for t in refused["tasks"]] == [bottles, reports]
    assert refused["tasks"][0]["unresolved_lead"] == [CENTRE]
    states = {t["state"] for t in api.get(f"/api/v1/plans/{plan['id']}", headers=office).json()["task_list"]}
    assert states == {"draft"}  # nothing was issued
    one = problem(
        api.post(f"/api/v1/tasks/{bottles}/actions/issue", headers={**office, "If-Match": '"v1"'}),
        422,
        "lead_unresolved",
    )
    assert one["detail"].startswith(
        f"措施 一/(二) 的牵头单位“{CENTRE}”尚未对应到部门名录中的部门，请先在规划审定页确认"
    )
    url = f"/api/v1/plans/{plan['id']}/units/resolve"
    mapped = api.post(url, json={"name": CENTRE, "department": "自治区住房城乡建设厅"}, headers=office)
    assert mapped.status_code == 200, mapped.text
    result = mapped.json()
    assert result["department"]["code"] == "zjt" and result["tasks"] == [bottles, reports]
    assert result["unit"]["resolution"] == "office" and result["unit"]["unresolved"] == 0
    task = api.get(f"/api/v1/tasks/{bottles}", headers=office)
    assert task.headers["ETag"] == '"v2"' and task.json()["lead"][0]["code"] == "zjt"
    events = api.get(f"/api/v1/tasks/{bottles}/events", headers=office).json()
    assert [e["kind"] for e in events] == ["created", "unit_resolved"]
    assert events[1]["data"]["name"] == CENTRE and events[1]["data"]["via"] == "api"
    # (三) names only cooperating units: it still needs a lead from the office
    still = problem(
        api.post(f"/api/v1/plans/{plan['id']}/issue", headers=office, json=CONFIRM), 422, "issue_incomplete"
    )
    assert [t["id"] for t in still["tasks"]] == [reports] and still["tasks"][0]["missing"] == ["lead"]
    patched = api.patch(f"/api/v1/tasks/{reports}", json={"lead": ["gat"]}, headers=office)
    assert patched.status_code == 200, patched.text
    issued = api.post(f"/api/v1/plans/{plan['id']}/issue", headers=office, json=CONFIRM)
    assert issued.status_code == 200, issued.text
    assert issued.json()["issued"] == 4 and survey in issued.json()["task_ids"]
    problem(api.post(url, json={"name": CENTRE, "department": "zjt"}, headers=office), 409, "not_draft")


def test_a_new_department_joins_the_registry(
    api: TestClient, plan: dict[str, Any], office: dict[str, str]
) -> None:
    url = f"/api/v1/plans/{plan['id']}/units/resolve"
    body = {
        "name": CENTRE,
        "new_department": {"code": "rqzx", "name": "自治区城镇燃气管理中心", "kind": "其他"},
    }
    response = api.post(url, json=body, headers=office)
    assert response.status_code == 200, response.text
    assert response.json()["created"] is True and response.json()["department"]["code"] == "rqzx"
    listed = {d["code"]: d for d in api.get("/api/v1/departments", headers=office).json()}
    assert listed["rqzx"]["name"] == "自治区城镇燃气管理中心" and CENTRE in listed["rqzx"]["aliases"]
    again = {"name": "自治区应急管理厅", "new_department": {"code": "rqzx", "name": "又一个中心"}}
    problem(api.post(url, json=again, headers=office), 409, "department_exists")


def test_resolve_errors_are_problems(
    api: TestClient, plan: dict[str, Any], office: dict[str, str], auth_headers: Headers
) -> None:
    url = f"/api/v1/plans/{plan['id']}/units/resolve"
    problem(api.post(url, json={"name": CENTRE}, headers=office), 422, "validation_error")
    both = {"name": CENTRE, "department": "zjt", "new_department": {"code": "a", "name": "某中心"}}
    problem(api.post(url, json=both, headers=office), 422, "validation_error")
    problem(api.post(url, json={"name": CENTRE, "department": "zjt", "x": 1}, headers=office), 422)
    unknown = problem(
        api.post(url, json={"name": CENTRE, "department": "自治区住建局厅"}, headers=office), 422
    )
    assert unknown["code"] == "unknown_department"
    problem(
        api.post(url, json={"name": "没写过", "department": "zjt"}, headers=office), 404, "unit_not_found"
    )
    problem(
        api.post(
            "/api/v1/plans/999999/units/resolve", json={"name": CENTRE, "department": "zjt"}, headers=office
        ),
        404,
    )
    problem(
        api.post(url, json={"name": CENTRE, "department": "zjt"}, headers=auth_headers("department", "zjt")),
        403,
    )
    bad = {"name": CENTRE, "new_department": {"code": "坏代码", "name": "某中心"}}
    problem(api.post(url, json=bad, headers=office), 422, "validation_error")


def test_another_levels_plan_says_why_nothing_is_proposed(api: TestClient, office: dict[str, str]) -> None:
    plan = _import(api, office, SHANGHAI)
    assert plan["registry_fit"]["applies"] is False
    assert all(t["lead"] == [] and t["cooperating"] == [] for t in plan["task_list"])
    review = api.get(f"/api/v1/plans/{plan['id']}/review", headers=office).json()
    assert review["registry"]["applies"] is False and "不是本级文件" in review["registry"]["reason_zh"]
    assert all(item["proposal"] is None for item in review["items"])
    assert review["items"][0]["units"][0]["name"] == "市住房城乡建设管理委"
