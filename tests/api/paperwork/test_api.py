"""`/api/v1/…/notice|notices|bulletin|division.{docx,pdf}` and `/api/v1/stats/ranking`: the files open and
hold the expected names, dates and counts; who may download what (the office everything; a lead department
its own 督办单; the 通报 and the 分工方案 are the office's)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from duban.workflow.paperwork import font_set
from tests.api.helpers import problem
from tests.workflow.paperwork.conftest import Supervised, docx_text, flat, pdf_text

Headers = Callable[..., dict[str, str]]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_the_office_downloads_a_tasks_notice_as_word_and_pdf(
    supervised: Supervised, client: TestClient, auth_headers: Headers
) -> None:
    office = auth_headers("office")
    word = client.get(f"/api/v1/tasks/{supervised.red}/notice.docx", headers=office)
    assert word.status_code == 200, word.text
    assert word.headers["content-type"] == DOCX
    name = unquote(word.headers["content-disposition"].split("UTF-8''")[1])
    assert name.startswith("督办〔2025〕第") and name.endswith("号红色督办单.docx")
    text = docx_text(word.content)
    assert "红色督办单" in text and "自治区生态环境厅：" in text and "已超过完成时限15个工作日" in text
    pdf = client.get(f"/api/v1/tasks/{supervised.red}/notice.pdf", headers=office)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "已超过完成时限15个工作日" in flat(pdf_text(pdf.content, png="api-督办单.png"))


def test_a_lead_downloads_its_own_notice_and_no_one_elses(
    supervised: Supervised, client: TestClient, auth_headers: Headers
) -> None:
    lead = auth_headers("department", "sthjt")
    assert client.get(f"/api/v1/tasks/{supervised.blue}/notice.docx", headers=lead).status_code == 200
    region = client.get(f"/api/v1/tasks/{supervised.region}/notice.docx", headers=lead)
    problem(region, 403, "forbidden")
    cooperating = client.get(
        f"/api/v1/tasks/{supervised.red}/notice.pdf", headers=auth_headers("department", "fgw")
    )
    problem(cooperating, 403, "forbidden")
    baotou = client.get(
        f"/api/v1/tasks/{supervised.region}/notice.docx", headers=auth_headers("department", "baotou")
    )
    assert "橙色督办单" in docx_text(baotou.content)
    problem(client.get(f"/api/v1/tasks/{supervised.red}/notice.docx"), 401)
    selection = client.get(
        "/api/v1/notices.pdf", params={"task": [supervised.red, supervised.region]}, headers=lead
    )
    problem(selection, 403, "forbidden")


def test_no_notice_no_task_and_bad_selections_are_refused(
    supervised: Supervised, client: TestClient, auth_headers: Headers
) -> None:
    office = auth_headers("office")
    problem(
        client.get(f"/api/v1/tasks/{supervised.quiet}/notice.pdf", headers=office), 404, "notice_not_issued"
    )
    problem(client.get("/api/v1/tasks/999999/notice.pdf", headers=office), 404, "not_found")
    problem(client.get("/api/v1/notices.pdf", headers=office), 422)
    too_many = client.get("/api/v1/notices.docx", params={"task": list(range(1, 203))}, headers=office)
    problem(too_many, 422, "paperwork_request_invalid")
    assert client.get(f"/api/v1/tasks/{supervised.red}/notice.odt", headers=office).status_code in (404, 422)


def test_a_selection_is_one_file(supervised: Supervised, client: TestClient, auth_headers: Headers) -> None:
    response = client.get(
        "/api/v1/notices.docx",
        params={"task": [supervised.red, supervised.blue, supervised.region]},
        headers=auth_headers("office"),
    )
    assert response.status_code == 200, response.text
    assert unquote(response.headers["content-disposition"].split("UTF-8''")[1]) == "督办单（3份）.docx"
    text = docx_text(response.content)
    assert [t for t in ("红色督办单", "蓝色督办单", "橙色督办单") if t in text] == [
        "红色督办单",
        "蓝色督办单",
        "橙色督办单",
    ]


def test_the_bulletin_is_the_offices(
    supervised: Supervised, client: TestClient, auth_headers: Headers
) -> None:
    period = {"start": "2025-09-01", "end": "2025-10-31"}
    response = client.get("/api/v1/bulletin.pdf", params=period, headers=auth_headers("office"))
    assert response.status_code == 200, response.text
    text = flat(pdf_text(response.content, png="api-督办通报.png"))
    assert "关于2025年9月1日至2025年10月31日督办事项办理情况的通报" in text
    assert "包头市人民政府" in text and "自治区生态环境厅" in text
    word = docx_text(
        client.get("/api/v1/bulletin.docx", params=period, headers=auth_headers("office")).content
    )
    assert "到期应办结任务4项，按期办结1项" in flat(word)
    problem(
        client.get("/api/v1/bulletin.docx", params=period, headers=auth_headers("department", "sthjt")), 403
    )
    reversed_period = {"start": "2025-10-31", "end": "2025-09-01"}
    problem(
        client.get("/api/v1/bulletin.docx", params=reversed_period, headers=auth_headers("office")),
        422,
        "paperwork_request_invalid",
    )
    problem(
        client.get("/api/v1/bulletin.docx", params={"start": "2025-13-01"}, headers=auth_headers("office")),
        422,
    )


def test_the_division_plan_is_the_offices(
    world_plan: tuple[Session, int], client: TestClient, auth_headers: Headers
) -> None:
    _, plan_id = world_plan
    response = client.get(f"/api/v1/plans/{plan_id}/division.docx", headers=auth_headers("office"))
    assert response.status_code == 200, response.text
    text = docx_text(response.content)
    assert "序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限" in text
    assert "自治区生态环境厅 | 自治区发展改革委 | 2026年12月31日" in text
    pdf = client.get(f"/api/v1/plans/{plan_id}/division.pdf", headers=auth_headers("office"))
    assert "重点任务分工方案" in flat(pdf_text(pdf.content))
    problem(
        client.get(f"/api/v1/plans/{plan_id}/division.pdf", headers=auth_headers("department", "sthjt")), 403
    )
    problem(client.get("/api/v1/plans/999999/division.pdf", headers=auth_headers("office")), 404)


def test_the_ranking_shows_its_weights_and_a_department_its_own_place(
    supervised: Supervised, client: TestClient, auth_headers: Headers
) -> None:
    period = {"start": "2025-09-01", "end": "2025-10-31"}
    body = client.get("/api/v1/stats/ranking", params=period, headers=auth_headers("office")).json()
    assert body["weights"]["name"] == "督办评分规则（第 1 版）"
    assert body["weights"]["per_notice"] == {"blue": 3.0, "orange": 5.0, "red": 8.0}
    (department,) = body["departments"]
    assert (department["code"], department["rank"], department["due"], department["completed_on_time"]) == (
        "sthjt",
        1,
        3,
        1,
    )
    assert department["notices"] == {"blue": 1, "orange": 0, "red": 1}
    # 100 − 40 × ⅔ − 0.5 × 19 working days late − (3 + 8) for the notices
    assert department["score"] == 52.8
    (region,) = body["regions"]
    assert (region["code"], region["rank"], region["notices"]["orange"]) == ("baotou", 1, 1)
    own = client.get(
        "/api/v1/stats/ranking", params=period, headers=auth_headers("department", "baotou")
    ).json()
    assert own["departments"] == [] and [r["code"] for r in own["regions"]] == ["baotou"]


def test_a_server_without_chinese_fonts_says_so_and_still_gives_word(
    supervised: Supervised, client: TestClient, auth_headers: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no fontconfig: no font can be found
    font_set.cache_clear()
    try:
        office = auth_headers("office")
        pdf = client.get(f"/api/v1/tasks/{supervised.red}/notice.pdf", headers=office)
        body = problem(pdf, 503, "paperwork_fonts_missing")
        assert "fonts-noto-cjk" in body["detail"]
        word = client.get(f"/api/v1/tasks/{supervised.red}/notice.docx", headers=office)
        assert word.status_code == 200  # the .docx names the office's fonts; the server needs none
    finally:
        monkeypatch.undo()
        font_set.cache_clear()
