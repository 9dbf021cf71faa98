"""Damaged and hostile files: every failure is a ParseError with a code and both messages, never a crash."""

from __future__ import annotations

import io
import random
import zipfile
import zlib

import pytest

from duban.tasks.parser import ParseError, decode_bytes
from tests.tasks.parser.test_files_docx import _table_document
from tests.tasks.parser.test_files_pdf import PAGES, table_pdf, text_pdf
from tests.tasks.parser.test_files_xlsx import TASKS, _book, _bytes

ROWS = [
    ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"],
    ["1", "推进岸电设施建设", "市交通委", "", "2023年底前"],
]
SEEDS = {
    "pdf": text_pdf(PAGES),
    "pdf-table": table_pdf(ROWS, []),
    "docx": _table_document(),
    "xlsx": _bytes(_book(("分工表", TASKS))),
}


def _damaged(data: bytes, rng: random.Random) -> bytes:
    damaged = bytearray(data)
    choice = rng.random()
    if choice < 0.4:
        for _ in range(rng.randint(1, 20)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
    elif choice < 0.7:
        del damaged[rng.randrange(8, len(damaged)) :]
    else:
        start = rng.randrange(len(damaged))
        del damaged[start : start + rng.randint(1, 2000)]
    return bytes(damaged)


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_damaged_files_are_read_or_refused_never_crash(kind: str) -> None:
    rng = random.Random(kind)
    for _ in range(40):
        data = _damaged(SEEDS[kind], rng)
        try:
            assert isinstance(decode_bytes(data, f"文件.{kind.split('-')[0]}"), str)
        except ParseError as error:
            assert error.code and error.message_zh and error.message_en


def _pdf_with_stream(content: bytes) -> bytes:
    stream = zlib.compress(content)
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj\n"
        + f"4 0 obj << /Length {len(stream)} /Filter /FlateDecode >> stream\n".encode()
        + stream
        + b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF"
    )


def test_a_pdf_that_inflates_past_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("duban.tasks.parser.files_pdf.MAX_UNPACKED_BYTES", 1024 * 1024)
    with pytest.raises(ParseError) as caught:
        decode_bytes(_pdf_with_stream(b" " * (2 * 1024 * 1024)))
    assert caught.value.code == "unpacked_too_large"
    with pytest.raises(ParseError) as caught:  # under the limit the same file is read: it has no text
        decode_bytes(_pdf_with_stream(b" " * 1024))
    assert caught.value.code == "no_text_layer"


def test_an_archive_that_unpacks_past_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("duban.tasks.parser.files_sniff.MAX_UNPACKED_BYTES", 1024 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>" + " " * (2 * 1024 * 1024) + "</w:document>")
    with pytest.raises(ParseError) as caught:
        decode_bytes(buffer.getvalue(), "方案.docx")
    assert caught.value.code == "unpacked_too_large"
