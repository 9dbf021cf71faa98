"""The format is told from the bytes, never from the name alone; formats the parser cannot read say what to do."""

from __future__ import annotations

import io
import zipfile

import pytest

from duban.tasks.parser import ParseError, decode_bytes
from duban.tasks.parser.files_sniff import FileKind, sniff
from tests.tasks.parser.test_files_pdf import PAGES, text_pdf

TEXT = "关于推进港口岸电使用的实施方案\n一、主要任务\n（一）完善码头岸电设施。\n"


def ole2_file(*streams: str) -> bytes:
    """The start of an OLE2 compound file (old .doc/.xls/.wps/.et): its header and a directory of streams."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16) + bytes.fromhex("3E000300FEFF0900")
    header += bytes(512 - len(header))  # the first directory sector is sector 0, right after the header
    entries = b""
    for name in ("Root Entry", *streams):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entries += encoded.ljust(64, b"\x00") + len(encoded).to_bytes(2, "little") + bytes(62)
    return header + entries.ljust(512, b"\x00")


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def _refusal(data: bytes, filename: str | None = None) -> ParseError:
    with pytest.raises(ParseError) as caught:
        decode_bytes(data, filename)
    assert caught.value.message_zh and caught.value.message_en
    return caught.value


def test_a_pdf_named_txt_is_read_as_a_pdf() -> None:
    text = decode_bytes(text_pdf(PAGES), "方案.txt")
    assert text.startswith(PAGES[0][0] + "\n")


def test_text_named_pdf_or_doc_is_read_as_text() -> None:
    assert decode_bytes(TEXT.encode("gb18030"), "方案.pdf") == TEXT
    assert decode_bytes(TEXT.encode(), "方案.doc") == TEXT


def test_a_pdf_after_a_little_junk_is_still_a_pdf() -> None:
    assert sniff(b"\r\n" + text_pdf(PAGES)) is FileKind.pdf
    assert sniff("文中提到 %PDF-1.7 这个写法".encode()) is FileKind.text


@pytest.mark.parametrize("filename", ["实施方案.doc", "实施方案.wps", "实施方案", None])
def test_old_word_files_are_refused_naming_what_to_save_them_as(filename: str | None) -> None:
    error = _refusal(ole2_file("WordDocument", "1Table", "\x05SummaryInformation"), filename)
    assert error.code == "unsupported_format"
    assert "请在 Word/WPS 中另存为 .docx 或 PDF 后再导入" in error.message_zh
    assert "save it as .docx or PDF in Word/WPS and import that" in error.message_en


def test_old_spreadsheets_are_refused_naming_xlsx() -> None:
    error = _refusal(ole2_file("Workbook", "\x05SummaryInformation"), "分工表.et")
    assert error.code == "unsupported_format"
    assert "另存为 .xlsx" in error.message_zh and "save it as .xlsx" in error.message_en
    error = _refusal(ole2_file("Book"))
    assert error.code == "unsupported_format"
    assert "另存为 .xlsx" in error.message_zh and "save it as .xlsx" in error.message_en


def test_a_password_protected_office_file_says_so() -> None:
    error = _refusal(ole2_file("EncryptionInfo", "EncryptedPackage"), "方案.docx")
    assert error.code == "encrypted_document"
    assert "密码" in error.message_zh


def test_a_word_file_that_mentions_a_workbook_is_still_a_word_file() -> None:
    error = _refusal(ole2_file("WordDocument", "Workbook"), "方案.xls")
    assert "另存为 .docx 或 PDF" in error.message_zh
    assert ole2_file("WordDocument")[:8] == bytes.fromhex("D0CF11E0A1B11AE1")


def test_a_bare_ole2_header_is_refused_as_an_old_office_file() -> None:
    assert _refusal(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(40), "x").code == "unsupported_format"


def test_ofd_is_refused_naming_pdf() -> None:
    error = _refusal(_zip("OFD.xml", "Doc_0/Document.xml"), "通知.ofd")
    assert error.code == "unsupported_format"
    assert "另存为 PDF" in error.message_zh and "save it as PDF" in error.message_en


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (_zip("word/document.xml", "[Content_Types].xml"), FileKind.docx),
        (_zip("xl/workbook.xml", "[Content_Types].xml"), FileKind.xlsx),
        (text_pdf(PAGES), FileKind.pdf),
        (TEXT.encode("utf-16"), FileKind.text),
    ],
    ids=["docx", "xlsx", "pdf", "utf16"],
)
def test_kinds_are_told_from_the_bytes(data: bytes, kind: FileKind) -> None:
    assert sniff(data, "随便什么名字.bin") is kind


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (_zip("readme.txt"), "附件.zip"),
        (_zip("ppt/presentation.xml"), "汇报.pptx"),
        (_zip("mimetype", "content.xml"), "方案.odt"),
        (b"{\\rtf1\\ansi\\ansicpg936 \\f0 \\'b9\\'d8\\'d3\\'da}", "方案.doc"),
        (
            b'<html xmlns:w="urn:schemas-microsoft-com:office:word"><body>\xe6\x96\xb9\xe6\xa1\x88</body></html>',
            "方案.doc",
        ),
        (b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=x\r\n\r\n--x\r\n", "方案.mht"),
        (b"PK\x03\x04 not a whole archive", "附件.zip"),
    ],
    ids=["zip", "pptx", "odt", "rtf", "word-html", "mht", "broken-zip"],
)
def test_other_formats_are_unsupported(data: bytes, filename: str) -> None:
    assert _refusal(data, filename).code == "unsupported_format"
