"""Check the hand-written truths of this folder against their documents.

Every first_chars, title, annotation, deadline, milestone, role_phrase and every lead /
cooperating / guidance name must occur verbatim in the document text; first_chars must
be 20 characters long and appear in reading order; summary counts must match.
For .docx documents the text is the paragraphs and table rows (cells joined by tabs)
read with python-docx. Run: /work/main/.venv/bin/python tests/corpus/make/check_verbatim.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def docx_text(path: Path) -> str:
    import docx  # python-docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    d = docx.Document(str(path))
    lines = []
    for child in d.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, d).text)
        elif tag == "tbl":
            for row in Table(child, d).rows:
                lines.append("\t".join(c.text for c in row.cells))
    return "\n".join(lines)


def document_text(path: Path) -> str:
    if path.suffix == ".docx":
        return docx_text(path)
    return path.read_text(encoding="utf-8")


def check(truth_file: Path) -> list[str]:
    data = json.loads(truth_file.read_text(encoding="utf-8"))
    doc = HERE / data["file"]
    problems = []
    if not doc.is_file():
        return [f"{truth_file.name}: document {data['file']} missing"]
    text = document_text(doc)
    pos = 0
    for m in data["measures"]:
        label = "/".join(m.get("path") or []) or str(m.get("number"))
        fc = m.get("first_chars")
        if not fc:
            problems.append(f"{label}: empty first_chars")
        else:
            if len(fc) != 20:
                problems.append(f"{label}: first_chars has {len(fc)} characters: {fc!r}")
            k = text.find(fc, pos)
            if k < 0:
                where = "anywhere" if text.find(fc) < 0 else "in reading order"
                problems.append(f"{label}: first_chars not found {where}: {fc!r}")
            else:
                pos = k + 1
        for key in ("title", "annotation", "deadline", "role_phrase"):
            v = m.get(key)
            if v and v not in text:
                problems.append(f"{label}: {key} not verbatim: {v!r}")
        for v in m.get("milestones") or []:
            if v not in text:
                problems.append(f"{label}: milestone not verbatim: {v!r}")
        for key in ("lead", "cooperating", "guidance"):
            for name in m.get(key) or []:
                if name not in text:
                    problems.append(f"{label}: {key} name not verbatim: {name!r}")
    s = data.get("summary", {})
    ms = data["measures"]
    want = {
        "measure_count": len(ms),
        "measures_with_lead": sum(1 for m in ms if m["lead"]),
        "measures_with_cooperating": sum(1 for m in ms if m["cooperating"]),
        "measures_with_deadline": sum(1 for m in ms if m["deadline"]),
        "measures_without_responsibility": sum(1 for m in ms if not m["lead"] and not m["cooperating"]),
    }
    for key, count in want.items():
        if s.get(key) != count:
            problems.append(f"summary.{key} = {s.get(key)} but measures give {count}")
    return [f"{truth_file.name}: {p}" for p in problems]


def main() -> int:
    files = sorted(HERE.glob("*.truth.json"))
    all_problems = []
    for f in files:
        all_problems += check(f)
    for p in all_problems:
        print(p)
    print(f"{len(files)} truth files checked, {len(all_problems)} problems")
    return 1 if all_problems else 0


if __name__ == "__main__":
    sys.exit(main())
