"""POST/GET /api/v1/plans: text and file uploads, idempotent re-import, clear errors, no partial writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from duban.core.config import get_settings
from duban.tasks.models import Plan, Task

DOC = """关于加强黄河流域生态保护的实施方案

一、重点任务
（一）加强水土保持。2025年年底前完成治理面积1000平方公里。（自治区水利厅牵头，自治区林草局配合）
（二）推进污水处理。完善城镇污水管网。
"""

Headers = Callable[..., dict[str, str]]


def _tasks(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Task)).one())


def test_only_the_office_imports(client: TestClient, auth_headers: Headers) -> None:
    assert client.post("/api/v1/plans", json={"text": DOC}).status_code == 401
    denied = client.post("/api/v1/plans", json={"text": DOC}, headers=auth_headers("department", "sthjt"))
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")


def test_import_text_then_read_it_back(client: TestClient, auth_headers: Headers, session: Session) -> None:
    office = auth_headers("office")
    created = client.post("/api/v1/plans", json={"text": DOC, "name": "方案.txt"}, headers=office)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "created"
    plan = body["plan"]
    assert plan["title"] == "关于加强黄河流域生态保护的实施方案"
    assert plan["measures"] == 2
    first = plan["task_list"][0]
    assert first["state"] == "draft"
    assert first["deadline"] == "2025-12-31"
    assert [d["name"] for d in first["lead"]] == ["自治区水利厅"]
    assert first["lead"][0]["source"] == "explicit"
    again = client.post("/api/v1/plans", json={"text": DOC}, headers=office)
    assert again.status_code == 200
    assert again.json()["status"] == "unchanged"
    assert _tasks(session) == 2
    assert [p["id"] for p in client.get("/api/v1/plans", headers=office).json()] == [plan["id"]]
    # Not yet issued: the plan is the office's (tests/api/test_read_authorization.py).
    assert client.get("/api/v1/plans", headers=auth_headers("department", "slt")).json() == []
    detail = client.get(f"/api/v1/plans/{plan['id']}", headers=office).json()
    assert [n["path"] for n in detail["outline"] if n["kind"] == "measure"] == [
        ["一", "(一)"],
        ["一", "(二)"],
    ]


def test_upload_gb18030_file(client: TestClient, auth_headers: Headers) -> None:
    response = client.post(
        "/api/v1/plans",
        files={"file": ("方案.txt", DOC.encode("gb18030"), "text/plain")},
        headers=auth_headers("office"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["plan"]["title"] == "关于加强黄河流域生态保护的实施方案"


def test_bad_documents_get_clear_errors_and_write_nothing(
    client: TestClient, auth_headers: Headers, session: Session
) -> None:
    office = auth_headers("office")
    cases: list[tuple[dict[str, Any], int]] = [
        ({"files": {"file": ("x.txt", b"", "text/plain")}}, 422),
        ({"files": {"file": ("x.bin", bytes(range(256)) * 64, "application/octet-stream")}}, 422),
        ({"json": {"text": ""}}, 422),
        ({"json": {"wrong": "field"}}, 422),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
        ({"content": b"<xml/>", "headers": {"content-type": "application/xml"}}, 415),
        ({"files": {"file": ("big.txt", "一".encode() * (2 * 1024 * 1024), "text/plain")}}, 413),
    ]
    for kwargs, status in cases:
        extra_headers = kwargs.pop("headers", {})
        response = client.post("/api/v1/plans", headers={**office, **extra_headers}, **kwargs)
        assert response.status_code == status, (kwargs.keys(), response.text[:300])
        problem = response.json()
        assert " / " in problem["detail"]
    assert session.exec(select(func.count()).select_from(Plan)).one() == 0


def test_unknown_plan_is_404(client: TestClient, auth_headers: Headers) -> None:
    response = client.get("/api/v1/plans/999999", headers=auth_headers("office"))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_document_with_more_measures_than_any_plan_is_refused(
    client: TestClient, auth_headers: Headers, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBAN_MAX_PLAN_MEASURES", "1")
    get_settings.cache_clear()
    try:
        response = client.post("/api/v1/plans", json={"text": DOC}, headers=auth_headers("office"))
    finally:
        get_settings.cache_clear()
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "too_many_measures" and problem["limit"] == 1 and problem["measures"] == 2
    assert "超过上限" in problem["detail"] and "limit" in problem["detail"]
    assert session.exec(select(func.count()).select_from(Plan)).one() == 0
