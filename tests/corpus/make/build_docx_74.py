#!/usr/bin/env python3
"""Build 74_guangzhou-rencai-jiju.docx from the plain text of corpus document 60.

One .txt line = one Word paragraph. The leading full-width indentation '　　' of a line is
replaced by a two-character first-line indent (as a typist would set it); the rest of the
text is unchanged. The numbered headings 一、… are set in 黑体, the group lead-ins （一）… in
楷体, items in 仿宋_GB2312 16 pt; the inline item title before the first '。' is a separate
bold run, so the paragraph is split into runs at that point. A4, PAGE field in the footer.
The source has no task table, so the docx has none.

Run (from tests/corpus/):  /work/main/.venv/bin/python make/build_docx_74.py
"""

import re
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.shared import Cm, Pt
from docx_common import page_number_footer, run_font

HERE = Path(__file__).resolve().parent.parent
SRC = HERE / "60_guangzhou-rencai-jiju.txt"
OUT = HERE / "74_guangzhou-rencai-jiju.docx"

BODY, HEI, KAI, TITLE = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体"


def para(doc: Any, runs: Any, align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = True) -> Any:
    """runs: list of (text, east_asian_font, size, bold)."""
    p = doc.add_paragraph()
    p.alignment = align
    f = p.paragraph_format
    f.first_line_indent = Pt(32) if indent else Pt(0)
    f.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    f.line_spacing = Pt(28.95)
    f.space_before = Pt(0)
    f.space_after = Pt(0)
    for text, east, size, bold in runs:
        run_font(p.add_run(text), east, size, bold)
    return p


def main() -> None:
    lines = [line for line in SRC.read_text(encoding="utf-8").splitlines() if line.strip()]
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin, sec.bottom_margin = Cm(3.7), Cm(3.5)
    sec.left_margin, sec.right_margin = Cm(2.8), Cm(2.6)
    page_number_footer(sec, 14)
    doc.core_properties.title = lines[0]
    for i, raw in enumerate(lines):
        line = raw.lstrip("　")
        if i == 0:
            para(doc, [(line, TITLE, 22, False)], WD_ALIGN_PARAGRAPH.CENTER, indent=False)
        elif re.match(r"^[一二三四五六七八九十]+、", line):
            para(doc, [(line, HEI, 16, False)])
        elif re.match(r"^（[一二三四五六七八九十]+）", line):
            para(doc, [(line, KAI, 16, True)])
        else:
            m = re.match(r"^(\d+\.)([^。]+。)(.*)$", line)
            if m:
                para(doc, [(m.group(1) + m.group(2), BODY, 16, True), (m.group(3), BODY, 16, False)])
            else:
                para(doc, [(line, BODY, 16, False)])
    doc.save(str(OUT))
    print(OUT, len(lines), "paragraphs")


if __name__ == "__main__":
    main()
