"""Reading an edited 分工方案 (XLSX or CSV) back into rows, with their spreadsheet row numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from duban.tasks.division.sheet import HEADERS, HIDDEN, VISIBLE
from duban.tasks.errors import DivisionImportInvalid

HEADER_SCAN = 10  # the header may sit under a title line or two


@dataclass(frozen=True)
class SheetRow:
    """A data row of the file: its 1-based row number and its cells by header."""

    number: int
    cells: dict[str, Any]


def column_letter(header: str, positions: dict[str, int]) -> str:
    """The spreadsheet letter of a header's column ("C" for 牵头单位 in the exported layout)."""
    index = positions.get(header, HEADERS.index(header))
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _invalid(message_zh: str, message_en: str, row: int | None = None) -> DivisionImportInvalid:
    return DivisionImportInvalid(
        f"分工方案无法读取：{message_zh}",
        f"The division file cannot be read: {message_en}",
        errors=[{"row": row, "column": None, "message_zh": message_zh, "message_en": message_en}],
    )


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _invalid("不是有效的 XLSX 文件", f"not a valid XLSX workbook ({type(exc).__name__})") from exc
    try:
        sheet = book["分工方案"] if "分工方案" in book.sheetnames else book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _csv_rows(data: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _invalid(
            "CSV 文件编码无法识别（应为 UTF-8 或 GB18030）", "the CSV is neither UTF-8 nor GB18030"
        )
    try:
        return [list(row) for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise _invalid(f"CSV 格式错误：{exc}", f"malformed CSV: {exc}") from exc


def is_xlsx(data: bytes, filename: str | None) -> bool:
    """Whether the upload is a workbook (by its zip signature, else by its name)."""
    return data[:4] == b"PK\x03\x04" or bool(filename and filename.lower().endswith(".xlsx"))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_division(data: bytes, filename: str | None = None) -> tuple[list[SheetRow], dict[str, int]]:
    """The data rows of an edited 分工方案 and the column of each header (0-based)."""
    if not data:
        raise _invalid("文件为空", "the file is empty")
    table = _xlsx_rows(data) if is_xlsx(data, filename) else _csv_rows(data)
    header_at = None
    for index, line in enumerate(table[:HEADER_SCAN]):
        texts = [str(cell).strip() if cell is not None else "" for cell in line]
        if "牵头单位" in texts and "任务编号" in texts:
            header_at = index
            break
    if header_at is None:
        raise _invalid(
            f"找不到表头（应包含 {' | '.join(VISIBLE + HIDDEN[:1])}）",
            "no header row (with the lead and task-id columns) in the first 10 rows",
        )
    header = [str(cell).strip() if cell is not None else "" for cell in table[header_at]]
    positions = {name: header.index(name) for name in HEADERS if name in header}
    missing = [name for name in VISIBLE + HIDDEN[:1] if name not in positions]
    if missing:
        raise _invalid(
            f"表头缺少列：{'、'.join(missing)}", f"the header lacks {len(missing)} columns", row=header_at + 1
        )
    rows = []
    for offset, line in enumerate(table[header_at + 1 :], start=header_at + 2):
        cells = {
            name: (line[position] if position < len(line) else None) for name, position in positions.items()
        }
        if all(_blank(value) for value in cells.values()):
            continue
        rows.append(SheetRow(offset, cells))
    return rows, positions


def cell_text(value: Any) -> str:
    """A cell as text (numbers without a trailing .0, dates in ISO form)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value).strip()
