"""Step definitions for the Gherkin features (中文)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session, func, select

from duban.tasks.departments import load_departments
from duban.tasks.models import Department


@pytest.fixture
def context() -> dict[str, Any]:
    """What one scenario's steps hand each other."""
    return {}


@given("部门名录已经载入")
def registry_loaded(departments: Session) -> None:
    """Load the bundled registry."""


@when("调用接口查询部门名录")
def query_registry(client: TestClient, context: dict[str, Any]) -> None:
    context["response"] = client.get("/api/v1/departments")


@when(parsers.parse('调用接口查询类别为 "{kind}" 的单位'))
def query_by_kind(client: TestClient, context: dict[str, Any], kind: str) -> None:
    context["response"] = client.get("/api/v1/departments", params={"kind": kind})


@when("再次载入部门名录")
def load_again(session: Session, context: dict[str, Any]) -> None:
    context["before"] = session.exec(select(func.count()).select_from(Department)).one()
    load_departments(session)
    session.flush()


@then(parsers.parse("返回至少 {count:d} 个自治区部门"))
def at_least_bodies(context: dict[str, Any], count: int) -> None:
    bodies = context["response"].json()
    assert len([b for b in bodies if b["kind"] != "盟市"]) >= count


@then(parsers.parse("返回全部 {count:d} 个盟市"))
def all_leagues(context: dict[str, Any], count: int) -> None:
    assert len([b for b in context["response"].json() if b["kind"] == "盟市"]) == count


@then(parsers.parse('名录中有 "{name}"，简称包括 "{alias}"'))
def has_body(context: dict[str, Any], name: str, alias: str) -> None:
    match = [b for b in context["response"].json() if b["name"] == name]
    assert match and alias in match[0]["aliases"]


@then(parsers.parse('只返回 {count:d} 个盟市，其中有 "{name}"'))
def only_leagues(context: dict[str, Any], count: int, name: str) -> None:
    bodies = context["response"].json()
    assert len(bodies) == count
    assert all(b["kind"] == "盟市" for b in bodies)
    assert name in {b["name"] for b in bodies}


@then("名录中的单位数量不变")
def count_unchanged(session: Session, context: dict[str, Any]) -> None:
    assert session.exec(select(func.count()).select_from(Department)).one() == context["before"]


@then(parsers.parse("返回 {status:d} 错误，说明中先中文后英文"))
def problem_in_two_languages(context: dict[str, Any], status: int) -> None:
    response = context["response"]
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    zh, _, en = response.json()["detail"].partition(" / ")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert en and en.isascii()


@given("我以委员会办公室身份登录", target_fixture="office")
def office_login(auth_headers: Any) -> dict[str, str]:
    """Bearer headers of an office user."""
    headers: dict[str, str] = auth_headers("office")
    return headers


@given("我已导入以下文件：")
@when("我导入以下文件：")
def import_document(
    client: TestClient, office: dict[str, str], context: dict[str, Any], docstring: str
) -> None:
    document = docstring
    context["document"] = document
    context["response"] = client.post("/api/v1/plans", json={"text": document}, headers=office)


@when("我再次导入同一份文件")
def import_again(client: TestClient, office: dict[str, str], context: dict[str, Any]) -> None:
    context["response"] = client.post("/api/v1/plans", json={"text": context["document"]}, headers=office)


@when("我导入一个空文件")
def import_empty(client: TestClient, office: dict[str, str], context: dict[str, Any]) -> None:
    context["response"] = client.post(
        "/api/v1/plans", files={"file": ("空.txt", b"", "text/plain")}, headers=office
    )


@then(parsers.parse('导入结果为 "{status}"'))
def import_status(context: dict[str, Any], status: str) -> None:
    assert context["response"].json()["status"] == status, context["response"].text


@then(parsers.parse('规划 "{title}" 有 {measures:d} 条措施和 {tasks:d} 条拟办任务'))
def plan_counts(client: TestClient, office: dict[str, str], title: str, measures: int, tasks: int) -> None:
    plans = [p for p in client.get("/api/v1/plans", headers=office).json() if p["title"] == title]
    assert len(plans) == 1
    assert (plans[0]["measures"], plans[0]["tasks"]) == (measures, tasks)


@then(parsers.parse('措施 "{path}" 的任务由 "{lead}" 牵头、"{cooperating}" 配合，时限为 "{deadline}"'))
def task_assignment(context: dict[str, Any], path: str, lead: str, cooperating: str, deadline: str) -> None:
    plan = context["response"].json()["plan"]
    task = next(t for t in plan["task_list"] if "/".join(t["path"]) == path)
    assert [d["name"] for d in task["lead"]] == [lead]
    assert [d["name"] for d in task["cooperating"]] == [cooperating]
    assert task["deadline"] == deadline


@then(parsers.parse('新增的措施是 "{added}"，修改的措施是 "{changed}"'))
def revision_diff(context: dict[str, Any], added: str, changed: str) -> None:
    body = context["response"].json()
    assert body["added"] == [added]
    assert body["changed"] == [changed]
