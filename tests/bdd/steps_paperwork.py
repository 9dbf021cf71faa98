"""Steps of 督办单与通报 (imported by tests/bdd/conftest.py): 督办单 mailed with their PDF by the real
scheduler, downloads through the API read back with python-docx and pdfplumber, the scorecard page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session

from duban.tasks.enums import Role
from duban.tasks.models import Department
from duban.workflow.paperwork.models import DocumentSerial
from tests.api.pages.helpers import PageClient, ensure_user, page_clients, text_of
from tests.bdd.conftest import SweepWorld, _department_code, quoted, sweep_daily
from tests.workflow.paperwork.conftest import docx_text, flat, pdf_text

Headers = Callable[..., dict[str, str]]
NOTICE_SERIAL = re.compile(r"督办〔\d{4}〕第\d+号")
serial_t = DocumentSerial.__table__  # type: ignore[attr-defined]


def _headers(session: Session, auth_headers: Headers, who: str) -> dict[str, str]:
    if who == "委员会办公室":
        return auth_headers("office")
    return auth_headers("department", _department_code(session, who))


def _items(texts: str) -> list[str]:
    return [t.strip() for t in texts.split(",") if t.strip()]


@given(quoted('调度程序已从 "{start}" 到 "{end}" 每天 "{time}" 巡查'))
def paperwork_swept(sweep_world: SweepWorld, start: str, end: str, time: str) -> None:
    sweep_daily(sweep_world, start, end, time)


@then(quoted('"{department}" 收到的 "{prefix}" 邮件附有督办单 PDF，写明 "{texts}"'))
def mail_carries_notice(sweep_world: SweepWorld, department: str, prefix: str, texts: str) -> None:
    address = sweep_world.scene.session.get(
        Department, sweep_world.scene.ids[sweep_world.department(department)]
    )
    assert address is not None
    (mail,) = [m for m in sweep_world.mails() if m["To"] == address.email and m["Subject"].startswith(prefix)]
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert str(attachment.get_filename()).endswith("督办单.pdf")
    content = attachment.get_content()
    assert isinstance(content, bytes)
    text = flat(pdf_text(content, png=f"邮件附件-{department}.png"))
    for expected in _items(texts):
        assert flat(expected) in text, expected


@when(quoted('"{who}" 再次下载任务 "{name}" 的督办单 "{fmt}"'))
@when(quoted('"{who}" 下载任务 "{name}" 的督办单 "{fmt}"'))
def download_notice(
    sweep_world: SweepWorld,
    client: TestClient,
    auth_headers: Headers,
    context: dict[str, Any],
    who: str,
    name: str,
    fmt: str,
) -> None:
    headers = _headers(sweep_world.scene.session, auth_headers, who)
    context["download"] = client.get(f"/api/v1/tasks/{sweep_world.tasks[name]}/notice.{fmt}", headers=headers)
    if context["download"].status_code == 200:
        (serial,) = NOTICE_SERIAL.findall(flat(_downloaded_text(context)))[:1]
        context.setdefault("notice_serials", []).append(serial)


@when(quoted('"{who}" 生成 "{start}" 至 "{end}" 的督办通报 "{fmt}"'))
def download_bulletin(
    sweep_world: SweepWorld,
    client: TestClient,
    auth_headers: Headers,
    context: dict[str, Any],
    who: str,
    start: str,
    end: str,
    fmt: str,
) -> None:
    headers = _headers(sweep_world.scene.session, auth_headers, who)
    period = {"start": start, "end": end}
    context["download"] = client.get(f"/api/v1/bulletin.{fmt}", params=period, headers=headers)


@when(quoted('委员会办公室下载该规划的分工方案 "{fmt}"'))
def download_division(
    sweep_world: SweepWorld, client: TestClient, auth_headers: Headers, context: dict[str, Any], fmt: str
) -> None:
    path = f"/api/v1/plans/{sweep_world.scene.plan_id}/division.{fmt}"
    context["download"] = client.get(path, headers=auth_headers("office"))


def _downloaded_text(context: dict[str, Any]) -> str:
    response = context["download"]
    assert response.status_code == 200, response.text
    if response.headers["content-type"] == "application/pdf":
        return pdf_text(response.content)
    return docx_text(response.content)


@then(quoted('下载的文件写明 "{texts}"'))
def download_says(context: dict[str, Any], texts: str) -> None:
    text = flat(_downloaded_text(context))
    for expected in _items(texts):
        assert flat(expected) in text, expected


@then(parsers.parse("下载被拒绝，状态码为 {status:d}"))
def download_refused(context: dict[str, Any], status: int) -> None:
    response = context["download"]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@then("两次下载的督办单文号相同")
def same_serial(context: dict[str, Any]) -> None:
    """A re-download prints the number issued the first time."""
    first, second = context["notice_serials"]
    assert first == second


@then("已发出的督办单从第 1 号起连续编号，没有重复，下载的督办单是其中之一")
def notice_serials_consecutive(sweep_world: SweepWorld, context: dict[str, Any]) -> None:
    """Every 督办单 issued (mailed or downloaded) has its own number: 1, 2, 3 … of its year."""
    rows = sweep_world.scene.session.connection().execute(
        sa.select(serial_t.c.year, serial_t.c.number).where(serial_t.c.kind == "notice")
    )
    issued = sorted((row.year, row.number) for row in rows)
    assert issued and [n for _, n in issued] == list(range(1, len(issued) + 1)), issued
    assert context["notice_serials"][0] in {f"督办〔{y}〕第{n}号" for y, n in issued}


def _table_row(context: dict[str, Any], name: str) -> list[str]:
    rows = [line.split(" | ") for line in _downloaded_text(context).splitlines() if " | " in line]
    (row,) = [cells for cells in rows if name in cells]
    return row


@then(quoted('通报中 "{name}" 排第 "{rank}" 名，督办单为 "{colours}"，得分为 "{score}"'))
def bulletin_rank(context: dict[str, Any], name: str, rank: str, colours: str, score: str) -> None:
    row = _table_row(context, name)
    assert (row[0], row[-2], row[-1]) == (rank, colours, score), row


@then(quoted('分工方案表格的表头为 "{headers}"'))
def division_headers(context: dict[str, Any], headers: str) -> None:
    assert _table_row(context, "序号") == _items(headers)


@then(quoted('分工方案中任务 "{name}" 由 "{lead}" 牵头，完成时限为 "{deadline}"'))
def division_row(context: dict[str, Any], name: str, lead: str, deadline: str) -> None:
    row = _table_row(context, name)
    assert (row[2], row[-1]) == (lead, deadline), row


@pytest.fixture
def paperwork_pages(session: Session) -> Iterator[Callable[[], PageClient]]:
    """Fresh page clients over the scenario's transaction."""
    with page_clients() as open_client:
        yield open_client


@when(quoted('委员会办公室查看 "{start}" 至 "{end}" 的评分看板'))
def view_scorecards(
    sweep_world: SweepWorld,
    paperwork_pages: Callable[[], PageClient],
    context: dict[str, Any],
    start: str,
    end: str,
) -> None:
    user = ensure_user(sweep_world.scene.session, "paperwork-office", Role.office)
    page = paperwork_pages()
    assert page.login(user.username).status_code == 303
    response = page.get("/scorecards", start=start, end=end)
    assert response.status_code == 200
    context["scorecards"] = response.text


@then(quoted('评分看板显示评分规则 "{name}"，每份红色督办单扣 "{points}" 分'))
def scorecards_rules(context: dict[str, Any], name: str, points: str) -> None:
    text = text_of(context["scorecards"])
    assert f"评分规则：{name}" in text and f"每份红色督办单 {points}" in text


@then(quoted('评分看板的盟市排名中 "{name}" 排第 "{rank}" 名，得分为 "{score}"'))
def scorecards_region_rank(context: dict[str, Any], name: str, rank: str, score: str) -> None:
    section = context["scorecards"].split('id="ranking-regions"')[1].split("</table>")[0]
    assert f"{rank} {name} {score}" in text_of(section)
