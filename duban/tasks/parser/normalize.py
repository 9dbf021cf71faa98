"""Text normalisation: source lines without Word artifacts, and a simplified, width-folded matching key.

Every line keeps its original text (as written, traditional or simplified) and a key of exactly the same
length, in simplified script with full-width forms folded, so that a match found on the key is cut from the
original at the same offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from duban.tasks.parser.model import ParseError

_LINE_BREAK = re.compile(r"\r\n|[\r\n\f\v\u2028\u2029\x85]")
_BOOKMARK = re.compile(r"\[(?:bookmark|anchor|_Toc|OLE_LINK)[:\s][^\]\n]{0,200}\]", re.IGNORECASE)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_EDGE_SPACE = " \t\u3000\u00a0\u2002\u2003\u2009\u202f"
# Controls other than tab and line breaks: a few are tolerated (removed), many mean binary data.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_MAX_CONTROL_SHARE = 0.01


def _width_fold_table() -> dict[int, str]:
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
    table.update({0x3000: " ", 0x00A0: " ", 0x2002: " ", 0x2003: " ", 0x2009: " ", 0x202F: " ", 0x09: " "})
    table.update({ord("﹙"): "(", ord("﹚"): ")", ord("﹒"): ".", ord("｡"): "。"})
    return table


_FOLD = _width_fold_table()


@dataclass(frozen=True, slots=True)
class Line:
    """One physical line: its 1-based number, cleaned original text and same-length matching key."""

    number: int
    text: str
    key: str


def check_text(text: str) -> None:
    """Raise ParseError for text that is empty or is binary data rather than a document."""
    if not text.strip():
        raise ParseError("文档为空", "the document is empty", code="empty_document", line=None)
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise ParseError(
            f"第{line}行含有二进制数据（NUL 字节），不是文本文档",
            f"line {line} contains binary data (NUL bytes); not a text document",
            code="binary_document",
            line=line,
        )
    controls = len(_CONTROL.findall(text))
    if controls > max(8, int(len(text) * _MAX_CONTROL_SHARE)):
        first = _CONTROL.search(text)
        where = text.count("\n", 0, first.start()) + 1 if first else None
        raise ParseError(
            "文档含有过多控制字符，不是文本文档",
            "the document contains too many control characters; not a text document",
            code="binary_document",
            line=where,
        )


def fold_width(text: str) -> str:
    """Full-width ASCII forms and wide spaces folded to ASCII; length preserved."""
    return text.translate(_FOLD)


def simplified_key(text: str, to_simplified: Callable[[str], str]) -> str:
    """Width-folded simplified copy of text with exactly its length (per character when a phrase differs)."""
    converted = to_simplified(text)
    if len(converted) != len(text):
        chars = sorted(set(text) - {"\n"})
        mapped = to_simplified("\n".join(chars)).split("\n")
        if len(mapped) != len(chars):
            mapped = [to_simplified(char) for char in chars]
        table = {ord(c): m for c, m in zip(chars, mapped, strict=True) if c != m and len(m) == 1}
        converted = text.translate(table)
    return fold_width(converted)


def clean_line(raw: str) -> str:
    """A physical line without Word bookmark artifacts, invisible characters and surrounding spaces."""
    text = _BOOKMARK.sub("", raw) if "[" in raw else raw
    text = text.translate(_INVISIBLE)
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    stripped = text.strip(_EDGE_SPACE)
    if "\t" in stripped:
        # A table row: its empty first or last cells keep their columns.
        return text.strip(_EDGE_SPACE.replace("\t", "")).strip("\n")
    return stripped


def split_lines(text: str, to_simplified: Callable[[str], str]) -> list[Line]:
    """The document's lines, numbered from 1, cleaned, with their matching keys."""
    check_text(text)
    raw_lines = _LINE_BREAK.split(text)
    cleaned = [clean_line(raw) for raw in raw_lines]
    # One conversion call for the whole text: OpenCC is fast in bulk and slow per call.
    joined = "\n".join(cleaned)
    keys = simplified_key(joined, to_simplified).split("\n")
    if len(keys) != len(cleaned):
        keys = [simplified_key(line, to_simplified) for line in cleaned]
    return [Line(number, line, key) for number, (line, key) in enumerate(zip(cleaned, keys, strict=True), 1)]
