"""Bytes to text: PDF, .docx and .xlsx files, and text in UTF-8 (with or without BOM), UTF-16/32, GB18030/GBK.

The format is told from the bytes (files_sniff), never from the name alone; each file format has its reader
(files_pdf, files_docx, files_xlsx). There is no statistical charset detector: a strict cascade (UTF-8,
then GB18030) with a sanity check on what the decoded text looks like is enough for Chinese government
documents and never guesses silently.
"""

from __future__ import annotations

import codecs
import re

from duban.tasks.parser.files_common import reject as _reject
from duban.tasks.parser.files_docx import docx_text
from duban.tasks.parser.files_pdf import pdf_text
from duban.tasks.parser.files_sniff import FileKind, sniff
from duban.tasks.parser.files_xlsx import xlsx_text

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Characters a Chinese document is made of: ASCII, CJK punctuation, ideographs, full-width forms, etc.
_PLAUSIBLE = re.compile(
    r"[\t\n\r\x20-\x7e\u00a0-\u024f\u2000-\u206f\u2150-\u22ff\u2460-\u27bf\u3000-\u303f"
    r"\u3040-\u30ff\u3200-\u33ff\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
)
_MIN_PLAUSIBLE_SHARE = 0.97


def _plausible(text: str) -> bool:
    if not text:
        return True
    sample = text if len(text) <= 200_000 else text[:100_000] + text[-100_000:]
    good = len(_PLAUSIBLE.findall(sample))
    return good >= len(sample) * _MIN_PLAUSIBLE_SHARE


def _check_binary(data: bytes) -> None:
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise _reject(
            f"文件第{line}行含有二进制数据（NUL 字节），不是文本文件",
            f"line {line} of the file contains binary data (NUL bytes); not a text file",
            "binary_document",
            line,
        )


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 saved without a BOM: no NUL in the decoded text, line breaks, and it looks like a document."""
    if len(data) < 4 or len(data) % 2:
        return None
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text and "\n" in text and _plausible(text):
            return text
    return None


def decode_bytes(data: bytes, filename: str | None = None) -> str:
    """The text of a document file (text, PDF, .docx, .xlsx); ParseError for anything it cannot read."""
    if not data or not data.strip():
        raise _reject("文件为空", "the file is empty", "empty_document")
    kind = sniff(data, filename)
    if kind is FileKind.pdf:
        return pdf_text(data)
    if kind is FileKind.docx:
        text = docx_text(data)
        if not text.strip():
            raise _reject("Word 文档中没有文字", "the Word document contains no text", "empty_document")
        return text
    if kind is FileKind.xlsx:
        text = xlsx_text(data)
        if not text.strip():
            raise _reject("Excel 表格中没有内容", "the spreadsheet contains no text", "empty_document")
        return text
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as error:
                bad = data.count(b"\n", 0, error.start) + 1
                raise _reject(
                    f"文件声明为 {encoding} 编码，但第{bad}行无法按此解码",
                    f"the file declares {encoding} but line {bad} does not decode",
                    "undecodable",
                    bad,
                ) from error
    utf16 = _utf16_without_bom(data) if b"\x00" in data else None
    if utf16 is not None:
        return utf16
    _check_binary(data)
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if len(_CONTROL.findall(text)) > max(8, len(text) // 100):
            raise _reject(
                "文件含有过多控制字符，不是文本文件",
                "the file contains too many control characters; not a text file",
                "binary_document",
            )
        # Valid UTF-8 is a strong signal on its own; GB18030 decodes almost anything, so it must look right.
        if encoding == "utf-8" or _plausible(text):
            return text
    line: int | None = None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
    raise _reject(
        "无法识别文件编码（支持 UTF-8、UTF-16、GB18030/GBK）",
        "cannot decode the file (UTF-8, UTF-16 and GB18030/GBK are supported)",
        "undecodable",
        line,
    )
