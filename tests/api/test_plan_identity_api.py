"""POST /api/v1/plans says which plan a document is and why (issue 14, item 3), and takes `revises=<plan id>`
as a query parameter, a JSON field or a form field: 404 for no such plan, 409 when the document is another
plan, 422 when the revision would drop issued tasks — problem+json with a stable code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from duban.tasks.enums import Role
from duban.tasks.models import Task
from duban.workflow.machines import Actor
from duban.workflow.service import apply_action

Headers = Callable[..., dict[str, str]]

NUMBERED = """国务院办公厅关于印发“无废城市”建设试点工作方案的通知
国办发〔2018〕128号
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
《“无废城市”建设试点工作方案》已经国务院同意，现印发给你们，请认真贯彻执行。
国务院办公厅
2018年12月29日
“无废城市”建设试点工作方案

一、主要任务
（一）强化顶层设计引领。2019年6月底前完成试点城市遴选。（生态环境部牵头）
（二）实施工业绿色生产。推动大宗工业固体废物贮存处置总量趋零增长。（工业和信息化部牵头）
"""
LOCAL = """内蒙古自治区人民政府办公厅关于印发大气污染防治实施方案的通知
内政办发〔2025〕31号
大气污染防治实施方案

一、重点任务
（一）推进燃煤锅炉整治。2026年12月底前完成燃煤锅炉淘汰改造。（自治区生态环境厅牵头）
（二）加强扬尘管控。2026年6月底前出台施工扬尘管理办法。（自治区住房城乡建设厅牵头）
"""
UNNUMBERED = NUMBERED.split("“无废城市”建设试点工作方案\n\n", 1)[1]
TITLED = "“无废城市”建设试点工作方案\n\n" + UNNUMBERED


def _post(client: TestClient, headers: dict[str, str], text: str, **extra: Any) -> Any:
    params = extra.pop("params", None)
    return client.post("/api/v1/plans", json={"text": text, **extra}, headers=headers, params=params)


def test_the_answer_says_which_plan_and_why(client: TestClient, auth_headers: Headers) -> None:
    office = auth_headers("office")
    created = _post(client, office, NUMBERED)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {"status", "added", "removed", "changed", "plan"} <= set(body)
    assert (body["status"], body["revision"], body["reason"]) == ("created", 1, "new_plan")
    assert body["identity"] == {
        "basis": "number",
        "doc_number": "国办发〔2018〕128号",
        "issuer": "国务院办公厅",
        "title": "“无废城市”建设试点工作方案",
        "issue_date": "2018-12-29",
    }
    # The same title without the 文号 and issuer is another document: a new plan, pointing at the first.
    other = _post(client, office, TITLED).json()
    assert (other["status"], other["reason"], other["similar"]) == (
        "created",
        "new_plan",
        [body["plan"]["id"]],
    )
    assert other["identity"]["basis"] == "title"
    assert other["reason_zh"].startswith("未找到") and "revises" in other["reason_en"]
    revised = _post(client, office, TITLED.replace("2019年6月底前", "2019年9月底前")).json()
    assert (revised["status"], revised["reason"]) == ("revised", "same_title")
    assert revised["plan"]["id"] == other["plan"]["id"] and revised["revision"] == 2
    assert "按标题识别为同一规划的修订" in revised["reason_zh"]


@pytest.mark.parametrize("how", ["query", "json", "form"])
def test_revises_by_query_json_or_form(client: TestClient, auth_headers: Headers, how: str) -> None:
    office = auth_headers("office")
    first = _post(client, office, TITLED).json()["plan"]["id"]
    text = NUMBERED.replace("2019年6月底前", "2019年9月底前")
    if how == "form":
        answer = client.post(
            "/api/v1/plans",
            files={"file": ("方案.txt", text.encode(), "text/plain")},
            data={"revises": str(first)},
            headers=office,
        )
    elif how == "json":
        answer = _post(client, office, text, revises=first)
    else:
        answer = _post(client, office, text, params={"revises": first})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["status"], body["reason"], body["plan"]["id"], body["revision"]) == (
        "revised",
        "explicit",
        first,
        2,
    )
    assert body["changed"] == ["一/(一)"]


def test_revises_errors_are_problems(client: TestClient, auth_headers: Headers, session: Session) -> None:
    office = auth_headers("office")
    titled = _post(client, office, TITLED).json()["plan"]["id"]
    numbered = _post(client, office, NUMBERED).json()["plan"]["id"]
    cases = [
        (_post(client, office, NUMBERED, params={"revises": 999_999}), 404, "not_found"),
        (_post(client, office, NUMBERED + "（三）新增。\n", revises=titled), 409, "plan_identity_taken"),
        (
            _post(client, office, NUMBERED, revises=titled, params={"revises": numbered}),
            422,
            "revises_conflict",
        ),
        (_post(client, office, NUMBERED, revises=0), 422, "validation_error"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
        zh, _, en = response.json()["detail"].partition(" / ")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) and en
    assert cases[1][0].json()["plan_id"] == numbered


def test_a_revision_dropping_issued_tasks_is_refused(
    client: TestClient, auth_headers: Headers, session: Session
) -> None:
    office = auth_headers("office")
    plan_id = _post(client, office, LOCAL).json()["plan"]["id"]
    for task_id in session.exec(select(Task.id).where(Task.plan_id == plan_id)).all():
        assert task_id is not None
        apply_action(session, task_id, "issue", Actor(role=Role.office))
    session.flush()
    shorter = LOCAL.split("（二）")[0]
    refused = _post(client, office, shorter)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "revision_removes_issued_tasks"
    assert [(t["path"], t["state"]) for t in problem["tasks"]] == [("一/(二)", "assigned")]
    again = client.get(f"/api/v1/plans/{plan_id}", headers=office).json()
    assert again["revision"] == 1


def test_a_key_collision_the_locks_missed_is_a_409_not_a_500(
    client: TestClient, auth_headers: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = auth_headers("office")
    assert _post(client, office, LOCAL).status_code == 201
    # As if the identity's lock had let a second creator through: the unique key refuses its plan.
    monkeypatch.setattr("duban.tasks.plans.plan_for_update", lambda session, *where: None)
    collided = _post(client, office, LOCAL.replace("2026年6月底前", "2026年9月底前"))
    assert collided.status_code == 409, collided.text
    assert collided.json()["code"] == "import_conflict"
    assert collided.headers["Retry-After"] == "1"
