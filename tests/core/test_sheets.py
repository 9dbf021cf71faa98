"""Spreadsheet output: no formula from document text, CSV that spreadsheet programs read."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from duban.core.sheets import as_text, csv_bytes


def test_csv_has_a_bom_crlf_lines_and_quotes_formula_like_text() -> None:
    data = csv_bytes(["任务", "数"], [["=1+1", -3], ["-开头的措施", 5], ["正常", 0]])
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert text.split("\r\n")[:4] == ["任务,数", "'=1+1,-3", "'-开头的措施,5", "正常,0"]


def test_a_cell_with_formula_like_text_stays_text() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["=1+1", "普通"])
    for cell in sheet[1]:
        as_text(cell)
    out = io.BytesIO()
    book.save(out)
    read = load_workbook(io.BytesIO(out.getvalue())).active
    assert read is not None
    assert [c.value for c in read[1]] == ["=1+1", "普通"]
    assert read["A1"].data_type == "s"
