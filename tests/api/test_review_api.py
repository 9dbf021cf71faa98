"""The review API: office edits, bulk edits, review list, region splits, the 分工方案 round trip, the rules."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import load_workbook

from tests.api.helpers import problem

Headers = Callable[..., dict[str, str]]

PLAN = """关于加强生态环境保护的工作方案（2024—2027年）

一、重点任务
（一）加强大气污染防治。各盟市要全面淘汰燃煤小锅炉。
（二）加强草原生态保护。2026年6月底前落实草畜平衡制度。（自治区林业和草原局牵头，自治区农牧厅配合）
（三）推进城镇污水处理。完善城镇污水管网。
"""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CONFIRM = {"confirm_past_deadlines": True}  # the plan's deadlines are history: issue them as they are


@pytest.fixture
def plan(api: TestClient, office: dict[str, str]) -> dict[str, Any]:
    response = api.post("/api/v1/plans", json={"text": PLAN, "name": "方案.txt"}, headers=office)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()["plan"]
    return body


def ids(plan: dict[str, Any]) -> list[int]:
    return [t["id"] for t in plan["task_list"]]


def test_import_shows_rule_proposals_with_their_evidence(plan: dict[str, Any]) -> None:
    air, grass, _ = plan["task_list"]
    assert air["lead"][0]["code"] == "sthjt" and air["lead"][0]["source"] == "rule"
    assert air["lead"][0]["evidence"][0]["rule_ids"] == ["env.air"]
    assert grass["lead"][0]["source"] == "explicit"
    assert air["deadline"] == "2027-12-31" and air["deadline_source"] == "default"


def test_patch_edits_a_draft_task_for_the_office_only(
    api: TestClient, plan: dict[str, Any], office: dict[str, str], auth_headers: Headers
) -> None:
    air = ids(plan)[0]
    body = {"lead": ["自治区工业和信息化厅"], "cooperating": ["sthjt"], "deadline": "2026-12-31"}
    problem(api.patch(f"/api/v1/tasks/{air}", json=body, headers=auth_headers("department", "sthjt")), 403)
    problem(
        api.patch(f"/api/v1/tasks/{air}", json=body, headers={**office, "If-Match": '"v7"'}),
        412,
        "stale_version",
    )
    response = api.patch(f"/api/v1/tasks/{air}", json=body, headers={**office, "If-Match": '"v1"'})
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"v2"'
    task = response.json()
    assert [d["code"] for d in task["lead"]] == ["gxt"] and task["lead"][0]["source"] == "office"
    assert task["deadline"] == "2026-12-31" and task["deadline_source"] == "office"
    events = api.get(f"/api/v1/tasks/{air}/events", headers=office).json()
    assert [e["kind"] for e in events] == ["created", "edit"]
    assert events[1]["data"]["before"]["lead"] == ["sthjt"] and events[1]["data"]["after"]["lead"] == ["gxt"]


def test_patch_errors(api: TestClient, plan: dict[str, Any], office: dict[str, str]) -> None:
    air, grass, _ = ids(plan)
    unknown = problem(api.patch(f"/api/v1/tasks/{air}", json={"lead": ["自治区环保局"]}, headers=office), 422)
    assert unknown["code"] == "unknown_department" and "自治区生态环境厅" in unknown["suggestions"]
    problem(api.patch(f"/api/v1/tasks/{air}", json={"deadline": "not a date"}, headers=office), 422)
    problem(api.patch(f"/api/v1/tasks/{air}", json={"owner": "x"}, headers=office), 422)
    problem(api.patch("/api/v1/tasks/999999", json={"lead": ["slt"]}, headers=office), 404)
    assert (
        api.post(f"/api/v1/tasks/{grass}/actions/issue", headers={**office, "If-Match": '"v1"'}).status_code
        == 200
    )
    problem(api.patch(f"/api/v1/tasks/{grass}", json={"lead": ["slt"]}, headers=office), 409, "not_draft")


def test_bulk_edit_is_all_or_nothing(api: TestClient, plan: dict[str, Any], office: dict[str, str]) -> None:
    air, grass, sewage = ids(plan)
    url = f"/api/v1/plans/{plan['id']}/tasks/bulk-edit"
    bad = {"edits": [{"task_id": air, "lead": ["slt"]}, {"task_id": grass, "lead": ["无此单位"]}]}
    body = problem(api.post(url, json=bad, headers=office), 422, "bulk_edit_invalid")
    assert [(e["index"], e["code"]) for e in body["errors"]] == [(1, "unknown_department")]
    assert api.get(f"/api/v1/tasks/{air}", headers=office).json()["lead"][0]["code"] == "sthjt"
    good = {
        "edits": [
            {"task_id": air, "lead": ["slt"], "version": 1},
            {"task_id": sewage, "deadline": "2026-10-31"},
        ]
    }
    response = api.post(url, json=good, headers=office)
    assert response.status_code == 200, response.text
    assert response.json()["changed"] == 2
    problem(api.post("/api/v1/plans/999999/tasks/bulk-edit", json=good, headers=office), 404)


def test_review_list_puts_disputes_first(
    api: TestClient, plan: dict[str, Any], office: dict[str, str], auth_headers: Headers
) -> None:
    air, grass, sewage = ids(plan)
    assert api.post(f"/api/v1/plans/{plan['id']}/issue", headers=office, json=CONFIRM).status_code == 200
    lcj = auth_headers("department", "lcj")
    response = api.post(
        f"/api/v1/tasks/{grass}/actions/dispute",
        json={"reason": "属于农牧厅职责"},
        headers={**lcj, "If-Match": "*"},
    )
    assert response.status_code == 200, response.text
    listing = api.get(f"/api/v1/plans/{plan['id']}/review", headers=office)
    assert listing.status_code == 200, listing.text
    items = listing.json()["items"]
    assert [i["id"] for i in items] == [grass, air, sewage]
    assert items[0]["dispute"]["reason"] == "属于农牧厅职责" and items[0]["state"] == "draft"
    assert items[1]["proposal"]["rule_ids"][0] == "env.air" and items[1]["addressed_to_leagues"]
    problem(api.get(f"/api/v1/plans/{plan['id']}/review", headers=lcj), 403)


def test_split_regions_then_roll_up(
    api: TestClient, plan: dict[str, Any], office: dict[str, str], auth_headers: Headers
) -> None:
    air = ids(plan)[0]
    url = f"/api/v1/tasks/{air}/split-regions"
    problem(api.post(url, headers=auth_headers("department", "sthjt")), 403)
    first = api.post(url, json={"regions": ["乌海市", "alxa"]}, headers={**office, "If-Match": '"v1"'})
    assert first.status_code == 201, first.text
    assert len(first.json()["created"]) == 2 and first.json()["rollup"]["total"] == 2
    again = api.post(url, json={"regions": ["wuhai"]}, headers=office)
    assert again.status_code == 200 and again.json()["created"] == []
    problem(api.post(url, json={"regions": ["北京市"]}, headers=office), 422, "unknown_region")
    rest = api.post(url, headers=office)
    assert rest.status_code == 201 and len(rest.json()["created"]) == 10
    # A draft (never issued) is the office's: not even its proposed lead reads it yet.
    problem(api.get(f"/api/v1/tasks/{air}/regions", headers=auth_headers("department", "sthjt")), 403)
    regions = api.get(f"/api/v1/tasks/{air}/regions", headers=office)
    assert regions.status_code == 200, regions.text
    assert regions.json()["rollup"]["by_state"] == {"draft": 12}
    children = regions.json()["children"]
    assert {c["lead"][0]["code"] for c in children} >= {"wuhai", "alxa", "hohhot"}
    problem(
        api.post(f"/api/v1/tasks/{children[0]['id']}/split-regions", headers=office), 409, "split_not_allowed"
    )
    problem(api.get(f"/api/v1/tasks/{air}/regions", headers=auth_headers("department", "slt")), 403)


def _upload(api: TestClient, plan_id: int, data: bytes, name: str, headers: dict[str, str]) -> Response:
    return api.post(f"/api/v1/plans/{plan_id}/division", files={"file": (name, data, XLSX)}, headers=headers)


def test_division_round_trip_over_http(api: TestClient, plan: dict[str, Any], office: dict[str, str]) -> None:
    download = api.get(f"/api/v1/plans/{plan['id']}/division.xlsx", headers=office)
    assert download.status_code == 200 and download.headers["content-type"] == XLSX
    assert "attachment" in download.headers["content-disposition"]
    book = load_workbook(io.BytesIO(download.content))
    book["分工方案"]["C3"] = "自治区水利厅"
    out = io.BytesIO()
    book.save(out)
    response = _upload(api, plan["id"], out.getvalue(), "分工方案.xlsx", office)
    assert response.status_code == 200, response.text
    assert response.json()["changed"] == [ids(plan)[0]] and response.json()["unchanged"] == 2
    events = api.get(f"/api/v1/tasks/{ids(plan)[0]}/events", headers=office).json()
    assert events[-1]["kind"] == "edit" and events[-1]["data"]["via"] == "division"
    book["分工方案"]["C4"] = "自治区林草厅"
    book["分工方案"]["E5"] = "下半年"
    book.save(out := io.BytesIO())
    body = problem(_upload(api, plan["id"], out.getvalue(), "x.xlsx", office), 422, "division_invalid")
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(4, "牵头单位"), (5, "完成时限")]
    assert "自治区林业和草原局" in body["errors"][0]["suggestions"]


def test_division_csv_and_errors(
    api: TestClient, plan: dict[str, Any], office: dict[str, str], auth_headers: Headers
) -> None:
    csv = api.get(f"/api/v1/plans/{plan['id']}/division.csv", headers=office)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8-sig").splitlines()[0].startswith("序号,任务,牵头单位")
    same = api.post(
        f"/api/v1/plans/{plan['id']}/division",
        files={"file": ("a.csv", csv.content, "text/csv")},
        headers=office,
    )
    assert same.status_code == 200 and same.json()["changed"] == []
    problem(
        api.get(f"/api/v1/plans/{plan['id']}/division.xlsx", headers=auth_headers("department", "sthjt")), 403
    )
    problem(api.get("/api/v1/plans/999999/division.csv", headers=office), 404)
    problem(api.post(f"/api/v1/plans/{plan['id']}/division", content=b"x", headers=office), 415)
    problem(
        api.post(
            f"/api/v1/plans/{plan['id']}/division",
            data={"x": "1"},
            files={"other": ("a", b"")},
            headers=office,
        ),
        422,
    )


def test_rules_are_read_and_versioned_by_the_office(
    api: TestClient, office: dict[str, str], auth_headers: Headers
) -> None:
    current = api.get("/api/v1/responsibility-rules", headers=auth_headers("department", "slt"))
    assert current.status_code == 200 and current.headers["ETag"] == '"r0"'
    assert current.json()["version"] == 0 and current.json()["fallback"]["lead"] == ["sthjt"]
    layer = {
        "rules": [
            {
                "id": "office.smog",
                "phrases": ["燃煤小锅炉"],
                "lead": ["zjt"],
                "remit": "住房城乡建设厅三定：供热锅炉",
            },
            {"id": "env.air", "disabled": True},
        ],
        "note": "测试",
    }
    problem(
        api.put("/api/v1/responsibility-rules", json=layer, headers=auth_headers("department", "slt")), 403
    )
    bad = {"rules": [{"id": "office.bad", "phrases": ["x"], "lead": ["nosuch"], "remit": "r"}]}
    body = problem(api.put("/api/v1/responsibility-rules", json=bad, headers=office), 422, "rules_invalid")
    assert body["errors"][0]["field"] == "lead"
    saved = api.put("/api/v1/responsibility-rules", json=layer, headers={**office, "If-Match": '"r0"'})
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1 and saved.headers["ETag"] == '"r1"'
    assert "env.air" not in {r["id"] for r in saved.json()["rules"]}
    problem(api.put("/api/v1/responsibility-rules", json=layer, headers={**office, "If-Match": '"r0"'}), 412)
    imported = api.post("/api/v1/plans", json={"text": PLAN}, headers=office).json()["plan"]
    assert imported["task_list"][0]["lead"][0]["code"] == "zjt"
    assert imported["task_list"][0]["lead"][0]["evidence"][0]["rule_ids"] == ["office.smog"]


def test_openapi_documents_the_review_endpoints_with_examples(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    for path in (
        "/api/v1/tasks/{task_id}",
        "/api/v1/plans/{plan_id}/tasks/bulk-edit",
        "/api/v1/plans/{plan_id}/review",
        "/api/v1/tasks/{task_id}/split-regions",
        "/api/v1/plans/{plan_id}/division.xlsx",
        "/api/v1/plans/{plan_id}/division",
        "/api/v1/responsibility-rules",
    ):
        assert path in schema["paths"], path
    assert "patch" in schema["paths"]["/api/v1/tasks/{task_id}"]
    assert schema["components"]["schemas"]["TaskPatch"]["examples"]
