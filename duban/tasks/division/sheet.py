"""The 分工方案 as a table: 序号 | 任务 | 牵头单位 | 配合单位 | 完成时限 | 备注, plus the task id and version
(hidden columns in XLSX, trailing columns in CSV) that let an edited file find its tasks again."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlmodel import Session, col, select

from duban.core.sheets import as_text, csv_bytes
from duban.tasks.enums import AssignmentRole
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Plan, Task
from duban.tasks.plan_views import AssignedDepartment, task_briefs

SHEET_TITLE = "分工方案"
VISIBLE = ("序号", "任务", "牵头单位", "配合单位", "完成时限", "备注")
HIDDEN = ("任务编号", "版本")
HEADERS = VISIBLE + HIDDEN
NAME_SEPARATOR = "、"
WIDTHS = {"序号": 6, "任务": 48, "牵头单位": 28, "配合单位": 40, "完成时限": 14, "备注": 48}
_SOURCE_NOTES = {
    "explicit": "牵头单位为文件明确",
    "body": "牵头单位据正文表述",
    "rule": "牵头单位依据责任规则建议",
    "office": "牵头单位经办公室审定",
}


@dataclass(frozen=True)
class DivisionRow:
    """One task of the 分工方案."""

    number: int
    task_id: int
    version: int
    title: str
    lead: list[str]
    cooperating: list[str]
    deadline: dt.date | None
    remark: str


def _remark(task: Task, lead: list[AssignedDepartment]) -> str:
    notes: list[str] = []
    if lead:
        notes.append(_SOURCE_NOTES.get(lead[0].source, ""))
        rules = [e for e in lead[0].evidence if isinstance(e, dict) and e.get("kind") == "rule"]
        if rules:
            notes[-1] += f"（{', '.join(rules[0].get('rule_ids', []))}）"
    if task.deadline_source == "default":
        notes.append("完成时限为默认时限，文件未写明")
    if task.region_code:
        notes.append("按盟市拆分的子任务")
    return "；".join(n for n in notes if n)


def division_rows(session: Session, plan_id: int) -> tuple[Plan, list[DivisionRow]]:
    """The plan and its tasks as 分工方案 rows (each split task followed by its regional children)."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"规划 {plan_id} 不存在", f"Plan {plan_id} does not exist")
    tasks = list(
        session.exec(
            select(Task)
            .where(Task.plan_id == plan_id)
            .order_by(col(Task.id))
            .execution_options(populate_existing=True)
        ).all()
    )
    tasks.sort(key=lambda t: (t.parent_id or t.id or 0, t.parent_id is not None, t.id or 0))
    rows = []
    for number, (task, brief) in enumerate(zip(tasks, task_briefs(session, tasks), strict=True), start=1):
        assert task.id is not None
        rows.append(
            DivisionRow(
                number=number,
                task_id=task.id,
                version=task.version,
                title=task.title,
                lead=[d.name for d in brief.lead if d.role is AssignmentRole.lead],
                cooperating=[d.name for d in brief.cooperating],
                deadline=task.deadline,
                remark=_remark(task, brief.lead),
            )
        )
    return plan, rows


def _cells(row: DivisionRow) -> list[object]:
    return [
        row.number,
        row.title,
        NAME_SEPARATOR.join(row.lead),
        NAME_SEPARATOR.join(row.cooperating),
        row.deadline,
        row.remark,
        row.task_id,
        row.version,
    ]


def to_xlsx(plan: Plan, rows: list[DivisionRow]) -> bytes:
    """The 分工方案 workbook: a title line, the header, one row per task; id and version hidden."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_TITLE
    sheet.append([f"{plan.title}重点任务分工方案"])
    sheet["A1"].font = Font(bold=True, size=14)
    as_text(sheet["A1"])
    sheet.append(list(HEADERS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for row in rows:
        sheet.append(_cells(row))
    wrap = Alignment(wrap_text=True, vertical="top")
    for line in sheet.iter_rows(min_row=3):
        for cell in line:
            cell.alignment = wrap
            as_text(cell)  # a measure's text is never a formula
        line[4].number_format = "yyyy-mm-dd"
    for index, header in enumerate(HEADERS):
        letter = chr(ord("A") + index)
        if header in WIDTHS:
            sheet.column_dimensions[letter].width = WIDTHS[header]
        else:
            sheet.column_dimensions[letter].hidden = True
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(rows: list[DivisionRow]) -> bytes:
    """The 分工方案 as UTF-8 CSV with a byte-order mark (so spreadsheet programs read the Chinese)."""
    return csv_bytes(HEADERS, (_csv_cells(row) for row in rows))


def _csv_cells(row: DivisionRow) -> list[object]:
    cells = _cells(row)
    cells[4] = row.deadline.isoformat() if row.deadline else ""
    return cells
