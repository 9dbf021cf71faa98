"""PDF files with a text layer: a line per PDF text line in reading order, ruled tables as tab-separated rows.

Library: pdfplumber (on pdfminer.six), chosen over pypdfium2. On file 25 of the shared corpus (5 pages) both
give the same lines, pypdfium2 in 3 ms, pdfplumber in 60–100 ms (this reader: about 20 ms a page). Speed is
pdfium's, but it drops characters it cannot place when a CJK font is not embedded and the machine has no
substitute (a one-character wrapped line such as "委" vanished; Chinese PDFs often leave 宋体 unembedded and
servers have no CJK fonts), while pdfminer reads text from the font's CMap alone; and pdfplumber finds ruled
tables (分工表) with the cell geometry, which pdfium does not give.

Pages are separated by a blank line and a form feed, as text extracted from a 公文 PDF usually is; the
parser joins hard line wraps and drops page numbers (— 5 —). A PDF without any text on any page (a scan)
is refused with ``no_text_layer``: it needs OCR first. A damaged or password-protected PDF is ``bad_pdf``.
"""

from __future__ import annotations

import io
import logging
import re
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from duban.tasks.parser.files_common import MAX_UNPACKED_BYTES, join_cell_lines, reject, too_large_unpacked

if TYPE_CHECKING:
    from pdfplumber.page import Page
    from pdfplumber.table import Table

_PAGE_SEPARATOR = "\n\f"
_INFLATE_STEP = 16 * 1024 * 1024
# Lines and rectangles a page needs before looking for a ruled table is worth it.
_MIN_RULES = 4
_LINE_TOLERANCE = 3.0  # points: characters this close in height are on one line
_TABLE_SETTINGS: dict[str, Any] = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
Box = tuple[float, float, float, float]
# pdfminer writes a glyph it cannot map to Unicode as "(cid:123)".
_UNMAPPED = re.compile(r"\(cid:\d+\)")


def _check_inflated_size(data: bytes) -> None:
    """Refuse a PDF whose streams inflate past MAX_UNPACKED_BYTES (pdfminer inflates them whole)."""
    budget = MAX_UNPACKED_BYTES
    start = data.find(b"stream")
    while start >= 0:
        body = start + len(b"stream")
        body += 2 if data.startswith(b"\r\n", body) else 1
        end = data.find(b"endstream", body)
        if end < 0:
            return
        inflater = zlib.decompressobj()
        chunk = data[body:end]
        try:
            while chunk and budget >= 0:
                budget -= len(inflater.decompress(chunk, _INFLATE_STEP))
                chunk = inflater.unconsumed_tail
        except zlib.error:
            pass  # not a Flate stream, or a damaged one: pdfminer will say
        if budget < 0:
            raise too_large_unpacked()
        start = data.find(b"stream", end + len(b"endstream"))


def _center_in(char: dict[str, Any], box: Box) -> bool:
    x = (float(char["x0"]) + float(char["x1"])) / 2
    y = (float(char["top"]) + float(char["bottom"])) / 2
    return box[0] <= x < box[2] and box[1] <= y < box[3]


def _cell_text(chars: list[dict[str, Any]], box: Box) -> str:
    """A cell's text: lines wrapped by the layout joined, lines that end short (names one a line) listed."""
    from pdfplumber.utils.text import extract_text

    lines: list[list[dict[str, Any]]] = []
    for char in sorted(chars, key=lambda c: (float(c["top"]), float(c["x0"]))):
        if lines and abs(float(char["top"]) - float(lines[-1][0]["top"])) <= _LINE_TOLERANCE:
            lines[-1].append(char)
        else:
            lines.append([char])
    if not lines:
        return ""
    size = max(float(char["x1"]) - float(char["x0"]) for char in chars)
    padding = min(min(float(c["x0"]) for c in line) - box[0] for line in lines)
    usable = box[2] - box[0] - 2 * max(0.0, min(padding, size))
    paragraphs: list[list[str]] = [[]]
    for index, line in enumerate(lines):
        paragraphs[-1].append(extract_text(line).replace("\t", " "))
        width = max(float(c["x1"]) for c in line) - min(float(c["x0"]) for c in line)
        following = lines[index + 1] if index + 1 < len(lines) else None
        if following is not None and usable - width >= 1.2 * (
            float(following[0]["x1"]) - float(following[0]["x0"])
        ):
            paragraphs.append([])  # the next line's first character would have fitted: a hard break
    return join_cell_lines([join_cell_lines(pieces, soft_wraps=True) for pieces in paragraphs])


