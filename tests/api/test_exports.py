"""台账 export: `GET /api/v1/exports/ledger.xlsx` and `.csv` — the office's columns, the right rows, the
Chinese text, the board's filters, a department's own tasks only; text is never a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from duban.tasks.enums import TaskState
from duban.tasks.models import Task
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.ledger import HEADERS
from duban.workflow.records import add_progress
from duban.workflow.service import office_actor
from duban.workflow.sweep import apply_ladder_action
from tests.fixtures.tasks import TaskWorld

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(content: bytes) -> tuple[list[Any], list[list[Any]], Any]:
    book = load_workbook(io.BytesIO(content))
    sheet = book["督办台账"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    return values[1], values[2:], sheet


def test_the_xlsx_has_the_offices_columns_rows_and_chinese_text(
    client: TestClient,
    auth_headers: Callable[..., dict[str, str]],
    world: TaskWorld,
    clock_at: Callable[[Any], None],
) -> None:
    clock_at("2026-06-01T09:00")
    late, on_time = world.task_in(TaskState.in_progress), world.task_in(TaskState.completed)
    draft = world.task_in(TaskState.draft)
    add_progress(world.session, late, world.actor("lead"), 70, "已完成 70% 的燃煤锅炉淘汰改造")
    clock_at("2027-03-01T09:00")
    apply_ladder_action(world.session, late, "supervise", office_actor())
    world.session.flush()
    response = client.get("/api/v1/exports/ledger.xlsx", headers=auth_headers("office"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "filename*=UTF-8''%E7%9D%A3%E5%8A%9E%E5%8F%B0%E8%B4%A6" in response.headers["content-disposition"]
    header, rows, sheet = _rows(response.content)
    assert (
        tuple(header)
        == HEADERS
        == ("序号", "任务", "牵头单位", "配合单位", "完成时限", "状态", "督办级别", "最近进展", "逾期工作日")
    )
    assert str(sheet["A1"].value).startswith("督办台账（截至 2027-03-01）")
    by_state = {row[5]: row for row in rows}
    assert {"办理中", "已办结"} <= set(by_state) and "拟办" not in by_state  # drafts are not in the 台账
    row = by_state["办理中"]
    days = WorkingCalendar.from_bundled().working_days_between(dt.date(2026, 12, 31), dt.date(2027, 3, 1))
    assert row[1] == "推进燃煤锅炉整治"
    assert row[2] == "自治区生态环境厅" and row[3] == "自治区发展改革委"
    assert row[4].date() == dt.date(2026, 12, 31)
    assert row[6] == "督办（蓝）"
    assert row[7].startswith("2026-06-01（70%）已完成 70% 的燃煤锅炉淘汰改造")
    assert row[8] == days
    assert by_state["已办结"][8] is None and by_state["已办结"][6] == "无"
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert len(rows) == 2 and draft not in (late, on_time)


def test_filters_as_on_the_board_and_the_csv_matches(
    client: TestClient,
    auth_headers: Callable[..., dict[str, str]],
    world: TaskWorld,
    clock_at: Callable[[Any], None],
) -> None:
    late = world.task_in(TaskState.in_progress)
    world.task_in(TaskState.completed)
    clock_at("2027-03-01T09:00")
    office = auth_headers("office")
    red = client.get("/api/v1/exports/ledger.xlsx", params={"light": "red"}, headers=office)
    _, rows, _ = _rows(red.content)
    assert [r[5] for r in rows] == ["办理中"]
    plan_id = world.session.get(Task, late).plan_id  # type: ignore[union-attr]
    by_plan = client.get("/api/v1/exports/ledger.csv", params={"plan_id": plan_id}, headers=office)
    assert by_plan.status_code == 200 and by_plan.headers["content-type"].startswith("text/csv")
    assert by_plan.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(by_plan.content.decode("utf-8-sig"))))
    assert tuple(lines[0]) == HEADERS and len(lines) == 2
    assert lines[1][1:6] == [
        "推进燃煤锅炉整治",
        "自治区生态环境厅",
        "自治区发展改革委",
        "2026-12-31",
        "办理中",
    ]
    level = client.get("/api/v1/exports/ledger.csv", params={"level": "urged"}, headers=office)
    assert len(list(csv.reader(io.StringIO(level.content.decode("utf-8-sig"))))) == 1  # the header only
    assert (
        client.get("/api/v1/exports/ledger.csv", params={"light": "purple"}, headers=office).status_code
        == 422
    )
    assert client.get("/api/v1/exports/ledger.xlsx").status_code == 401


def test_a_department_exports_only_its_own_tasks(
    client: TestClient, auth_headers: Callable[..., dict[str, str]], world: TaskWorld
) -> None:
    world.task_in(TaskState.in_progress)
    lead = client.get("/api/v1/exports/ledger.csv", headers=auth_headers("department", "sthjt"))
    other = client.get("/api/v1/exports/ledger.csv", headers=auth_headers("department", "slt"))
    assert len(lead.content.decode("utf-8-sig").splitlines()) == 2
    assert len(other.content.decode("utf-8-sig").splitlines()) == 1


def test_text_is_never_a_formula(
    client: TestClient, auth_headers: Callable[..., dict[str, str]], world: TaskWorld
) -> None:
    task_id = world.task_in(TaskState.in_progress)
    formula = '=HYPERLINK("http://evil.example","点我")'
    world.session.execute(sa.update(Task).where(Task.id == task_id).values(title=formula))  # type: ignore[arg-type]
    world.session.flush()
    office = auth_headers("office")
    _, rows, sheet = _rows(client.get("/api/v1/exports/ledger.xlsx", headers=office).content)
    assert rows[0][1] == formula and sheet["B3"].data_type == "s"
    lines = client.get("/api/v1/exports/ledger.csv", headers=office).content.decode("utf-8-sig").splitlines()
    assert lines[1].split(",")[1].startswith("\"'=HYPERLINK")
