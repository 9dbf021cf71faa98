"""Outline segmentation: paragraphs into a tree of numbered headings, checking that numbering runs in order.

A numbering marker opens a node only when its number is what the document leads one to expect: the next
number at an open level, 1 for a new deeper level (numbering that restarts), or the next number after the
last one of that style anywhere (numbering that runs on across sections, （一）…（二十五） over eight
sections). Anything else is running text ("一、二级保护区…"). Items that start mid-line are split off only
when they are the expected next item and carry a short heading clause ("…体系。（二）加大政策支持。…").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from duban.tasks.parser.numbering import Marker, Style, expected_labels, match_marker
from duban.tasks.parser.paragraphs import Paragraph
from duban.tasks.parser.tables import TableHeader, read_header, row_parts, split_cells

_MAX_GAP = 3  # numbering may skip a couple of items (abridged documents, typos)
_MAX_COLON_HEADING_CHARS = 25
_MAX_INLINE_HEADING_CHARS = 50
_INLINE_WINDOW = 8000  # an item running on in the same line is never longer than this
_SENTENCE_END = "。；;！!？?"
# A paragraph that only says who is responsible: "(责任单位:…)", "牵头单位:…".
ANNOTATION = re.compile(r"[(〔【\[]?\s?(?:牵头|责任|主责|配合|协办)(?:单位|部门)\s?[:：]")
_TOTAL_ROW = re.compile(r"合计|总计|总分|小计|共计|总体|得分合计")
_ANNEX = re.compile(r"(?:附件|附表|附录)\s?\d{0,2}\s?(?::.{0,60})?")


@dataclass(slots=True)
class RawNode:
    """A node while the outline is being built."""

    style: Style | None
    number: int
    label: str
    title: str
    title_key: str
    heading_only: bool
    line_start: int
    line_end: int
    body: list[Paragraph] = field(default_factory=list)
    children: list[RawNode] = field(default_factory=list)
    annex: bool = False

    def last_line(self) -> int:
        """Last source line covered by the node and its descendants."""
        end = self.line_end
        if self.body:
            end = max(end, self.body[-1].line_end)
        if self.children:
            end = max(end, self.children[-1].last_line())
        return end


def heading_end(key: str, start: int) -> int:
    """Where the heading clause that begins at start ends: the first 。, or an early colon."""
    index = key.find("。", start)
    colon = key.find(":", start, start + _MAX_COLON_HEADING_CHARS + 1)
    if colon > start and (index < 0 or colon < index):
        return colon  # （一）主要目标：到2020年…
    return index if index >= 0 else len(key)


def split_heading(rest: Paragraph) -> tuple[str, str, Paragraph | None]:
    """Heading clause (up to the first 。, without it), its key, and the body after it (None if none)."""
    index = heading_end(rest.key, 0)
    if index >= len(rest.key) - 1:
        return rest.text[:index].strip(), rest.key[:index].strip(), None
    body = rest.cut(index + 1)
    return rest.text[:index].strip(), rest.key[:index].strip(), body if body.text else None


class OutlineBuilder:
    """Feeds paragraphs in reading order and keeps the stack of open headings."""

    def __init__(self, date_lines: frozenset[int] = frozenset()) -> None:
        """`date_lines`: lines that held only a date (a 成文日期 ends a cover letter or a document)."""
        self.root = RawNode(None, 0, "", "", "", True, 0, 0)
        self.stack: list[RawNode] = [self.root]
        self.preamble: list[Paragraph] = []
        self.last_number: dict[Style, int] = {}
        self.table: TableHeader | None = None
        self.annexes: list[int] = []  # lines where annexes begin
        self.date_lines = sorted(date_lines)
        self.last_line = 0
        self.cover_split: int | None = None  # root children before it are a cover letter's points

    @property
    def started(self) -> bool:
        """Whether the first heading has been seen."""
        return bool(self.root.children)

    def feed(self, paragraph: Paragraph) -> bool:
        """Take the next paragraph (True: the builder reads on to the end of the document)."""
        crossed = self.started and self._dated_between(self.last_line, paragraph.line_start)
        self.last_line = paragraph.line_end
        if crossed and self.cover_split is None and not self.annexes:
            # A cover letter "…通知如下：一、…二、… 某某办公室 2023年1月3日", then the plan: numbering anew.
            self.cover_split = len(self.root.children)
            self.stack = [self.root]
            self.last_number = {}
            self.table = None
        if not self.started and (run := _run_in_items(paragraph.key)):
            # "…现提出以下意见。1.对来…。责任单位：A。2.对…": the numbered list runs on in one line.
            pieces = [paragraph.cut(a, b) for a, b in zip([0, *run], [*run, len(paragraph.key)], strict=True)]
            return all(self.feed(piece) for piece in pieces if piece.text)
        if self._table_row(paragraph):
            return True
        marker = match_marker(paragraph.key, paragraph.text)
        if marker is not None and self._accept(marker, paragraph.key):
            self._consume(paragraph, marker)
        elif not self.started:
            self.preamble.append(paragraph)
        elif _ANNEX.fullmatch(paragraph.key):
            self._open_annex(paragraph)
        elif ANNOTATION.match(paragraph.key) and self._annotates_group():
            # "(责任单位:…)" after the last of several sub-items, none annotated: it is for all of them.
            self.stack[-2].body.append(paragraph)
        else:
            self._consume(paragraph, None)
        return True

    def _dated_between(self, after: int, before: int) -> bool:
        index = bisect_right(self.date_lines, after)
        return index < len(self.date_lines) and self.date_lines[index] < before

    def drop_cover_letter(self) -> int:
        """Leave out a cover letter's numbered points when the plan after its date outnumbers them."""
        if self.cover_split is None:
            return 0
        cover, plan = self.root.children[: self.cover_split], self.root.children[self.cover_split :]
        if not plan or sum(map(_size, plan)) < sum(map(_size, cover)):
            return 0
        self.root.children = plan
        return len(cover)

    def _open_annex(self, paragraph: Paragraph) -> None:
        """An annex (附件1：重点任务分工表) is a part of its own whose numbering starts afresh."""
        key = re.sub(r"\s", "", paragraph.key)
        label = re.match(r"(?:附件|附表|附录)\d{0,2}", key)
        title_at = paragraph.key.find(":")
        title = paragraph.text[title_at + 1 :].strip() if title_at >= 0 else ""
        line = paragraph.line_start
        node = RawNode(
            Style.part, 0, label.group(0) if label else "附件", title, title, not title, line, line
        )
        node.annex = True
        self.stack = [self.root]
        self.root.children.append(node)
        self.stack.append(node)
        self.last_number = {}
        self.table = None
        self.annexes.append(line)

    def _table_row(self, paragraph: Paragraph) -> bool:
        """Take a row of a task table (or its header); False when the paragraph is not one."""
        if "\t" not in paragraph.text:
            # A merged category row ("一、大气污染防治") keeps the table going; running text ends it.
            if self.table is not None and (len(paragraph.key) > 40 or "。" in paragraph.key):
                self.table = None
            return False
        cells = split_cells(paragraph)
        header = read_header(cells)
        if header is not None:
            self.table = header
            return True
        if self.table is None:
            return False
        if sum(1 for cell in cells if cell.text) == 1:
            return False  # a category row merged across the table ("一、大气污染防治"): an ordinary heading
        parts = row_parts(self.table, cells)
        if parts is None:
            return True
        written, title, title_key, body, body_key = parts
        line = paragraph.line_start
        if _TOTAL_ROW.fullmatch(re.sub(r"\s", "", title_key)):
            return True  # 合计 / 总分: a sum, not a task
        heading = f"{written.strip()}{'' if written.strip().endswith(('、', '.')) else '、'}"
        marker = match_marker(heading + title_key, heading + title) if written.strip() else None
        if marker is not None and marker.style in (Style.cn, Style.cn_paren):
            # "一、\t巩固成果…": a category row of the table opens a part; its rows go under it.
            opened = Paragraph(heading + title, heading + title_key, ((0, line),))
            if self._accept(marker, opened.key):
                self._open(marker, opened)
                if body:
                    self.stack[-1].body.append(Paragraph(body, body_key, ((0, line),)))
                return True
        parent = self.stack[-1]
        number = sum(1 for child in parent.children if child.style is None) + 1
        label = written.strip().rstrip(".、")
        if not label or any(child.label == label for child in parent.children):
            label = f"#{number}"  # no 序号, or one the table repeats: the row's place keeps paths unique
        row = RawNode(None, number, label, title, title_key, False, line, paragraph.line_end)
        if body:
            row.body.append(Paragraph(body, body_key, ((0, line),)))
        parent.children.append(row)
        return True

    def _annotates_group(self) -> bool:
        if len(self.stack) < 3:
            return False
        siblings = self.stack[-2].children
        return len(siblings) >= 2 and not any(
            ANNOTATION.match(part.key) for sibling in siblings for part in sibling.body
        )

    def _accept(self, marker: Marker, key: str) -> bool:
        for node in self.stack[1:]:
            if node.style is marker.style:
                return node.number < marker.number <= node.number + _MAX_GAP
        top = self.stack[-1].style
        if top is not None and marker.style < top and not _short_heading(key, marker.end):
            # A new level above open deeper ones ("（一）" inside a "1." item) needs a real heading.
            return False
        last = self.last_number.get(marker.style)
        if marker.number == 1:
            return True
        if last is not None and last < marker.number <= last + _MAX_GAP:
            return True
        # A document (or an abridged extract) may open with its second heading.
        return not self.started and last is None and marker.number <= 2

    def _consume(self, paragraph: Paragraph, marker: Marker | None) -> None:
        """Open the heading (if any), then hand the text to the open node, splitting off inline items."""
        key = paragraph.key
        position = 0
        while True:
            if marker is not None:
                position = self._open(marker, paragraph)
            split = self._inline_item(key, position)
            end = len(key) if split is None else split
            if key[position:end].strip():
                piece = paragraph if position == 0 and end == len(key) else paragraph.cut(position, end)
                self.stack[-1].body.append(piece)
            if split is None:
                return
            marker = match_marker(key, paragraph.text, split)
            if marker is None:  # cannot happen: the split point was found by its marker
                self.stack[-1].body.append(paragraph.cut(split))
                return

    def _open(self, marker: Marker, paragraph: Paragraph) -> int:
        """Open a node for the marker; returns where its body starts in the paragraph."""
        while len(self.stack) > 1 and (self.stack[-1].style or 0) >= marker.style:
            self.stack.pop()
        key = paragraph.key
        end = heading_end(key, marker.end)
        body_start = end + 1 if end < len(key) - 1 else len(key)
        title = paragraph.text[marker.end : end].strip()
        title_key = key[marker.end : end].strip()
        line = paragraph.line_at(marker.start)
        heading_only = not key[body_start:].strip()
        node = RawNode(marker.style, marker.number, marker.label, title, title_key, heading_only, line, line)
        self.stack[-1].children.append(node)
        self.stack.append(node)
        self.last_number[marker.style] = marker.number
        return body_start

    def _inline_item(self, key: str, start: int) -> int | None:
        """Where the expected next item starts inside running text after start, if it does."""
        best: int | None = None
        stop = min(len(key), start + _INLINE_WINDOW)
        for node in self.stack[1:]:
            if node.style is None:
                continue
            for spelling in expected_labels(node.style, node.number + 1):
                position = _find_after_sentence(key, spelling, start, stop if best is None else best)
                if position is not None and (best is None or position < best):
                    best = position
        return best


