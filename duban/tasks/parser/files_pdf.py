"""PDF files with a text layer: a line per PDF text line in reading order, ruled tables as tab-separated rows.

Library: pdfplumber (on pdfminer.six), chosen over pypdfium2. On file 25 of the shared corpus both give the
same lines, pypdfium2 in 3 ms and pdfplumber in 63 ms (5 pages); but pdfium drops characters it cannot
place when a CJK font is not embedded and the machine has no substitute (a single-character wrapped line
such as "委" vanished; Chinese PDFs often leave 宋体 unembedded and servers have no CJK fonts), while
pdfminer reads text from the font's CMap alone; and pdfplumber finds ruled tables (分工表), pdfium does not.

Pages are separated by a blank line and a form feed, as text extracted from a 公文 PDF usually is; the
parser joins hard line wraps and drops page numbers (— 5 —). A PDF without any text on any page (a scan)
is refused with ``no_text_layer``: it needs OCR first. A damaged or password-protected PDF is ``bad_pdf``.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from duban.tasks.parser.files_common import join_cell_lines, reject

if TYPE_CHECKING:
    from pdfplumber.page import Page

_PAGE_SEPARATOR = "\n\f"
# Lines and rectangles a page needs before looking for a ruled table is worth it.
_MIN_RULES = 4
_TABLE_SETTINGS: dict[str, Any] = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
Box = tuple[float, float, float, float]
# pdfminer writes a glyph it cannot map to Unicode as "(cid:123)".
_UNMAPPED = re.compile(r"\(cid:\d+\)")


def _inside(obj: dict[str, Any], boxes: list[Box]) -> bool:
    x = (float(obj["x0"]) + float(obj["x1"])) / 2
    y = (float(obj["top"]) + float(obj["bottom"])) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def _row_line(row: list[str | None]) -> str:
    return "\t".join(join_cell_lines((cell or "").split("\n"), soft_wraps=True) for cell in row)


def _page_lines(page: Page) -> Iterator[str]:
    """The lines of one page, top to bottom; a ruled table's rows (2+ columns) as tab-separated cells."""
    blocks: list[tuple[float, list[str]]] = []
    boxes: list[Box] = []
    if len(page.lines) + len(page.rects) >= _MIN_RULES:
        for table in page.find_tables(_TABLE_SETTINGS):
            rows = [row for row in table.extract() if any((cell or "").strip() for cell in row)]
            if not rows or max(len(row) for row in rows) < 2:
                continue  # a framed paragraph, not a table: read it as text
            boxes.append(table.bbox)
            blocks.append((float(table.bbox[1]), [_row_line(row) for row in rows]))
    if not blocks:
        for raw in page.extract_text().split("\n"):
            text = raw.replace("\t", " ").strip()
            if text:
                yield text
        return
    text_page = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes))
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
