"""Step definitions for plan identity (issue 14; imported by tests/bdd/conftest.py): same-titled documents
told apart by their 文号 and issuer, revisions found by identity or named by the office, and the import's
answer saying which and why."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pytest_bdd import parsers, then, when


@when("我把以下文件作为刚导入的规划的修订导入：")
def import_as_revision(
    client: TestClient, office: dict[str, str], context: dict[str, Any], docstring: str
) -> None:
    """Post the document with `revises=<the plan the last import answered>`."""
    plan_id = context["response"].json()["plan"]["id"]
    context["document"] = docstring
    context["response"] = client.post(
        "/api/v1/plans", json={"text": docstring}, params={"revises": plan_id}, headers=office
    )


@then(parsers.parse('导入说明中含有 "{words}"'))
def reason_mentions(context: dict[str, Any], words: str) -> None:
    """The import's reason, in Chinese, says `words`."""
    body = context["response"].json()
    assert words in body["reason_zh"], body["reason_zh"]
    assert body["reason_en"]


@then(parsers.parse('导入原因为 "{code}"，说明中含有 "{words}"'))
def reason_is(context: dict[str, Any], code: str, words: str) -> None:
    """The import's reason code, and a phrase of its Chinese sentence."""
    body = context["response"].json()
    assert body["reason"] == code, body
    assert words in body["reason_zh"], body["reason_zh"]


@then(parsers.parse('共有 {count:d} 份标题为 "{title}" 的规划'))
def plans_titled(client: TestClient, office: dict[str, str], count: int, title: str) -> None:
    """How many plans carry this title."""
    plans = client.get("/api/v1/plans", headers=office, params={"limit": 200}).json()
    assert len([plan for plan in plans if plan["title"] == title]) == count


@then(parsers.parse('该规划新增措施 "{added}"，没有修改或删除的措施'))
def only_added(context: dict[str, Any], added: str) -> None:
    """The revision added this measure and changed or removed none."""
    body = context["response"].json()
    assert (body["added"], body["changed"], body["removed"]) == ([added], [], [])
