"""Paragraphs from lines: page-break and hard-wrap joins, and the noise that is not part of the text."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from duban.tasks.parser.normalize import Line
from duban.tasks.parser.numbering import match_marker

# A line that ends in one of these ends its sentence; anything else may have been cut by a page break.
_OPEN_END = re.compile(r"[\w，、,（(“‘《\-—]$")
_STRONG_OPEN_END = frozenset("，、,")
_MIN_JOIN_CHARS = 20
_BULLET = re.compile(r"(?:--|——|[-•●■◆◇▪·○□➢]|[一二三四五六七八九十]+是)")
_DAY = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})"
_DATE = rf"(?:\d{{4}}|[〇零一二三四五六七八九]{{4}})\s?年\s?{_DAY}\s?月(?:\s?{_DAY}\s?日)?"
DATE_LINE = re.compile(rf"\(?\s?{_DATE}\s?(?:印发|发布|印)?\s?\)?")
_EDITORIAL = re.compile(r"\(?(?:本文有删[减节]|有删[减节]|此件[^()]{0,8}|略|完|全文完)\)?")
_TRAILER = re.compile(r"(?:抄送|抄报|分送|发送|主题词)\s?:")
_NOTE_LINE = re.compile(
    r"(?:来源|稿源|文章来源|信息来源|责任编辑|编辑|审核|校对|发布时间|发布日期|作者|点击数|浏览次数)\s?:"
)
# Page numbers left by PDF or Word exports: "— 5 —", "-12-", "第3页 共20页", a bare "7".
_PAGE_NUMBER = re.compile(
    r"[-—–]{1,2}\s?\d{1,4}\s?[-—–]{1,2}|第\s?\d{1,4}\s?页(?:\s?[,/]?\s?共\s?\d{1,4}\s?页)?|\d{1,4}"
)
_INLINE_SOURCE = re.compile(r"(?<=[。！!？?”」])\s?(?:来源|稿源|文章来源|信息来源)\s?:")


class Noise(StrEnum):
    """Kinds of lines that are not document text."""

    date = "date"
    page = "page"
    editorial = "editorial"
    trailer = "trailer"
    note = "note"


def classify_noise(key: str) -> Noise | None:
    """The kind of noise a whole line is (on its matching key), None for text."""
    if not key or len(key) > 60:
        return None
    if DATE_LINE.fullmatch(key):
        return Noise.date
    if _PAGE_NUMBER.fullmatch(key):
        return Noise.page
    if _EDITORIAL.fullmatch(key):
        return Noise.editorial
    if _TRAILER.match(key):
        return Noise.trailer
    if _NOTE_LINE.match(key):
        return Noise.note
    return None


def strip_inline_source(line: Line) -> Line:
    """A line without a source note appended after its last sentence (…奋斗!来源:《内蒙古日报》)."""
    found = _INLINE_SOURCE.search(line.key)
    if found is None:
        return line
    cut = found.start()
    return Line(line.number, line.text[:cut].rstrip(), line.key[:cut].rstrip())


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph: its text and key, and the (offset, source line) where each physical piece starts."""

    text: str
    key: str
    pieces: tuple[tuple[int, int], ...]

    @property
    def line_start(self) -> int:
        """First source line."""
        return self.pieces[0][1]

    @property
    def line_end(self) -> int:
        """Last source line."""
        return self.pieces[-1][1]

    def line_at(self, offset: int) -> int:
        """Source line of a character offset."""
        index = bisect_right(self.pieces, offset, key=_piece_offset) - 1
        return self.pieces[max(index, 0)][1]

    def cut(self, start: int, end: int | None = None) -> Paragraph:
        """The part between two offsets, outer spaces trimmed, pieces kept."""
        stop = len(self.text) if end is None else end
        while start < stop and self.key[start] == " ":
            start += 1
        while stop > start and self.key[stop - 1] == " ":
            stop -= 1
        first = bisect_right(self.pieces, start, key=_piece_offset)
        last = bisect_left(self.pieces, stop, key=_piece_offset)
        pieces = [(0, self.line_at(start))]
        pieces += [(offset - start, number) for offset, number in self.pieces[first:last]]
        return Paragraph(self.text[start:stop], self.key[start:stop], tuple(pieces))


def _piece_offset(piece: tuple[int, int]) -> int:
    return piece[0]


@dataclass(frozen=True, slots=True)
class Joins:
    """How many physical breaks were mended while building paragraphs."""

    page_breaks: int = 0
    repeated_chars: int = 0


def _is_heading_only(key: str) -> bool:
    marker = match_marker(key, key)
    return marker is not None and "。" not in key[marker.end :].rstrip("。")


def _may_join(keys: Sequence[str], length: int, following: str, gap: int) -> bool:
    previous = keys[-1]
    if not _OPEN_END.search(previous):
        return False
    strong = previous[-1] in _STRONG_OPEN_END
    if len(keys) == 1 and not strong and _is_heading_only(previous):
        return False
    if length < _MIN_JOIN_CHARS and not strong:
        return False
    if gap > 3:
        return False
    if match_marker(following, following) is not None or _BULLET.match(following):
        return False
    return classify_noise(following) is None


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def build_paragraphs(lines: Sequence[Line]) -> tuple[list[Paragraph], Joins]:
    """Non-blank lines grouped into paragraphs, mending page breaks and hard wraps inside sentences."""
    paragraphs: list[Paragraph] = []
    texts: list[str] = []
    keys: list[str] = []
    pieces: list[tuple[int, int]] = []
    length = 0
    gap = 0
    page_breaks = repeated = 0

    def flush() -> None:
        nonlocal texts, keys, pieces, length
        if texts:
            paragraphs.append(Paragraph("".join(texts), "".join(keys), tuple(pieces)))
        texts, keys, pieces, length = [], [], [], 0

    for line in lines:
        if not line.text:
            gap += 1
            continue
        text, key = line.text, line.key
        # Table rows (tab-separated cells) are never joined.
        if texts and "\t" not in texts[-1] and "\t" not in text and _may_join(keys, length, key, gap):
            page_breaks += 1
            # A page break sometimes repeats the last character on the next page (深 / 深化实施).
            if gap > 0 and len(key) > 1 and key[0] == keys[-1][-1] and _is_cjk(key[0]):
                text, key = text[1:], key[1:]
                repeated += 1
            pieces.append((length, line.number))
        else:
            flush()
            pieces.append((0, line.number))
        texts.append(text)
        keys.append(key)
        length += len(text)
        gap = 0
    flush()
    return paragraphs, Joins(page_breaks, repeated)


_TOC_HEAD = re.compile(r"目\s{0,3}录")
_TOC_NOISE = re.compile(r"[\s.·…\-—_]+\d*$|\s+")


def _toc_key(key: str) -> str:
    return _TOC_NOISE.sub("", key)


def skip_table_of_contents(paragraphs: list[Paragraph]) -> list[Paragraph]:
    """Paragraphs without a table of contents (目录 … up to where its first entry appears again)."""
    head = next((i for i, p in enumerate(paragraphs[:200]) if _TOC_HEAD.fullmatch(p.key)), None)
    if head is None:
        return paragraphs
    first = next((i for i in range(head + 1, len(paragraphs)) if match_marker(paragraphs[i].key, "")), None)
    if first is None:
        return paragraphs
    wanted = _toc_key(paragraphs[first].key)
    for index in range(first + 1, len(paragraphs)):
        if _toc_key(paragraphs[index].key) == wanted:
            return paragraphs[:head] + paragraphs[index:]
    return paragraphs
