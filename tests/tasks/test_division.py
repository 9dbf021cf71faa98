"""The 分工方案 round trip: export XLSX/CSV, edit, import back; every error named by row and column."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from duban.tasks.division import (
    division_rows,
    import_division,
    parse_deadline,
    read_division,
    to_csv,
    to_xlsx,
)
from duban.tasks.enums import Role
from duban.tasks.errors import DivisionImportInvalid
from duban.tasks.models import Department, Task, TaskAssignment, TaskEvent
from duban.tasks.parser import parse
from duban.tasks.plans import import_plan
from duban.workflow.machines import Actor
from duban.workflow.service import apply_action

PLAN = """关于加强生态环境保护的工作方案（2024—2027年）

一、重点任务
（一）加强大气污染防治。全面淘汰燃煤小锅炉。
（二）加强草原生态保护。2026年6月底前落实草畜平衡制度。（自治区林业和草原局牵头，自治区农牧厅配合）
（三）推进城镇污水处理。完善城镇污水管网。
"""


@pytest.fixture
def plan_id(departments: Session) -> int:
    return import_plan(departments, PLAN, parse(PLAN), "方案.txt").plan_id


def workbook(session: Session, plan_id: int) -> Any:
    plan, rows = division_rows(session, plan_id)
    return load_workbook(io.BytesIO(to_xlsx(plan, rows)))


def save(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def codes(session: Session, task_id: int, role: str) -> list[str]:
    return list(
        session.exec(
            select(Department.code)
            .join(TaskAssignment, col(TaskAssignment.department_id) == col(Department.id))
            .where(TaskAssignment.task_id == task_id, TaskAssignment.role == role)
            .order_by(col(TaskAssignment.position))
        ).all()
    )


def task_ids(session: Session, plan_id: int) -> list[int]:
    return [
        i
        for i in session.exec(select(Task.id).where(Task.plan_id == plan_id).order_by(col(Task.id))).all()
        if i
    ]


def problems(caught: pytest.ExceptionInfo[DivisionImportInvalid]) -> list[tuple[Any, Any]]:
    return [(e["row"], e["column"]) for e in caught.value.extra["errors"]]


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-12-31", dt.date(2026, 12, 31)),
        ("2026/12/31", dt.date(2026, 12, 31)),
        ("2026.12.31", dt.date(2026, 12, 31)),
        ("2026年12月31日", dt.date(2026, 12, 31)),
        ("2026年底", dt.date(2026, 12, 31)),
        ("2026年年底前", dt.date(2026, 12, 31)),
        ("２０２６年６月底前", dt.date(2026, 6, 30)),
        ("2026年2月", dt.date(2026, 2, 28)),
        (dt.datetime(2026, 3, 1, 0, 0), dt.date(2026, 3, 1)),
        ("2026-02-30", None),
        ("明年", None),
        ("", None),
        (None, None),
    ],
)
def test_deadlines_as_offices_write_them(text: object, day: dt.date | None) -> None:
    assert parse_deadline(text) == day


def test_export_has_the_columns_and_hidden_ids(departments: Session, plan_id: int) -> None:
    sheet = workbook(departments, plan_id)["分工方案"]
    assert [c.value for c in sheet[2]] == [
        "序号",
        "任务",
        "牵头单位",
        "配合单位",
        "完成时限",
        "备注",
        "任务编号",
        "版本",
    ]
    assert sheet.column_dimensions["G"].hidden and sheet.column_dimensions["H"].hidden
    ids = task_ids(departments, plan_id)
    rows = [[c.value for c in line] for line in sheet.iter_rows(min_row=3)]
    assert [r[6] for r in rows] == ids and [r[0] for r in rows] == [1, 2, 3]
    assert rows[1][2:4] == ["自治区林业和草原局", "自治区农牧厅"]
    assert rows[1][4] == dt.datetime(2026, 6, 30)
    assert rows[0][2] == "自治区生态环境厅" and "责任规则" in rows[0][5] and "env.air" in rows[0][5]
    assert rows[0][4] == dt.datetime(2027, 12, 31) and "默认时限" in rows[0][5]


def test_round_trip_edit_a_cell_and_the_task_follows(departments: Session, plan_id: int) -> None:
    book = workbook(departments, plan_id)
    sheet = book["分工方案"]
    sheet["C3"] = "自治区工业和信息化厅"
    sheet["E5"] = "2026年底"
    sheet["D4"] = "农牧厅，水利厅；自治区财政厅"
    result = import_division(departments, plan_id, save(book), "分工方案.xlsx", actor_label="办公室")
    air, grass, sewage = task_ids(departments, plan_id)
    assert (
        sorted(result.changed) == [air, grass, sewage]
        and result.unchanged == 0
        and len(result.event_ids) == 3
    )
    assert codes(departments, air, "lead") == ["gxt"]
    assert codes(departments, grass, "cooperating") == ["nmt", "slt", "czt"]
    task = departments.get(Task, sewage)
    assert task is not None and task.deadline == dt.date(2026, 12, 31) and task.deadline_source == "office"
    events = departments.exec(
        select(TaskEvent).where(TaskEvent.kind == "edit").order_by(col(TaskEvent.id))
    ).all()
    assert [e.data["via"] for e in events] == ["division"] * 3
    assert events[0].data["row"] == 3 and events[0].data["before"]["lead"] == ["sthjt"]
    again = import_division(departments, plan_id, save(workbook(departments, plan_id)), "分工方案.xlsx")
    assert again.changed == [] and again.unchanged == 3


def test_csv_round_trip(departments: Session, plan_id: int) -> None:
    _, rows = division_rows(departments, plan_id)
    data = to_csv(rows)
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    table[1][2] = "自治区水利厅、自治区林草局"
    out = io.StringIO()
    csv.writer(out).writerows(table)
    result = import_division(departments, plan_id, out.getvalue().encode("gb18030"), "分工方案.csv")
    air = task_ids(departments, plan_id)[0]
    assert result.changed == [air] and codes(departments, air, "lead") == ["slt", "lcj"]


def test_every_error_is_listed_by_row_and_column_and_nothing_is_applied(
    departments: Session, plan_id: int
) -> None:
    book = workbook(departments, plan_id)
    sheet = book["分工方案"]
    sheet["C3"] = "自治区生态环保厅"
    sheet["D4"] = "农牧厅、不存在的委员会"
    sheet["E5"] = "明年年中"
    sheet["C5"] = "自治区住房城乡建设厅"
    with pytest.raises(DivisionImportInvalid) as caught:
        import_division(departments, plan_id, save(book), "x.xlsx")
    assert problems(caught) == [(3, "牵头单位"), (4, "配合单位"), (5, "完成时限")]
    first = caught.value.extra["errors"][0]
    assert first["column_letter"] == "C" and first["value"] == "自治区生态环保厅"
    assert "自治区生态环境厅" in first["suggestions"] and "自治区生态环境厅" in first["message_zh"]
    assert departments.exec(select(TaskEvent).where(TaskEvent.kind == "edit")).all() == []
    assert codes(departments, task_ids(departments, plan_id)[2], "lead") == ["zjt"]


def test_a_changed_row_count_and_missing_ids_are_errors(departments: Session, plan_id: int) -> None:
    book = workbook(departments, plan_id)
    sheet = book["分工方案"]
    sheet.append([4, "新增任务", "自治区水利厅", "", "2026-12-31", "", None, None])
    sheet["G4"] = None
    with pytest.raises(DivisionImportInvalid) as caught:
        import_division(departments, plan_id, save(book), "x.xlsx")
    assert problems(caught) == [(None, None), (4, "任务编号"), (6, "任务编号")]
    assert caught.value.extra["errors"][0]["code"] == "row_count"
    book = workbook(departments, plan_id)
    book["分工方案"].delete_rows(5)
    with pytest.raises(DivisionImportInvalid) as fewer:
        import_division(departments, plan_id, save(book), "x.xlsx")
    assert problems(fewer) == [(None, None)]


def test_foreign_and_repeated_ids_are_errors(departments: Session, plan_id: int) -> None:
    book = workbook(departments, plan_id)
    sheet = book["分工方案"]
    sheet["G4"] = sheet["G3"].value
    sheet["G5"] = 999999
    with pytest.raises(DivisionImportInvalid) as caught:
        import_division(departments, plan_id, save(book), "x.xlsx")
    assert problems(caught) == [(4, "任务编号"), (5, "任务编号")]


def test_issued_tasks_and_stale_rows_cannot_change(departments: Session, plan_id: int) -> None:
    book = workbook(departments, plan_id)
    air, grass, _ = task_ids(departments, plan_id)
    apply_action(departments, air, "issue", Actor(role=Role.office))
    from duban.tasks.review import TaskEdit, edit_task

    edit_task(departments, TaskEdit(grass, deadline=dt.date(2026, 9, 30)))
    sheet = book["分工方案"]
    sheet["C3"] = "自治区水利厅"
    sheet["C4"] = "自治区农牧厅"
    with pytest.raises(DivisionImportInvalid) as caught:
        import_division(departments, plan_id, save(book), "x.xlsx")
    assert [(e["row"], e["code"]) for e in caught.value.extra["errors"]] == [
        (3, "not_draft"),
        (4, "stale_version"),
    ]
    # an issued task's unchanged row is fine
    fresh = workbook(departments, plan_id)
    assert import_division(departments, plan_id, save(fresh), "x.xlsx").changed == []


def test_unreadable_files_are_refused_clearly(departments: Session, plan_id: int) -> None:
    for data, name in ((b"", "x.csv"), (b"PK\x03\x04garbage", "x.xlsx"), (b"a,b\n1,2\n", "x.csv")):
        with pytest.raises(DivisionImportInvalid):
            import_division(departments, plan_id, data, name)
    rows, positions = read_division(to_csv(division_rows(departments, plan_id)[1]), "x.csv")
    assert len(rows) == 3 and positions["牵头单位"] == 2 and rows[0].number == 2