_RUN_START = re.compile(r"(?<=[。；;：:])\s?(?=(?:1[.、．]|一、|\(一\))(?!\d))")


def _run_in_items(key: str) -> list[int]:
    """Where the items of a numbered list that runs on after a sentence start ("。1.…。2.…"), when it does:
    at least two items, numbered from one, each right after the end of a sentence."""
    first = _RUN_START.search(key)
    if first is None:
        return []
    marker = match_marker(key, key, first.end())
    if marker is None or marker.number != 1:
        return []
    starts = [first.end()]
    while True:
        following = expected_labels(marker.style, marker.number + 1)
        places = (_after_sentence_end(key, spelling, starts[-1]) for spelling in following)
        found = min((place for place in places if place >= 0), default=-1)
        if found < 0:
            break
        nxt = match_marker(key, key, found)
        if nxt is None or nxt.style is not marker.style:
            break
        starts.append(found)
        marker = nxt
    return starts if len(starts) >= 2 else []


def _after_sentence_end(key: str, spelling: str, start: int) -> int:
    position = key.find(spelling, start + 1)
    while position >= 0:
        back = position - 1
        while back >= 0 and key[back] == " ":
            back -= 1
        if back >= 0 and key[back] in _SENTENCE_END:
            return position
        position = key.find(spelling, position + 1)
    return -1


def _size(node: RawNode) -> int:
    """How many nodes a subtree holds."""
    return 1 + sum(map(_size, node.children))


def _short_heading(key: str, start: int) -> bool:
    end = heading_end(key, start)
    return 0 < end - start <= _MAX_INLINE_HEADING_CHARS and not any(ch in "，,；;" for ch in key[start:end])


def _find_after_sentence(key: str, spelling: str, start: int, stop: int) -> int | None:
    """First position of spelling in [start, stop) right after a sentence end and before a short heading."""
    while True:
        position = key.find(spelling, start, stop)
        if position < 0:
            return None
        start = position + 1
        back = position - 1
        while back >= 0 and key[back] == " ":
            back -= 1
        if back < 0 or key[back] not in _SENTENCE_END:
            continue
        clause_start = position + len(spelling)
        end = key.find("。", clause_start, clause_start + _MAX_INLINE_HEADING_CHARS + 1)
        if end <= clause_start:
            continue
        if any(ch in "，,；;" for ch in key[clause_start:end]):
            continue
        return position
