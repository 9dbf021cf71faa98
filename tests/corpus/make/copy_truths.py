#!/usr/bin/env python3
"""Write the truth files of the two Word files as copies of their source documents' truths.

73_*.docx is document 68 as a real Word table (make/build_docx_73.py);
74_*.docx is document 60 as Word paragraphs (make/build_docx_74.py).
Measures, units and deadlines are identical to the source truth; only id/file and a note change.
Run from tests/corpus/:  python3 make/copy_truths.py
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
PAIRS = [
    (
        "68_shicheng-hezhang-kaohe",
        "73_shicheng-hezhang-kaohe",
        ".docx",
        "Word rendering of document 68 (make/build_docx_73.py): the caption is a centred paragraph; the rubric is ONE real "
        "Word table (5 columns, header row repeated on each page, section rows bold), one row per .txt line with the cell "
        "text unchanged, except that a department cell listing several departments holds one paragraph per department "
        "(python-docx cell.text joins them with '\\n' where the .txt has '、'). Unit names, titles (考核项目 cells) and "
        "first_chars (start of the 考核指标 cells) are unchanged. A4 landscape, PAGE field in the footer.",
    ),
    (
        "60_guangzhou-rencai-jiju",
        "74_guangzhou-rencai-jiju",
        ".docx",
        "Word rendering of document 60 (make/build_docx_74.py): every line of the .txt is one paragraph; the leading "
        "full-width indentation '　　' is replaced by a first-line indent (paragraph text otherwise unchanged); 一、 "
        "headings 黑体, （一） lead-ins 楷体 bold, items 仿宋_GB2312 with the label and inline title in a separate bold run; "
        "PAGE field in the footer. The source has no table, so the docx has none. Measures, first_chars and annotations "
        "are unchanged.",
    ),
]
for src, dst, ext, note in PAIRS:
    d = json.loads((HERE / f"{src}.truth.json").read_text(encoding="utf-8"))
    d["id"] = dst
    d["file"] = dst + ext
    d["derived_from"] = src
    d["format_note"] = note
    (HERE / f"{dst}.truth.json").write_text(
        json.dumps(d, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(dst, len(d["measures"]), "measures")
