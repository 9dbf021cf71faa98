"""Bytes to text: UTF-8 (with or without BOM), UTF-16/32 with BOM, GB18030/GBK, and .docx files.

There is no statistical charset detector: a strict cascade (UTF-8, then GB18030) with a sanity check on
what the decoded text looks like is enough for Chinese government documents and never guesses silently.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile

from duban.tasks.parser.model import ParseError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_ZIP_MAGIC = b"PK\x03\x04"
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Characters a Chinese document is made of: ASCII, CJK punctuation, ideographs, full-width forms, etc.
_PLAUSIBLE = re.compile(
    r"[\t\n\r\x20-\x7e\u00a0-\u024f\u2000-\u206f\u2150-\u22ff\u2460-\u27bf\u3000-\u303f"
    r"\u3040-\u30ff\u3200-\u33ff\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
)
_MIN_PLAUSIBLE_SHARE = 0.97


def _reject(message_zh: str, message_en: str, code: str, line: int | None = None) -> ParseError:
    return ParseError(message_zh, message_en, code=code, line=line)


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


def _docx_text(data: bytes) -> str:
    """Paragraph and table texts of a .docx, one paragraph (or table row) a line, in document order."""
    try:
        import docx  # python-docx is imported lazily: most inputs are plain text
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
    except (
        Exception
    ) as error:  # python-docx raises many kinds (KeyError, ValueError, BadZipFile, lxml errors)
        raise _reject(
            "无法读取该 Word 文档", f"cannot read the Word document ({type(error).__name__})", "bad_docx"
        ) from error
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(block, document).text)
        elif tag == "tbl":
            for row in Table(block, document).rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = cell.text.strip()
                    if value and (not cells or cells[-1] != value):  # merged cells repeat their text
                        cells.append(value)
                lines.append("\t".join(cells))
    return "\n".join(lines)


def _is_docx(data: bytes, filename: str | None) -> bool:
    if not data.startswith(_ZIP_MAGIC):
        return False
    if filename and filename.lower().endswith(".docx"):
        return True
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


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
    """The text of a document file; raises ParseError for empty, binary or undecodable input."""
    if not data or not data.strip():
        raise _reject("文件为空", "the file is empty", "empty_document")
    if _is_docx(data, filename):
        text = _docx_text(data)
        if not text.strip():
            raise _reject("Word 文档中没有文字", "the Word document contains no text", "empty_document")
        return text
    if data.startswith(_ZIP_MAGIC) or (filename and filename.lower().endswith((".doc", ".pdf", ".wps"))):
        raise _reject(
            "不支持该文件格式，请提供 .txt 或 .docx 文件",
            "unsupported file format; give a .txt or .docx file",
            "unsupported_format",
        )
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
