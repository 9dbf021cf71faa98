"""Deadlines already past on the issue date over the API: the list, new deadlines in bulk, the issue request
that must confirm them (issue 14 item 7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from duban.api.routers.past_deadlines import IssueIn, issue_as_requested
from duban.tasks.enums import Role
from duban.tasks.models import TaskEvent, User
from duban.workflow.issuing import PastDeadlinesFound
from tests.api.helpers import problem

PLAN = """关于推进生态环境治理的工作方案

一、重点任务
（一）整治燃煤锅炉。2019年底前完成燃煤小锅炉淘汰。（自治区生态环境厅牵头）
（二）保护草原生态。2021年6月底前落实草畜平衡制度。（自治区林业和草原局牵头）
（三）推进污水处理。2030年底前完善城镇污水管网。（自治区住房和城乡建设厅牵头）
"""


@pytest.fixture
def plan(api: TestClient, office: dict[str, str], clock_at: Callable[[str], None]) -> dict[str, Any]:
    clock_at("2025-09-01T09:00")
    response = api.post("/api/v1/plans", json={"text": PLAN, "name": "方案.txt"}, headers=office)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()["plan"]
    return body


def _ids(plan: dict[str, Any]) -> list[int]:
    return [t["id"] for t in plan["task_list"]]


def test_the_office_lists_the_drafts_whose_deadline_has_passed(
    api: TestClient, plan: dict[str, Any], office: dict[str, str], auth_headers: Callable[..., dict[str, str]]
) -> None:
    boilers, grass, _ = _ids(plan)
    response = api.get(f"/api/v1/plans/{plan['id']}/past-deadlines", headers=office)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issue_date"] == "2025-09-01" and body["count"] == 2
    assert [(t["id"], t["deadline"]) for t in body["tasks"]] == [
        (boilers, "2019-12-31"),
        (grass, "2021-06-30"),
    ]
    assert body["tasks"][0]["working_days_overdue"] > 1000 and body["tasks"][0]["path"] == "一 (一)"
    problem(
        api.get(f"/api/v1/plans/{plan['id']}/past-deadlines", headers=auth_headers("department", "sthjt")),
        403,
    )
    problem(api.get("/api/v1/plans/99999/past-deadlines", headers=office), 404)


def test_one_new_deadline_for_all_selected_then_one_per_task_each_audited(
    api: TestClient, plan: dict[str, Any], office: dict[str, str], session: Session
) -> None:
    boilers, grass, sewage = _ids(plan)
    url = f"/api/v1/plans/{plan['id']}/past-deadlines"
    response = api.post(url, json={"task_ids": [boilers, grass], "deadline": "2025-12-31"}, headers=office)
    assert response.status_code == 200, response.text
    assert sorted(response.json()["changed"]) == sorted([boilers, grass])
    assert response.json()["remaining"]["count"] == 0
    body = {"deadlines": [{"task_id": boilers, "deadline": "2026-03-31", "version": 2}], "remark": "分步"}
    assert api.post(url, json=body, headers=office).json()["changed"] == [boilers]
    edits = session.exec(
        select(TaskEvent)
        .where(TaskEvent.task_id == boilers, TaskEvent.kind == "edit")
        .order_by(col(TaskEvent.id))
    ).all()
    assert [(e.data["before"]["deadline"], e.data["after"]["deadline"]) for e in edits] == [
        ("2019-12-31", "2025-12-31"),
        ("2025-12-31", "2026-03-31"),
    ]
    assert edits[1].reason == "分步" and edits[1].actor_user_id is not None
    assert api.get(f"/api/v1/tasks/{sewage}", headers=office).json()["deadline"] == "2030-12-31"


def test_new_deadlines_are_refused_whole_when_one_is_wrong(
    api: TestClient, plan: dict[str, Any], office: dict[str, str]
) -> None:
    boilers, grass, _ = _ids(plan)
    url = f"/api/v1/plans/{plan['id']}/past-deadlines"
    before = problem(
        api.post(url, json={"task_ids": [boilers, grass], "deadline": "2024-01-01"}, headers=office),
        422,
        "deadline_before_today",
    )
    assert before["tasks"] == sorted([boilers, grass])
    stale = {
        "deadlines": [
            {"task_id": grass, "deadline": "2026-01-31"},
            {"task_id": boilers, "deadline": "2026-01-31", "version": 9},
        ]
    }
    problem(api.post(url, json=stale, headers=office), 422, "bulk_edit_invalid")
    problem(api.post(url, json={"task_ids": [boilers]}, headers=office), 422)
    assert api.get(url, headers=office).json()["count"] == 2  # nothing changed


def test_issuing_warns_until_the_office_confirms_or_sets_new_deadlines(
    api: TestClient, plan: dict[str, Any], office: dict[str, str], session: Session
) -> None:
    boilers, grass, sewage = _ids(plan)
    user = session.exec(select(User).where(User.role == Role.office)).first()
    assert user is not None
    with pytest.raises(PastDeadlinesFound) as refused:
        issue_as_requested(session, plan["id"], user, None)
    assert [t["id"] for t in refused.value.extra["tasks"]] == [boilers, grass]
    new = IssueIn.model_validate({"deadlines": [{"task_id": boilers, "deadline": "2025-12-31"}]})
    with pytest.raises(PastDeadlinesFound) as still:
        issue_as_requested(session, plan["id"], user, new)
    assert [t["id"] for t in still.value.extra["tasks"]] == [grass]
    both = IssueIn.model_validate(
        {"confirm_past_deadlines": True, "deadlines": [{"task_id": boilers, "deadline": "2025-12-31"}]}
    )
    assert sorted(issue_as_requested(session, plan["id"], user, both)) == sorted([boilers, grass, sewage])
    tasks = {
        t["id"]: t for t in api.get(f"/api/v1/tasks?plan_id={plan['id']}", headers=office).json()["items"]
    }
    assert tasks[boilers]["deadline"] == "2025-12-31" and tasks[grass]["deadline"] == "2021-06-30"
    assert {t["state"] for t in tasks.values()} == {"assigned"}
