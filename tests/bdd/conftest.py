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
