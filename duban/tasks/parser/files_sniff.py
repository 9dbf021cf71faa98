"""What kind of file a document is, told from its bytes (the name only chooses between error messages).

A .pdf that holds plain text is text, a .txt that holds a PDF is a PDF. Formats that offices receive but the
parser cannot read (old binary Word/WPS/Excel files, OFD, RTF, Word's HTML and MHT exports, other archives)
are refused with ``unsupported_format`` and a message that says what to save the file as.
"""

from __future__ import annotations

import io
import re
import zipfile
from enum import StrEnum

from duban.tasks.parser.files_common import MAX_UNPACKED_BYTES, reject, too_large_unpacked
from duban.tasks.parser.model import ParseError

_PDF_MAGIC = b"%PDF-"
_PDF_HEADER_WINDOW = 1024  # readers accept the header anywhere in the first kilobyte
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_OLE2_DIRECTORY_ENTRY = 128
_SPREADSHEET_STREAMS = frozenset({"Workbook", "Book"})
_ENCRYPTED_STREAMS = frozenset({"EncryptionInfo", "EncryptedPackage"})
_WORD_HTML = re.compile(rb"urn:schemas-microsoft-com:office:(?:word|excel)", re.IGNORECASE)
_HTML_START = re.compile(rb"\s*(?:<!doctype html|<html|<\?xml[^>]*>\s*<html)", re.IGNORECASE)
_MHT_START = re.compile(rb"(?:[\w-]+:[^\n]*\r?\n){0,20}?MIME-Version:", re.IGNORECASE)


class FileKind(StrEnum):
    """The formats decode_bytes tells apart."""

    text = "text"
    pdf = "pdf"
    docx = "docx"
    xlsx = "xlsx"


_SAVE_AS_DOCX = (
    "请在 Word/WPS 中另存为 .docx 或 PDF 后再导入",
    "save it as .docx or PDF in Word/WPS and import that",
)
_SAVE_AS_XLSX = ("请在 Excel/WPS 中另存为 .xlsx 后再导入", "save it as .xlsx in Excel/WPS and import that")


def _unsupported(what_zh: str, what_en: str, advice: tuple[str, str]) -> ParseError:
    return reject(f"{what_zh}，{advice[0]}", f"{what_en}; {advice[1]}", "unsupported_format")


def ole2_streams(data: bytes) -> set[str]:
    """The names in the first directory sector of an OLE2 compound file (where the top streams are)."""
    if len(data) < 512:
        return set()
    shift = int.from_bytes(data[0x1E:0x20], "little")
    size = 1 << shift if 9 <= shift <= 12 else 512
    start = (int.from_bytes(data[0x30:0x34], "little") + 1) * size
    names: set[str] = set()
    for offset in range(
        start, min(start + size, len(data)) - _OLE2_DIRECTORY_ENTRY + 1, _OLE2_DIRECTORY_ENTRY
    ):
        length = int.from_bytes(data[offset + 64 : offset + 66], "little")
        if 2 <= length <= 64 and length % 2 == 0:
            names.add(data[offset : offset + length - 2].decode("utf-16-le", "replace"))
    return names


def _ole2(data: bytes, filename: str | None) -> ParseError:
    """The refusal of an OLE2 compound file: old .doc/.wps, .xls/.et, .ppt, or an encrypted Office file."""
    name = (filename or "").lower()
    streams = ole2_streams(data)
    if streams & _ENCRYPTED_STREAMS:
        return reject(
            "该 Office 文件设有打开密码，请去除密码后另存为 .docx、.xlsx 或 PDF 再导入",
            "the Office file is password-protected; remove the password, save it as .docx, .xlsx or PDF "
            "and import that",
            "encrypted_document",
        )
    word = "WordDocument" in streams
    if not word and (streams & _SPREADSHEET_STREAMS or name.endswith((".xls", ".et"))):
        return _unsupported(
            "不支持旧版 Excel/WPS 表格文件（.xls/.et）",
            "old Excel/WPS spreadsheets (.xls/.et) are not supported",
            _SAVE_AS_XLSX,
        )
    if not word and ("PowerPoint Document" in streams or name.endswith((".ppt", ".dps"))):
        return _unsupported("不支持演示文稿文件", "presentations are not supported", _SAVE_AS_DOCX)
    return _unsupported(
        "不支持旧版 Word/WPS 文档（.doc/.wps）",
        "old Word/WPS documents (.doc/.wps) are not supported",
        _SAVE_AS_DOCX,
    )


