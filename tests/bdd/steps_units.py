"""Step definitions for the units features (imported by tests/bdd/conftest.py): written units kept verbatim,
mapped by the office on the plan review page, issuing refused until then, no proposals where the registry
does not fit the document."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from pytest_bdd import parsers, then, when

from tests.api.pages.helpers import PageClient, text_of
from tests.bdd.conftest import _review_plan_id, _review_task, quoted

OFFICE = "委员会办公室"


def _plan_units(api: TestClient, office: dict[str, str], context: dict[str, Any]) -> dict[str, Any]:
    response = api.get(f"/api/v1/plans/{_review_plan_id(context)}/units", headers=office)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _review(api: TestClient, office: dict[str, str], context: dict[str, Any]) -> dict[str, Any]:
    response = api.get(f"/api/v1/plans/{_review_plan_id(context)}/review", headers=office)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _item(api: TestClient, office: dict[str, str], context: dict[str, Any], path: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        item for item in _review(api, office, context)["items"] if "/".join(item["path"]) == path
    )
    return found


@then(quoted('措施 "{path}" 写明的牵头单位 "{name}" 按原文保留，尚未对应部门'))
def units_written_unresolved(
    client: TestClient, office: dict[str, str], context: dict[str, Any], path: str, name: str
) -> None:
    units = _item(client, office, context, path)["units"]
    lead = [u for u in units if u["role"] == "lead"]
    assert [u["name"] for u in lead] == [name], units
    assert lead[0]["department"] is None and lead[0]["resolution"] == "unresolved"
    listed = {u["name"]: u for u in _plan_units(client, office, context)["units"]}
    assert listed[name]["unresolved"] >= 1 and path in listed[name]["measures"]


@then(quoted('措施 "{path}" 的任务没有牵头部门，也没有责任规则的建议'))
def units_no_lead_no_proposal(
    client: TestClient, office: dict[str, str], context: dict[str, Any], path: str
) -> None:
    item = _item(client, office, context, path)
    assert item["lead"] == [] and item["proposal"] is None and item["lead_source"] is None
    assert item["missing"][0] in ("lead", "lead_unresolved")


@when("我交办该规划")
def units_issue_plan(client: TestClient, office: dict[str, str], context: dict[str, Any]) -> None:
    context["response"] = client.post(
        f"/api/v1/plans/{_review_plan_id(context)}/issue",
        headers=office,
        json={"confirm_past_deadlines": True},
    )


@then(parsers.parse("交办被拒绝，返回 {status:d} 错误，说明先中文后英文"))
def units_refused(context: dict[str, Any], status: int) -> None:
    response = context["response"]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    zh, _, en = response.json()["detail"].partition(" / ")
    assert "不能交办" in zh or "请先在规划审定页确认" in zh
    assert en.startswith(("the lead", "measure", "task")) or "nothing was issued" in en, en


@then(quoted('错误说明措施 "{path}" 的牵头单位 "{name}" 尚未对应到部门名录中的部门'))
def units_refusal_names_the_unit(context: dict[str, Any], path: str, name: str) -> None:
    body = context["response"].json()
    assert f"措施 {path} 的牵头单位“{name}”尚未对应到部门名录中的部门" in body["detail"], body["detail"]
    assert any(t["path"] == path and name in t["unresolved_lead"] for t in body["tasks"]), body["tasks"]


@then("该规划的任务仍是拟办")
def units_all_draft(client: TestClient, office: dict[str, str], context: dict[str, Any]) -> None:
    plan = client.get(f"/api/v1/plans/{_review_plan_id(context)}", headers=office).json()
    assert {task["state"] for task in plan["task_list"]} == {"draft"}


@when(quoted('我在规划审定页把 "{name}" 对应为 "{department}"'))
def units_map_on_page(
    pages_clients: Callable[[str], PageClient], context: dict[str, Any], name: str, department: str
) -> None:
    page_client = pages_clients(OFFICE)
    plan_id = _review_plan_id(context)
    page = page_client.get(f"/plans/{plan_id}")
    assert page.status_code == 200
    panel = page.text.split('id="units"')[1].split("</section>")[0]
    row = next(r for r in panel.split("<tr") if f'name="name" value="{html.escape(name)}"' in r)
    found = re.search(rf'<option value="([^"]+)">{re.escape(html.escape(department))}</option>', row)
    assert found, f"{department} is not offered for {name}"
    response = page_client.post(
        f"/plans/{plan_id}/units/resolve", {"form": "unit", "name": name, "department": found.group(1)}
    )
    assert response.status_code == 303, text_of(response.text)[:500]
    context["page"] = page_client.follow(response)


@then(quoted('措施 "{path}" 写明的牵头单位仍为 "{name}"，已由办公室对应'))
def units_still_written(
    client: TestClient, office: dict[str, str], context: dict[str, Any], path: str, name: str
) -> None:
    lead = [u for u in _item(client, office, context, path)["units"] if u["role"] == "lead"]
    assert [u["name"] for u in lead] == [name]
    assert lead[0]["resolution"] == "office" and lead[0]["department"] is not None
    assert _review_task(client, office, context, path)["lead"][0]["evidence"][0]["written"] == name


@then(parsers.parse("该规划的 {count:d} 项任务都已交办"))
def units_issued(client: TestClient, office: dict[str, str], context: dict[str, Any], count: int) -> None:
    response = context["response"]
    assert response.status_code == 200, response.text
    assert response.json()["issued"] == count
    plan = client.get(f"/api/v1/plans/{_review_plan_id(context)}", headers=office).json()
    assert {task["state"] for task in plan["task_list"]} == {"assigned"}


@then(quoted('规划记明部门名录不适用于本文件，原因含 "{words}"'))
def units_registry_does_not_fit(
    client: TestClient, office: dict[str, str], context: dict[str, Any], words: str
) -> None:
    registry = _plan_units(client, office, context)["registry"]
    assert registry["applies"] is False and words in registry["reason_zh"], registry


@then("没有任何任务得到责任规则的建议")
def units_no_proposals(client: TestClient, office: dict[str, str], context: dict[str, Any]) -> None:
    review = _review(client, office, context)
    assert all(item["proposal"] is None for item in review["items"])
    assert all(
        d["source"] != "rule" for item in review["items"] for d in (*item["lead"], *item["cooperating"])
    )


@then("规划审定页说明部门名录不适用于本文件")
def units_page_says_why(pages_clients: Callable[[str], PageClient], context: dict[str, Any]) -> None:
    page = pages_clients(OFFICE).get(f"/plans/{_review_plan_id(context)}")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "部门名录不适用于本文件" in shown and "不是本级文件" in shown
