"""The Word writer: the document model as .docx in the 公文 layout, for editing in WPS or Word. It names the
offices' standard fonts (仿宋_GB2312, 黑体, 楷体_GB2312, 方正小标宋简体): the machines that edit it
have them; the server needs none."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, Final

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from duban.workflow.paperwork.model import RED, Heading, Paper, Paragraph, Table, chinese_date

BODY: Final = "仿宋_GB2312"
HEADING: Final = "黑体"
KAI: Final = "楷体_GB2312"
TITLE: Final = "方正小标宋简体"
LINE: Final = Pt(28.95)  # 22 lines to the 版心 (GB/T 9704)


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


def _run(paragraph: Any, text: str, font: str, size: float, colour: str | None = None) -> Any:
    run = paragraph.add_run(text)
    run.font.name = font
    run.font.size = Pt(size)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if colour:
        run.font.color.rgb = _rgb(colour)
    return run


def _paragraph(
    doc: Any, align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = False, exact: bool = True
) -> Any:
    paragraph = doc.add_paragraph()
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = LINE
    if indent:
        fmt.first_line_indent = Pt(32)  # two characters of 3号 (16 pt)
    return paragraph


def _red_line(paragraph: Any) -> None:
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "16"), ("w:space", "4"), ("w:color", RED.lstrip("#"))):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _page(doc: Any, paper: Paper, first: bool) -> None:
    section = doc.sections[0] if first else doc.add_section(WD_SECTION.NEW_PAGE)
    width, height = Cm(21.0), Cm(29.7)
    if paper.landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = height, width
        section.top_margin, section.bottom_margin = Cm(2.8), Cm(2.6)
        section.left_margin, section.right_margin = Cm(3.7), Cm(3.5)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = width, height
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)


def _table(doc: Any, table: Table, text_width: float) -> None:
    if table.caption:
        _run(_paragraph(doc, WD_ALIGN_PARAGRAPH.CENTER), table.caption, HEADING, 14)
    size = 10.5 if table.small else 12
    columns = len(table.headers) or len(table.rows[0])
    grid = doc.add_table(rows=1 if table.headers else 0, cols=columns)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    total = sum(table.widths) or 1.0
    widths = [Cm(text_width * w / total) for w in table.widths]
    for row in table.rows:
        cells = grid.add_row().cells
        for index, (cell, text, width) in enumerate(zip(cells, row, widths, strict=True)):
            cell.width = width
            para = cell.paragraphs[0]
            if index in table.numeric:
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(para, text, HEADING if index in table.keys else BODY, size)
    if not table.headers:
        return
    header = grid.rows[0]
    header_pr = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
    repeat.set(qn("w:val"), "true")
    header_pr.append(repeat)
    for cell, text, width in zip(header.cells, table.headers, widths, strict=True):
        cell.width = width
        para = cell.paragraphs[0]
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(para, text, HEADING, size)


def to_docx(papers: Sequence[Paper]) -> bytes:
    """The papers as one .docx (each paper its own section, starting on a new page)."""
    doc = Document()
    for index, paper in enumerate(papers):
        _page(doc, paper, first=index == 0)
        text_width = (29.7 - 3.7 - 3.5) if paper.landscape else (21.0 - 2.8 - 2.6)
        issuer = _paragraph(doc, WD_ALIGN_PARAGRAPH.CENTER, exact=False)
        _run(issuer, paper.issuer, TITLE, 26, RED)
        serial = _paragraph(doc, WD_ALIGN_PARAGRAPH.CENTER)
        if paper.serial:
            _run(serial, paper.serial, BODY, 16)
        _red_line(serial)
        _paragraph(doc)
        title = _paragraph(doc, WD_ALIGN_PARAGRAPH.CENTER, exact=False)
        _run(title, paper.title, TITLE, 22, paper.title_colour)
        _paragraph(doc)
        if paper.addressee:
            _run(_paragraph(doc), f"{paper.addressee}：", BODY, 16)
        for block in paper.blocks:
            if isinstance(block, Heading):
                _run(_paragraph(doc, indent=True), block.text, HEADING if block.level <= 1 else KAI, 16)
            elif isinstance(block, Paragraph):
                _run(_paragraph(doc, indent=block.indent), block.text, BODY, 16)
            else:
                _table(doc, block, text_width)
        if paper.signature:
            _paragraph(doc)  # the seal's top sits within a line of the body, pressed over 署名 and date
            for line in (paper.signature, chinese_date(paper.date)):
                para = _paragraph(doc, WD_ALIGN_PARAGRAPH.RIGHT)
                para.paragraph_format.right_indent = Pt(64)  # 右空四字
                _run(para, line, BODY, 16)
        for note in paper.notes:
            _run(_paragraph(doc, exact=False), note, BODY, 12)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
