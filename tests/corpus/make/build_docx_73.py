#!/usr/bin/env python3
"""Build 73_shicheng-hezhang-kaohe.docx from the plain text of corpus document 68.

Document 68 is a county 河长制 assessment rubric that the source publishes as an HTML table.
Here it becomes a real Word table: the caption is a centred title paragraph, then one table
with the header row (序号 / 考核项目 / 各项分值 / 考核指标 / 负责考核部门, repeated on every
page) and one Word row per .txt line, cell text unchanged. Two things imitate the source
layout: a department cell that lists several departments ('县委宣传部、县教育局、县河长办' in
the .txt) is written as one paragraph per department inside the cell, as the source cell has
one <p> per department; section rows (一、 … 六、) are bold. A4 landscape, 仿宋_GB2312 12 pt in
the table, PAGE field in the footer.

Run (from tests/corpus/):  /work/main/.venv/bin/python make/build_docx_73.py
"""

from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx_common import page_number_footer, run_font

HERE = Path(__file__).resolve().parent.parent
SRC = HERE / "68_shicheng-hezhang-kaohe.txt"
OUT = HERE / "73_shicheng-hezhang-kaohe.docx"

BODY, HEI, TITLE = "仿宋_GB2312", "黑体", "方正小标宋简体"
WIDTHS = [Cm(1.6), Cm(5.2), Cm(1.8), Cm(12.0), Cm(3.6)]


def set_cell(
    cell: Any, paragraphs: list[str], bold: bool = False, center: bool = False, east: str = BODY
) -> None:
    cell.text = ""
    first = True
    for text in paragraphs:
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.LEFT
        p.paragraph_format.space_before = Pt(0)
        p.paragraph_format.space_after = Pt(0)
        if text:
            run_font(p.add_run(text), east, 12, bold)


def repeat_header(row: Any) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def main() -> None:
    lines = SRC.read_text(encoding="utf-8").splitlines()
    caption, rows = lines[0], [line.split("\t") for line in lines[1:] if line]
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Cm(29.7), Cm(21.0)
    sec.top_margin = sec.bottom_margin = Cm(2.5)
    sec.left_margin = sec.right_margin = Cm(2.5)
    page_number_footer(sec, 12)
    doc.core_properties.title = caption
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run_font(p.add_run(caption), TITLE, 18)
    table = doc.add_table(rows=0, cols=5)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, cells in enumerate(rows):
        assert len(cells) == 5, cells
        row = table.add_row()
        header = r == 0
        section = cells[0].endswith("、")
        if header:
            repeat_header(row)
        for c, text in enumerate(cells):
            cell = row.cells[c]
            cell.width = WIDTHS[c]
            paras = text.split("、") if (c == 4 and not header and text) else [text]
            set_cell(
                cell,
                paras,
                bold=header or section,
                center=header or c in (0, 2),
                east=HEI if header else BODY,
            )
    doc.save(str(OUT))
    print(OUT, len(rows), "table rows")


if __name__ == "__main__":
    main()
