"""Importing an edited 分工方案: validate every row and cell first, then write every change, or nothing.

Checks: the header; one row per task of the plan (row count, ids present, known, of this plan, once each);
department names known to the registry (unknown ones come with the closest registry names); dates
readable (2026-12-31, 2026/12/31, 2026年12月31日, 2026年底 …); a changed row must be a draft task whose
version is the exported one. Each problem names its spreadsheet row and column; one 422 lists them all.
Each changed row becomes an audited "edit" event (via "division") and the assignments' source "office".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from duban.tasks.division.dates import parse_deadline
from duban.tasks.division.reading import SheetRow, cell_text, column_letter, read_division
from duban.tasks.enums import AssignmentRole
from duban.tasks.errors import DivisionImportInvalid, NotFoundError, TasksError
from duban.tasks.models import Plan, Task
from duban.tasks.review.departments import DepartmentIndex, split_names
from duban.tasks.review.edits import PlannedEdit, TaskEdit, holders, plan_edit, write_edit

IMPORT_REASON = "分工方案导入 / division import"


@dataclass
class DivisionImportResult:
    """What an import changed."""

    plan_id: int
    rows: int
    changed: list[int] = field(default_factory=list)
    unchanged: int = 0
    event_ids: list[int] = field(default_factory=list)


class _Errors:
    def __init__(self, positions: dict[str, int]) -> None:
        self.items: list[dict[str, Any]] = []
        self.positions = positions

    def add(self, row: int | None, column: str | None, zh: str, en: str, **extra: Any) -> None:
        item: dict[str, Any] = {
            "row": row,
            "column": column,
            "column_letter": column_letter(column, self.positions) if column else None,
            "message_zh": zh,
            "message_en": en,
        }
        item.update(extra)
        self.items.append(item)


def _departments(
    row: SheetRow, column: str, index: DepartmentIndex, errors: _Errors
) -> tuple[list[str], list[str]] | None:
    """(names as written, codes) of a cell; unknown names are reported with suggestions (None then)."""
    names = split_names(cell_text(row.cells.get(column)))
    codes: list[str] = []
    ok = True
    for name in names:
        code = index.lookup(name)
        if code is None:
            ok = False
            close = index.suggestions(name)
            errors.add(
                row.number,
                column,
                f"第 {row.number} 行“{column}”：名录中没有“{name}”"
                + (f"，是否为：{'、'.join(close)}" if close else ""),
                f"row {row.number}, {column_letter(column, errors.positions)}: unknown department",
                value=name,
                suggestions=close,
            )
        elif code not in codes:
            codes.append(code)
    return (names, codes) if ok else None


def _task_id(row: SheetRow, errors: _Errors) -> int | None:
    raw = cell_text(row.cells.get("任务编号"))
    if not raw:
        errors.add(
            row.number, "任务编号", f"第 {row.number} 行缺少任务编号", f"row {row.number}: task id missing"
        )
        return None
    try:
        return int(raw)
    except ValueError:
        errors.add(
            row.number,
            "任务编号",
            f"第 {row.number} 行的任务编号不是数字",
            f"row {row.number}: bad task id",
            value=raw,
        )
        return None


def _check_row(
    row: SheetRow,
    task: Task,
    before: dict[AssignmentRole, list[str]],
    index: DepartmentIndex,
    errors: _Errors,
) -> PlannedEdit | None:
    """The row's edit if it changes the task and every cell is valid; errors are collected."""
    start = len(errors.items)
    lead = _departments(row, "牵头单位", index, errors)
    cooperating = _departments(row, "配合单位", index, errors)
    if lead is not None and not lead[1]:
        errors.add(row.number, "牵头单位", f"第 {row.number} 行未填牵头单位", f"row {row.number}: no lead")
    raw_deadline = row.cells.get("完成时限")
    deadline = parse_deadline(raw_deadline)
    if deadline is None:
        errors.add(
            row.number,
            "完成时限",
            f"第 {row.number} 行的完成时限“{cell_text(raw_deadline)}”无法识别"
            "（可写 2026-12-31、2026/12/31、2026年12月31日 或 2026年底）",
            f"row {row.number}: unreadable deadline (use 2026-12-31, 2026/12/31, 2026年12月31日 or 2026年底)",
            value=cell_text(raw_deadline),
        )
    if len(errors.items) > start or lead is None or cooperating is None or deadline is None:
        return None
    changed_columns = [
        name
        for name, differs in (
            ("牵头单位", lead[1] != before[AssignmentRole.lead]),
            ("配合单位", cooperating[1] != before[AssignmentRole.cooperating]),
            ("完成时限", deadline != task.deadline),
        )
        if differs
    ]
    if not changed_columns:
        return None
    version_text = cell_text(row.cells.get("版本"))
    edit = TaskEdit(
        task_id=task.id or 0,
        lead=lead[1],
        # an untouched cooperating cell follows the new lead (a new lead leaves it), as in a PATCH
        cooperating=cooperating[1] if "配合单位" in changed_columns else None,
        deadline=deadline,
        expected_version=int(version_text) if version_text.isdigit() else None,
    )
    try:
        return plan_edit(task, edit, before, index)
    except TasksError as error:
        column = "完成时限" if error.code == "bad_date" else changed_columns[0]
        errors.add(
            row.number,
            column,
            f"第 {row.number} 行：{error.message_zh}",
            f"row {row.number}: {error.message_en}",
            code=error.code,
        )
        return None


