"""Text helpers shared by the fact readers (timex, targets, bodies, responsibility, regions).

Every reader matches on `search_view(text)`, a copy of the same length (OpenCC simplified script,
half-width digits and letters, Arabic years), and reports spans of the original text as written.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

from duban.tasks.chinese import to_simplified
from duban.tasks.parser.numbering import CN_DIGITS

_HALF_WIDTH = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
    | {"％": "%", "．": ".", "－": "-", "～": "~"}
)
_FULL_WIDTH_RE = re.compile("[０-９Ａ-Ｚａ-ｚ％．－～]+")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")
_CN_YEAR_RE = re.compile(r"[一二][〇○零一二三四五六七八九]{3}(?=[ \t\u3000]*年)")
_BOOK_MARKS_RE = re.compile("[《》\n]")


@lru_cache(maxsize=256)
def search_view(text: str) -> str:
    """A copy to match on, of the same length: OpenCC simplified, half-width digits/letters, Arabic years."""
    # Cached: the parser hands the same measure text to every fact reader in turn.
    simplified = to_simplified(text)
    view = simplified if len(simplified) == len(text) else text
    view = _FULL_WIDTH_RE.sub(lambda m: m.group(0).translate(_HALF_WIDTH), view)
    return _CN_YEAR_RE.sub(lambda m: m.group(0).translate(_CN_DIGITS), view)


def book_title_spans(view: str) -> list[tuple[int, int]]:
    """Sorted spans of 《…》 document names (nesting allowed; an unclosed 《 runs to the end of its line)."""
    spans: list[tuple[int, int]] = []
    depth, opened = 0, 0
    for m in _BOOK_MARKS_RE.finditer(view):
        ch, i = m.group(0), m.start()
        if ch == "《":
            if depth == 0:
                opened = i
            depth += 1
        elif ch == "》" and depth:
            depth -= 1
            if depth == 0:
                spans.append((opened, i + 1))
        elif ch == "\n" and depth:
            spans.append((opened, i))
            depth = 0
    if depth:
        spans.append((opened, len(view)))
    return spans


_BRACKETS_RE = re.compile("[（(）)\n]")
_OPEN = "（("


def bracket_spans(view: str, max_len: int = 300) -> list[tuple[int, int]]:
    """Outermost （…）/(…) groups (nesting allowed, within one line, at most `max_len` long), sorted."""
    spans: list[tuple[int, int]] = []
    depth, opened = 0, 0
    for m in _BRACKETS_RE.finditer(view):
        ch, i = m.group(0), m.start()
        if ch in _OPEN:
            if depth == 0:
                opened = i
            depth += 1
        elif ch == "\n":
            depth = 0
        elif depth:
            depth -= 1
            if depth == 0 and i - opened <= max_len:
                spans.append((opened, i + 1))
    return spans


def split_top(view: str, start: int, end: int, seps: str) -> list[tuple[int, int]]:
    """Pieces of view[start:end] between separators that stand outside brackets."""
    pieces: list[tuple[int, int]] = []
    depth, piece = 0, start
    for i in range(start, end):
        ch = view[i]
        if ch in _OPEN:
            depth += 1
        elif ch in "）)" and depth:
            depth -= 1
        elif depth == 0 and ch in seps:
            pieces.append((piece, i))
            piece = i + 1
    pieces.append((piece, end))
    return pieces


def in_spans(pos: int, spans: list[tuple[int, int]]) -> bool:
    """Whether `pos` lies inside one of `spans` (sorted, non-overlapping, as book_title_spans gives)."""
    k = bisect_right(spans, (pos, len(spans) and 1 << 62)) - 1
    return k >= 0 and spans[k][0] <= pos < spans[k][1]


def cn_int(s: str) -> int | None:
    """A small Chinese numeral ("十二", "三十一", "两", "一百二十") as an int, else None."""
    total, current = 0, 0
    for ch in s:
        if ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current if s else None
