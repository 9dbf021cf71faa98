"""What the two Word builders share: a run's fonts (公文: Times New Roman and an East Asian face) and the
centred "— N —" page-number field of the footer."""

from __future__ import annotations

from typing import Any

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt


def run_font(run: Any, east: str, size: float, bold: bool = False) -> None:
    """Times New Roman with the East Asian face `east`, at `size` points."""
    run.font.name = "Times New Roman"
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), east)
    run.font.size = Pt(size)
    run.bold = bold


def page_number_footer(section: Any, size: float) -> None:
    """A centred "— N —" footer with a PAGE field, as 公文 print their page numbers."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run_font(p.add_run("— "), "宋体", size)
    r = p.add_run()
    run_font(r, "宋体", size)
    for kind, val in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None)):
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = val
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = val
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        r._r.append(el)
    run_font(p.add_run(" —"), "宋体", size)