def import_division(
    session: Session,
    plan_id: int,
    data: bytes,
    filename: str | None = None,
    *,
    actor_user_id: int | None = None,
    actor_label: str = "委员会办公室 / office",
) -> DivisionImportResult:
    """Apply an edited 分工方案 to the plan's tasks; DivisionImportInvalid lists every problem."""
    if session.get(Plan, plan_id) is None:
        raise NotFoundError(f"规划 {plan_id} 不存在", f"Plan {plan_id} does not exist")
    rows, positions = read_division(data, filename)
    errors = _Errors(positions)
    tasks = {
        t.id: t
        for t in session.exec(
            select(Task).where(Task.plan_id == plan_id).execution_options(populate_existing=True)
        ).all()
    }
    if len(rows) != len(tasks):
        errors.add(
            None,
            None,
            f"行数已改变：文件有 {len(rows)} 行任务，规划有 {len(tasks)} 项任务（不要增删行）",
            f"row count changed: the file has {len(rows)} task rows, the plan {len(tasks)} tasks",
            code="row_count",
        )
    index = DepartmentIndex(session)
    before = holders(session, [i for i in tasks if i is not None], index)
    seen: dict[int, int] = {}
    planned: list[tuple[SheetRow, PlannedEdit]] = []
    for row in rows:
        task_id = _task_id(row, errors)
        if task_id is None:
            continue
        if task_id in seen:
            errors.add(
                row.number,
                "任务编号",
                f"第 {row.number} 行的任务编号 {task_id} 与第 {seen[task_id]} 行重复",
                f"row {row.number}: task {task_id} repeats row {seen[task_id]}",
            )
            continue
        seen[task_id] = row.number
        task = tasks.get(task_id)
        if task is None:
            errors.add(
                row.number,
                "任务编号",
                f"第 {row.number} 行的任务编号 {task_id} 不属于此规划",
                f"row {row.number}: task {task_id} is not in this plan",
            )
            continue
        edit = _check_row(row, task, before[task_id], index, errors)
        if edit is not None:
            planned.append((row, edit))
    if errors.items:
        raise DivisionImportInvalid(
            f"分工方案有 {len(errors.items)} 处错误，未作任何修改",
            f"The division file has {len(errors.items)} problems; nothing was changed",
            errors=errors.items,
        )
    result = DivisionImportResult(plan_id=plan_id, rows=len(rows))
    for row, edit in planned:
        outcome = write_edit(
            session,
            edit,
            index,
            actor_user_id=actor_user_id,
            actor_label=actor_label,
            via="division",
            reason=IMPORT_REASON,
            extra={"row": row.number, "remark": cell_text(row.cells.get("备注"))},
        )
        result.changed.append(outcome.task_id)
        if outcome.event_id is not None:
            result.event_ids.append(outcome.event_id)
    result.unchanged = len(rows) - len(result.changed)
    return result
