"""Excel .xlsx files (分工表): each worksheet's rows as tab-separated lines, sheets parted by a blank line.

Every column up to the sheet's last used one is kept, an empty cell as an empty string, so a header row
and its data rows line up; a range merged down repeats its value in every row it covers (one lead for
several tasks), one merged across only has it once; a row with text in its first cell only (a title or
category row) is an ordinary line; empty rows are left out. Formulas give their cached values
(``data_only``): a file saved by Excel or WPS has them. Dates are written the Chinese way (2023年6月30日)
so the deadline reader finds them; whole numbers lose their ".0".
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from duban.tasks.parser.files_common import join_cell_lines, reject
from duban.tasks.parser.model import ParseError

# A 5 MB upload can still unpack to millions of cells; past this many the file is not a task table.
MAX_CELLS = 2_000_000


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    if isinstance(value, dt.datetime):
        return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return join_cell_lines(str(value).replace("\t", " ").splitlines())


def _sheet_lines(rows: Iterable[tuple[Any, ...]], budget: list[int]) -> list[str]:
    """The non-empty rows of one sheet, padded to the sheet's last used column."""
    table: list[list[str]] = []
    for row in rows:
        budget[0] -= len(row)
        if budget[0] < 0:
            raise reject(
                f"Excel 表格过大（超过 {MAX_CELLS} 个单元格），请只保留分工表后再导入",
                f"the spreadsheet is too large (over {MAX_CELLS} cells); import only the task table",
                "spreadsheet_too_large",
            )
        cells = [_value_text(value) for value in row]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            table.append(cells)
    width = max((len(cells) for cells in table), default=0)
    # A row with text in its first cell only is a title or a category row: an ordinary line.
    return ["\t".join(cells + [""] * (width - len(cells))) if len(cells) > 1 else cells[0] for cells in table]


def _filled_down(sheet: Any) -> list[tuple[Any, ...]]:
    """The sheet's values; a range merged down repeats its value in every row it covers (first column)."""
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        if merged.max_row == merged.min_row:
            continue  # merged across only: a title or a wide cell, its value once
        column = merged.min_col - 1
        value = rows[merged.min_row - 1][column] if merged.min_row - 1 < len(rows) else None
        for index in range(merged.min_row, min(merged.max_row, len(rows))):
            if column < len(rows[index]):
                rows[index][column] = value
    return [tuple(row) for row in rows]


def xlsx_text(data: bytes) -> str:
    """The text of an .xlsx workbook, sheet by sheet; ParseError ``bad_xlsx`` when it cannot be read."""
    import openpyxl  # imported lazily: most inputs are plain text

    sheets: list[str] = []
    budget = [MAX_CELLS]
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
        try:
            for sheet in workbook.worksheets:
                lines = _sheet_lines(_filled_down(sheet), budget)
                if lines:
                    sheets.append("\n".join(lines))
        finally:
            workbook.close()
    except ParseError:
        raise
    except Exception as error:  # openpyxl raises many kinds on damaged files (KeyError, ValueError, lxml)
        raise reject(
            "无法读取该 Excel 表格：文件已损坏或不是 .xlsx",
            f"cannot read the spreadsheet: it is damaged or not an .xlsx ({type(error).__name__})",
            "bad_xlsx",
        ) from error
    return "\n\n".join(sheets)
