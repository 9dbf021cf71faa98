"""What kind of evidence file an upload is, told from its bytes, never from its name.

Offices send PDF, JPEG/PNG photographs, Word and Excel files (.docx/.xlsx), WPS's own .wps/.et (OLE2
compound files, like old .doc/.xls), OFD 版式文件 and .zip archives. Everything else — executables, web
pages, scripts, other archives dressed up with one of these names — is refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import BinaryIO, Final

from duban.tasks.parser.files_sniff import ole2_streams

_ZIP_MAGICS: Final = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2_MAGIC: Final = bytes.fromhex("D0CF11E0A1B11AE1")
_PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC: Final = b"\xff\xd8\xff"
HEAD_BYTES: Final = 4096


@dataclass(frozen=True, slots=True)
class EvidenceKind:
    """A recognised kind: its short name, the media type it is served as, and its label."""

    name: str
    media_type: str
    label: str

    @property
    def is_image(self) -> bool:
        """A photograph the page may show as a thumbnail."""
        return self.media_type.startswith("image/")


KINDS: Final = {
    kind.name: kind
    for kind in (
        EvidenceKind("pdf", "application/pdf", "PDF"),
        EvidenceKind("jpeg", "image/jpeg", "JPEG 图片"),
        EvidenceKind("png", "image/png", "PNG 图片"),
        EvidenceKind(
            "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word 文档"
        ),
        EvidenceKind(
            "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel 表格"
        ),
        EvidenceKind("wps", "application/msword", "WPS 文字/Word 97"),
        EvidenceKind("et", "application/vnd.ms-excel", "WPS 表格/Excel 97"),
        EvidenceKind("ofd", "application/ofd", "OFD 版式文件"),
        EvidenceKind("zip", "application/zip", "压缩包"),
    )
}
# Kinds that may be shown in the browser (inline) rather than only downloaded.
INLINE_MEDIA_TYPES: Final = frozenset({"application/pdf", "image/png", "image/jpeg"})


def _zip_kind(handle: BinaryIO) -> str | None:
    """docx/xlsx/ofd/zip by what the archive holds; None for a damaged one or a program in disguise."""
    try:
        handle.seek(0)
        with zipfile.ZipFile(handle) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, UnicodeDecodeError, EOFError):
        return None
    lowered = {name.lower() for name in names}
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ofd.xml" in lowered:
        return "ofd"
    if {"meta-inf/manifest.mf", "androidmanifest.xml", "classes.dex"} & lowered:
        return None  # Java and Android programs are ZIP files too
    if "ppt/presentation.xml" in names or "[content_types].xml" in lowered:
        return None  # other Office packages would be mislabelled as a plain archive
    return "zip"


def _ole2_top_streams(handle: BinaryIO, head: bytes) -> set[str]:
    """The top stream names of an OLE2 file: its first directory sector, read where the header puts it."""
    if len(head) < 512:
        return set()
    shift = int.from_bytes(head[0x1E:0x20], "little")
    size = 1 << shift if 9 <= shift <= 12 else 512
    start = (int.from_bytes(head[0x30:0x34], "little") + 1) * size
    handle.seek(start)
    sector = handle.read(size)
    # ole2_streams reads the directory where the header puts it: hand it a header that names sector 0,
    # padded to one sector, followed by the directory sector read from the file.
    header = head[:0x30] + bytes(4) + head[0x34:512]
    return ole2_streams(header + bytes(size - 512) + sector)


def sniff_file(handle: BinaryIO) -> EvidenceKind | None:
    """The kind of a (seekable) file from its bytes; None when it is none of the accepted kinds."""
    handle.seek(0)
    head = handle.read(HEAD_BYTES)
    name: str | None = None
    if head.startswith(b"%PDF-"):
        name = "pdf"
    elif head.startswith(_PNG_MAGIC):
        name = "png"
    elif head.startswith(_JPEG_MAGIC):
        name = "jpeg"
    elif head.startswith(_ZIP_MAGICS):
        name = _zip_kind(handle)
    elif head.startswith(_OLE2_MAGIC):
        streams = _ole2_top_streams(handle, head)
        if "WordDocument" in streams:
            name = "wps"
        elif streams & {"Workbook", "Book"}:
            name = "et"
    return KINDS[name] if name else None
