"""The 台账 (ledger) as the office keeps it: 序号 | 任务 | 牵头单位 | 配合单位 | 完成时限 | 状态 | 督办级别 |
最近进展 | 逾期工作日, as XLSX or CSV, read through the board's query (same filters, streamed in chunks)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from sqlmodel import Session

from duban.core import clock
from duban.core.sheets import as_text, csv_bytes
from duban.workflow.board import BoardFilter, BoardRow, board_stream
from duban.workflow.calendar import WorkingCalendar

SHEET_TITLE: Final = "督办台账"
HEADERS: Final = (
    "序号",
    "任务",
    "牵头单位",
    "配合单位",
    "完成时限",
    "状态",
    "督办级别",
    "最近进展",
    "逾期工作日",
)
WIDTHS: Final = (6, 50, 26, 36, 12, 10, 12, 50, 10)
NAME_SEPARATOR: Final = "、"
REPORT_CHARS: Final = 200


@dataclass(frozen=True)
class LedgerRow:
    """One line of the 台账."""

    number: int
    task_id: int
    title: str
    lead: str
    cooperating: str
    deadline: dt.date | None
    state: str
    level: str
    last_report: str
    working_days_overdue: int | None

    def cells(self) -> list[object]:
        """The row's values in column order."""
        return [
            self.number,
            self.title,
            self.lead,
            self.cooperating,
            self.deadline,
            self.state,
            self.level,
            self.last_report,
            self.working_days_overdue,
        ]


def _report_text(row: BoardRow) -> str:
    report = row.last_report
    if report is None:
        return ""
    day = report.at.astimezone(clock.TZ).date().isoformat()
    percent = f"（{report.percent}%）" if report.percent is not None else ""
    text = " ".join(report.text.split())
    if len(text) > REPORT_CHARS:
        text = text[: REPORT_CHARS - 1] + "…"
    return f"{day}{percent}{text}"


def ledger_rows(session: Session, flt: BoardFilter, calendar: WorkingCalendar) -> Iterator[LedgerRow]:
    """The 台账 lines matching the filter, numbered from 1 in the board's order."""
    number = 0
    for chunk in board_stream(session, flt, calendar):
        for row in chunk:
            number += 1
            yield LedgerRow(
                number=number,
                task_id=row.id,
                title=row.title,
                lead=NAME_SEPARATOR.join(name for _, name in row.lead),
                cooperating=NAME_SEPARATOR.join(name for _, name in row.cooperating),
                deadline=row.deadline,
                state=row.state.label,
                level=row.rung.label,
                last_report=_report_text(row),
                working_days_overdue=row.working_days_overdue or None,
            )


def _cell(sheet: object, value: object, *, bold: bool = False, date: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    as_text(cell)  # text from a report or a title is never a formula
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    if bold:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center")
    if date:
        cell.number_format = "yyyy-mm-dd"
    return cell


def to_xlsx(rows: Iterator[LedgerRow], title: str) -> bytes:
    """The 台账 workbook (written row by row): a title line, the header, one row per task."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A3"
    heading = WriteOnlyCell(sheet, value=title)
    heading.font = Font(bold=True, size=14)
    sheet.append([heading])
    sheet.append([_cell(sheet, header, bold=True) for header in HEADERS])
    for row in rows:
        sheet.append([_cell(sheet, value, date=index == 4) for index, value in enumerate(row.cells())])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(rows: Iterator[LedgerRow]) -> bytes:
    """The 台账 as UTF-8 CSV with a byte-order mark (so spreadsheet programs read the Chinese)."""
    return csv_bytes(HEADERS, (_csv_cells(row) for row in rows))


def _csv_cells(row: LedgerRow) -> list[object]:
    cells = row.cells()
    cells[4] = row.deadline.isoformat() if row.deadline else ""
    cells[8] = "" if row.working_days_overdue is None else row.working_days_overdue
    return cells


def ledger_title(today: dt.date, scope: str = "") -> str:
    """The workbook's title line."""
    return f"督办台账{('（' + scope + '）') if scope else ''}（截至 {today.isoformat()}）"