def _table_rows(page: Page, table: Table) -> list[str]:
    """The rows of a ruled table as tab-separated cells; a cell covered by a merged one is empty."""
    rows: list[str] = []
    for row in table.rows:
        row_chars = [char for char in page.chars if _center_in(char, row.bbox)]
        cells = [
            _cell_text([c for c in row_chars if _center_in(c, box)], box) if box is not None else ""
            for box in row.cells
        ]
        if any(cells):
            rows.append("\t".join(cells))
    return rows


def _page_lines(page: Page) -> Iterator[str]:
    """The lines of one page, top to bottom; a ruled table's rows (2+ columns) as tab-separated cells."""
    blocks: list[tuple[float, list[str]]] = []
    boxes: list[Box] = []
    if len(page.lines) + len(page.rects) >= _MIN_RULES:
        for table in page.find_tables(_TABLE_SETTINGS):
            if len(table.columns) < 2:
                continue  # a framed paragraph, not a table: read it as text
            boxes.append(table.bbox)
            blocks.append((float(table.bbox[1]), _table_rows(page, table)))
    if not blocks:
        for raw in page.extract_text().split("\n"):
            text = raw.replace("\t", " ").strip()
            if text:
                yield text
        return
    text_page = page.filter(
        lambda obj: obj.get("object_type") != "char" or not any(_center_in(obj, box) for box in boxes)
    )
    for line in text_page.extract_text_lines(strip=True, return_chars=False):
        text = str(line["text"]).replace("\t", " ")
        if text:
            blocks.append((float(line["top"]), [text]))
    blocks.sort(key=lambda block: block[0])
    for _, lines in blocks:
        yield from lines


def _without_doubles(page: Page) -> Page:
    """The page without characters drawn twice at the same place (fake bold), when it has any."""
    seen = {(char["text"], round(float(char["x0"])), round(float(char["top"]))) for char in page.chars}
    return page.dedupe_chars() if len(seen) < len(page.chars) else page


def _has_text(page: Page) -> bool:
    return any(str(char.get("text", "")).strip() for char in page.chars)


def pdf_text(data: bytes) -> str:
    """The text of a PDF's text layer; ParseError ``no_text_layer`` (a scan) or ``bad_pdf`` (unreadable)."""
    import pdfplumber  # imported lazily: most inputs are plain text or .docx
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # pdfminer warns at length about odd files
    _check_inflated_size(data)
    pages: list[str] = []
    any_text = False
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for raw_page in pdf.pages:
                page = _without_doubles(raw_page)
                if _has_text(page):
                    any_text = True
                    pages.append("\n".join(_page_lines(page)))
                else:
                    pages.append("")
    except Exception as error:  # pdfminer raises many kinds on damaged input (PSSyntaxError, KeyError, …)
        causes = (error, error.__cause__, *error.args)
        if any(isinstance(cause, PDFPasswordIncorrect) for cause in causes):
            raise reject(
                "PDF 文件设有打开密码，请去除密码后再导入",
                "the PDF is password-protected; remove the password and import it again",
                "bad_pdf",
            ) from error
        raise reject(
            "无法读取该 PDF 文件：文件已损坏或不完整",
            f"cannot read the PDF: it is damaged or incomplete ({type(error).__name__})",
            "bad_pdf",
        ) from error
    if not any_text:
        raise reject(
            "PDF 没有文字层：扫描件需要先做文字识别（OCR）",
            "no text layer: a scanned PDF needs OCR first",
            "no_text_layer",
        )
    text = _PAGE_SEPARATOR.join(pages)
    unmapped = sum(len(found) for found in _UNMAPPED.findall(text))
    if unmapped and unmapped * 2 > len(text) - text.count("\n") - text.count("\f"):
        raise reject(
            "PDF 的文字层无法转换为文字（字体缺少编码映射），需要先做文字识别（OCR）",
            "the PDF's text layer cannot be read as text (its fonts have no Unicode map); it needs OCR first",
            "no_text_layer",
        )
    return _UNMAPPED.sub("", text) if unmapped else text
