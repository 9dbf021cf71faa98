"""Evidence kinds are told from the bytes: every accepted kind, and disguised or unknown files refused."""

from __future__ import annotations

import io

import pytest

from duban.workflow.evidence.kinds import sniff_file
from tests.fixtures.evidence import (
    DOCX,
    EXE,
    HTML,
    JAR,
    OFD,
    XLSX,
    ZIP,
    image_bytes,
    ole2_bytes,
    pdf_bytes,
    zip_bytes,
)


@pytest.mark.parametrize(
    "data,kind,media_type",
    [
        (pdf_bytes(), "pdf", "application/pdf"),
        (image_bytes("PNG"), "png", "image/png"),
        (image_bytes("JPEG"), "jpeg", "image/jpeg"),
        (DOCX, "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (XLSX, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (ole2_bytes("WordDocument"), "wps", "application/msword"),
        (ole2_bytes("Workbook"), "et", "application/vnd.ms-excel"),
        (OFD, "ofd", "application/ofd"),
        (ZIP, "zip", "application/zip"),
    ],
    ids=["pdf", "png", "jpeg", "docx", "xlsx", "wps", "et", "ofd", "zip"],
)
def test_accepted_kinds_are_recognised_from_their_bytes(data: bytes, kind: str, media_type: str) -> None:
    found = sniff_file(io.BytesIO(data))
    assert found is not None and (found.name, found.media_type) == (kind, media_type)


@pytest.mark.parametrize(
    "data",
    [
        EXE,
        HTML,
        JAR,
        b"plain text that claims to be a PDF",
        b"\x7fELF\x02\x01\x01" + bytes(100),
        ole2_bytes("\x05SummaryInformation"),  # an OLE2 file that is neither a document nor a sheet (.msi)
        zip_bytes({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}),
        b"PK\x03\x04 damaged",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ],
    ids=["exe", "html", "jar", "text", "elf", "msi-like", "pptx", "damaged-zip", "svg"],
)
def test_anything_else_is_refused(data: bytes) -> None:
    assert sniff_file(io.BytesIO(data)) is None


def test_a_wps_file_with_a_far_directory_sector_is_read_where_the_header_points() -> None:
    data = bytearray(ole2_bytes("WordDocument"))
    directory = bytes(data[512:1024])
    data[0x30:0x34] = (3).to_bytes(4, "little")  # the directory moved to sector 3 (offset 2048)
    data[512:1024] = bytes(512)
    moved = bytes(data) + bytes(2048 - len(data)) + directory
    found = sniff_file(io.BytesIO(moved))
    assert found is not None and found.name == "wps"