def _zip_kind(data: bytes, filename: str | None) -> FileKind:
    name = (filename or "").lower()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(item.file_size for item in archive.infolist())
    except Exception as error:  # BadZipFile, and struct/Unicode/OS errors on damaged central directories
        if name.endswith((".docx", ".xlsx", ".docm", ".xlsm")):
            kind = "Excel 表格" if name.endswith(("xlsx", "xlsm")) else "Word 文档"
            raise reject(
                f"无法读取该{kind}：文件已损坏或不完整",
                "cannot read the file: it is damaged or incomplete",
                "bad_xlsx" if "Excel" in kind else "bad_docx",
            ) from error
        raise _unsupported("该文件是损坏的压缩包", "the file is a damaged archive", _SAVE_AS_DOCX) from error
    if unpacked > MAX_UNPACKED_BYTES:  # zipfile never reads past a member's declared size
        raise too_large_unpacked()
    if "word/document.xml" in names:
        return FileKind.docx
    if "xl/workbook.xml" in names:
        return FileKind.xlsx
    if "OFD.xml" in names or "ofd.xml" in {n.lower() for n in names}:
        raise reject(
            "暂不支持 OFD 版式文件，请用 OFD 阅读器另存为 PDF 后再导入",
            "OFD files are not supported; save it as PDF with an OFD reader and import that",
            "unsupported_format",
        )
    if "ppt/presentation.xml" in names:
        raise _unsupported("不支持演示文稿文件", "presentations are not supported", _SAVE_AS_DOCX)
    if "content.xml" in names and "mimetype" in names:
        raise _unsupported(
            "不支持 ODF（.odt/.ods）文件", "ODF files (.odt/.ods) are not supported", _SAVE_AS_DOCX
        )
    raise reject(
        "不支持压缩包或该种文件，请提供 .docx、.xlsx、PDF 或文本文件",
        "archives and this kind of file are not supported; give a .docx, .xlsx, PDF or text file",
        "unsupported_format",
    )


def is_pdf(data: bytes) -> bool:
    """The bytes are a PDF: %PDF- at the start, or after a little junk when the file has PDF objects."""
    at = data.find(_PDF_MAGIC, 0, _PDF_HEADER_WINDOW)
    return at == 0 or (at > 0 and b"endobj" in data)


def sniff(data: bytes, filename: str | None = None) -> FileKind:
    """The kind of a document file from its bytes; raises ParseError(unsupported_format) for known others."""
    if is_pdf(data):
        return FileKind.pdf
    if data.startswith(_ZIP_MAGICS):
        return _zip_kind(data, filename)
    if data.startswith(_OLE2_MAGIC):
        raise _ole2(data, filename)
    head = data[:4096]
    if head.lstrip().startswith(b"{\\rtf"):
        raise _unsupported("不支持 RTF 文件", "RTF files are not supported", _SAVE_AS_DOCX)
    if _MHT_START.match(head) and b"multipart/related" in head.lower():
        raise _unsupported(
            "不支持网页存档（.mht）文件", "web archives (.mht) are not supported", _SAVE_AS_DOCX
        )
    if _HTML_START.match(head) and _WORD_HTML.search(data[:65536]):
        raise _unsupported(
            "该文件是 Word/Excel 另存的网页格式", "the file is a Word/Excel web-page export", _SAVE_AS_DOCX
        )
    return FileKind.text
