"""Decoding input bytes: encodings, .docx, and refusals (each file format has its test_files_*.py)."""

from __future__ import annotations

import codecs
import io

import docx
import pytest

from duban.tasks.parser import ParseError, decode_bytes, parse_bytes

TEXT = "关于全面加强生态环境保护的实施意见\n一、总体要求\n（一）加强组织领导。各盟市要落实责任。\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.encode("utf-16"),
        TEXT.encode("utf-16-le"),
        TEXT.encode("utf-16-be"),
        TEXT.encode("gb18030"),
        TEXT.encode("gbk"),
        codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "utf16le-bom",
        "utf16be-bom",
        "utf16",
        "utf16le",
        "utf16be",
        "gb18030",
        "gbk",
        "utf32",
    ],
)
def test_text_encodings_are_recognised(data: bytes) -> None:
    assert decode_bytes(data) == TEXT


def test_traditional_big_text_in_gbk_range_decodes() -> None:
    text = "內蒙古自治區黨委 自治區人民政府關於全面加強生態環境保護的實施意見" * 50
    assert decode_bytes(text.encode("gb18030")) == text


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("关于加强生态环境保护的实施意见")
    document.add_paragraph("一、重点任务")
    document.add_paragraph("（一）加强组织领导。各盟市要落实责任。")
    table = document.add_table(rows=2, cols=3)
    for row, values in zip(
        table.rows, [("序号", "任务", "牵头单位"), ("1", "治理扬尘", "自治区住房和城乡建设厅")], strict=True
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("（二）加大资金投入。统筹资金。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_and_tables_in_document_order() -> None:
    text = decode_bytes(_docx_bytes(), "plan.docx")
    assert text.split("\n") == [
        "关于加强生态环境保护的实施意见",
        "一、重点任务",
        "（一）加强组织领导。各盟市要落实责任。",
        "序号\t任务\t牵头单位",
        "1\t治理扬尘\t自治区住房和城乡建设厅",
        "（二）加大资金投入。统筹资金。",
    ]
    assert decode_bytes(_docx_bytes()) == text  # recognised without the file name too


def test_parse_bytes_reads_a_docx() -> None:
    plan = parse_bytes(_docx_bytes(), "plan.docx")
    assert plan.title == "关于加强生态环境保护的实施意见"
    assert [list(m.path) for m in plan.measures] == [
        ["一", "(一)", "1"],
        ["一", "(二)"],
    ]  # 序号 labels the row
    row = plan.measures[0]
    assert row.title == "治理扬尘"
    assert row.body == "牵头单位：自治区住房和城乡建设厅"
    assert row.responsibility.lead and "住房" in row.responsibility.lead[0]


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"", None, "empty_document"),
        (b"  \r\n\t ", None, "empty_document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "x.png", "binary_document"),
        (b"PK\x03\x04 not really a zip", "plan.docx", "bad_docx"),
        (b"PK\x03\x04 some archive", "data.zip", "unsupported_format"),
        (b"%PDF-1.7 whatever", "plan.pdf", "bad_pdf"),
        (bytes([0xFF, 0xFE, 0x00, 0xD8]), None, "undecodable"),
        (bytes(range(0x80, 0x100)) * 4, None, "undecodable"),
        (b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f" * 20, None, "binary_document"),
    ],
    ids=["empty", "blank", "png", "bad-docx", "zip", "pdf", "bad-utf16", "high-bytes", "controls"],
)
def test_unreadable_input_is_refused(data: bytes, filename: str | None, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        decode_bytes(data, filename)
    assert caught.value.code == code
    assert caught.value.message_zh and caught.value.message_en


def test_binary_refusal_names_the_line() -> None:
    with pytest.raises(ParseError) as caught:
        decode_bytes("第一行\n第二行\n".encode() + b"\x00\x01\x02")
    assert caught.value.line == 3
