"""Word .docx files: one paragraph a line, tables as tab-separated rows whose columns stay in place.

The document XML is walked directly (python-docx opens the package): paragraphs and tables in document
order, also inside content controls. In a table every grid column keeps its place: an empty cell is an
empty string, a horizontally merged cell (gridSpan) gives its text once and an empty string for each
further column it spans, a vertically merged cell gives its text in every row it covers (an empty cell
stays empty: it is not read as continuing the row above), and cells skipped before or after a row
(gridBefore/gridAfter) are empty. So a header row and its data rows have the same number of cells.
Deleted text (tracked changes), field codes, drawings and text boxes are left out; inserted text is kept.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

from duban.tasks.parser.files_common import join_cell_lines, reject

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_SKIPPED = frozenset(
    {f"{_W}del", f"{_W}moveFrom", f"{_W}drawing", f"{_W}pict", f"{_W}object", f"{_W}instrText"}
    | {f"{_W}delText", f"{_W}rPr", f"{_W}pPr", f"{_W}fldData", f"{_MC}AlternateContent"}
)
_BREAKS = frozenset({f"{_W}br", f"{_W}cr"})
# Tabs inside running text are alignment; a line with this many tabs is a table typed with tabs.
_TAB_TABLE_MIN = 2
_TAB_RUN = re.compile(r"[ \u3000]*\t[\t \u3000]*")


def _runs_text(element: Any, out: list[str]) -> None:
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIPPED:
            continue
        if tag == f"{_W}t":
            out.append(child.text or "")
        elif tag == f"{_W}tab":
            out.append("\t")
        elif tag in _BREAKS:
            out.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            out.append("-")
        elif tag == f"{_W}tbl":
            continue  # a table inside a paragraph-level container is read as a table by the caller
        else:
            _runs_text(child, out)


def paragraph_text(element: Any) -> str:
    """The text of a w:p element; alignment tabs become spaces unless the line is a tab-typed table."""
    out: list[str] = []
    _runs_text(element, out)
    text = "".join(out)
    core = _TAB_RUN.sub("\t", text.strip(" \t\u3000"))
    return core if core.count("\t") >= _TAB_TABLE_MIN else text.replace("\t", " ")


def _val(element: Any, name: str) -> str | None:
    found = element.find(f"{_W}{name}")
    if found is None:
        return None
    value = found.get(f"{_W}val")
    return "" if value is None else str(value)


def _int_val(element: Any, name: str, default: int) -> int:
    value = _val(element, name)
    try:
        return max(int(value), 0) if value else default
    except ValueError:
        return default


def _children(parent: Any, tag: str) -> Iterator[Any]:
    """The w:`tag` children of a row or table, also those wrapped in content controls."""
    for child in parent:
        if child.tag == f"{_W}{tag}":
            yield child
        elif child.tag in (f"{_W}sdt", f"{_W}customXml"):
            content = child.find(f"{_W}sdtContent") if child.tag == f"{_W}sdt" else child
            if content is not None:
                yield from _children(content, tag)


_CONTINUED = "\x00continued"


def _cell_text(cell: Any) -> str:
    lines: list[str] = []
    for block in _blocks(cell):
        lines.extend(block.replace("\t", " ").split("\n"))
    return join_cell_lines(lines)


def _row_cells(row: Any) -> list[str]:
    properties = row.find(f"{_W}trPr")
    before = _int_val(properties, "gridBefore", 0) if properties is not None else 0
    after = _int_val(properties, "gridAfter", 0) if properties is not None else 0
    cells: list[str] = [""] * before
    for cell in _children(row, "tc"):
        cell_properties = cell.find(f"{_W}tcPr")
        span, merge, horizontal = 1, None, False
        if cell_properties is not None:
            span = max(_int_val(cell_properties, "gridSpan", 1), 1)
            merge = _val(cell_properties, "vMerge")
            horizontal = _val(cell_properties, "hMerge") == ""  # legacy horizontal merge: a continued cell
        if horizontal:
            cells.append("")
        elif merge is not None and merge != "restart":
            cells.append(_CONTINUED)
        else:
            cells.append(_cell_text(cell))
        cells.extend([""] * (span - 1))
    return cells + [""] * after


def _table_lines(table: Any) -> Iterator[str]:
    rows = [_row_cells(row) for row in _children(table, "tr")]
    width = max((len(cells) for cells in rows), default=0)
    above: list[str] = [""] * width
    for cells in rows:
        cells = cells + [""] * (width - len(cells))
        # A cell merged down says the same in every row it covers: the text is repeated, not left empty.
        cells = [above[i] if cell == _CONTINUED else cell for i, cell in enumerate(cells)]
        above = cells
        if any(cells):
            yield "\t".join(cells)


def _blocks(container: Any) -> Iterator[str]:
    """Paragraph texts and table rows of a body, cell or content control, in document order."""
    for child in container:
        tag = child.tag
        if tag == f"{_W}p":
            yield paragraph_text(child)
        elif tag == f"{_W}tbl":
            yield from _table_lines(child)
        elif tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _blocks(content)
        elif tag in (f"{_W}customXml", f"{_W}ins", f"{_W}moveTo"):
            yield from _blocks(child)


def docx_text(data: bytes) -> str:
    """The text of a .docx: a paragraph or table row a line, in document order; ParseError ``bad_docx``."""
    try:
        import docx  # python-docx is imported lazily: most inputs are plain text

        body = docx.Document(io.BytesIO(data)).element.body
        return "\n".join(_blocks(body))
    except Exception as error:  # python-docx and lxml raise many kinds (KeyError, ValueError, XMLSyntaxError)
        raise reject(
            "无法读取该 Word 文档：文件已损坏或不是 .docx",
            f"cannot read the Word document: it is damaged or not a .docx ({type(error).__name__})",
            "bad_docx",
        ) from error
