"""Outline numbering: recognising 第X章, 一、, （一）, 1., （1）, ① … at a line start or mid-line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum


class Style(IntEnum):
    """Numbering styles, shallowest first (the usual rank order of Chinese official documents)."""

    part = 0  # 第一编 / 第一部分 / 第一篇
    chapter = 1  # 第一章
    section = 2  # 第一节
    article = 3  # 第一条
    cn = 4  # 一、 一.
    cn_paren = 5  # （一） (一)
    arabic = 6  # 1. 1、
    arabic_rparen = 7  # 1） 1)
    arabic_paren = 8  # （1） (1) ⑴
    circled = 9  # ①


#: Styles whose label is a word of the heading (第四章) rather than a bare counter.
WORD_STYLES = frozenset({Style.part, Style.chapter, Style.section, Style.article})

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "零〇一二两三四五六七八九十百千"


def cn_to_int(text: str) -> int | None:
    """Value of a Chinese (or Arabic) numeral below 10000, None when it is not one."""
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    total = 0
    digit = -1
    for ch in text:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch] if digit < 0 else digit * 10 + CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (1 if digit < 0 else digit) * _CN_UNITS[ch]
            digit = -1
        else:
            return None
    if digit > 0:
        total += digit
    return total if total > 0 else None


def int_to_cn(value: int) -> str:
    """Chinese numeral of 1–999 as written in outlines (十一, 二十五, 一百零一)."""
    digits = "零一二三四五六七八九"
    if value < 10:
        return digits[value]
    if value < 20:
        return "十" + (digits[value - 10] if value > 10 else "")
    if value < 100:
        tens, ones = divmod(value, 10)
        return digits[tens] + "十" + (digits[ones] if ones else "")
    hundreds, rest = divmod(value, 100)
    if rest == 0:
        return digits[hundreds] + "百"
    if rest < 10:
        return digits[hundreds] + "百零" + digits[rest]
    tail = int_to_cn(rest)
    return digits[hundreds] + "百" + ("一" + tail if rest < 20 else tail)


_CIRCLED = "".join(chr(c) for c in range(0x2460, 0x2474)) + "".join(chr(c) for c in range(0x3251, 0x3260))
_CIRCLED += "".join(chr(c) for c in range(0x32B1, 0x32C0))
_PAREN_DIGITS = "".join(chr(c) for c in range(0x2474, 0x2488))  # ⑴ … ⒇
_STOP_DIGITS = "".join(chr(c) for c in range(0x2488, 0x249C))  # ⒈ … ⒛
_N = rf"[{_CN_NUM}\d]{{1,6}}"

# All patterns run on the width-folded, simplified key (（→(, ．→., U+3000→space) and are anchored.
_PATTERNS: tuple[tuple[Style, re.Pattern[str]], ...] = (
    (Style.part, re.compile(rf"第\s?({_N})\s?(?:编|部分|篇)")),
    (Style.chapter, re.compile(rf"第\s?({_N})\s?章")),
    (Style.section, re.compile(rf"第\s?({_N})\s?节")),
    (Style.article, re.compile(rf"第\s?({_N})\s?条")),
    (Style.cn, re.compile(rf"([{_CN_NUM}]{{1,4}})\s?(?:、|\.(?!\d)|,(?=\s))")),
    (Style.cn_paren, re.compile(rf"\(\s?([{_CN_NUM}]{{1,4}})\s?\)")),
    (Style.arabic, re.compile(r"(\d{1,4})\s?(?:、|\.(?![\d.])|,(?=\s))")),
    (Style.arabic_rparen, re.compile(r"(\d{1,3})\)")),
    (Style.arabic_paren, re.compile(r"\(\s?(\d{1,3})\s?\)")),
)
_AFTER_SEPARATORS = " \t:：、.,，"
_CN_DIGIT_CHARS = frozenset("一二三四五六七八九十")


@dataclass(frozen=True, slots=True)
class Marker:
    """A numbering marker found in a line: its style, value, label and where the heading text starts."""

    style: Style
    number: int
    label: str
    start: int
    end: int


def _label(style: Style, number: int, raw: str) -> str:
    if style in WORD_STYLES:
        return re.sub(r"\s", "", raw)
    if style is Style.cn:
        return int_to_cn(number)
    if style is Style.cn_paren:
        return f"({int_to_cn(number)})"
    if style is Style.arabic:
        return f"{number}."
    if style is Style.arabic_rparen:
        return f"{number})"
    if style is Style.arabic_paren:
        return f"({number})"
    return raw


def _skip_separators(key: str, pos: int, *, word_style: bool) -> int:
    limit = min(len(key), pos + 4)
    while pos < limit and (key[pos] in _AFTER_SEPARATORS if word_style else key[pos] in " \t、"):
        pos += 1
    return pos


def match_marker(key: str, original: str, start: int = 0) -> Marker | None:
    """The numbering marker at position start of key (original gives the label as written)."""
    if start >= len(key):
        return None
    first = key[start]
    if first in _CIRCLED:
        number = _CIRCLED.index(first) + 1
        return Marker(
            Style.circled, number, original[start], start, _skip_separators(key, start + 1, word_style=False)
        )
    if first in _PAREN_DIGITS:
        number = _PAREN_DIGITS.index(first) + 1
        return Marker(
            Style.arabic_paren,
            number,
            f"({number})",
            start,
            _skip_separators(key, start + 1, word_style=False),
        )
    if first in _STOP_DIGITS:
        number = _STOP_DIGITS.index(first) + 1
        return Marker(
            Style.arabic, number, f"{number}.", start, _skip_separators(key, start + 1, word_style=False)
        )
    if first not in "第(" and first not in _CN_DIGIT_CHARS and first not in "零〇两" and not first.isdigit():
        return None
    for style, pattern in _PATTERNS:
        found = pattern.match(key, start)
        if found is None:
            continue
        value = cn_to_int(found.group(1))
        if value is None:
            continue
        end = found.end()
        if style is Style.cn and end < len(key) and key[end] in _CN_DIGIT_CHARS:
            continue  # 一、二级保护区: an enumeration of numerals, not a heading
        if style in WORD_STYLES:
            if style is Style.article and end < len(key) and key[end] in "件款项":
                continue
            word = original[start:end]
        else:
            word = found.group(0)
        label = _label(style, value, word)
        return Marker(style, value, label, start, _skip_separators(key, end, word_style=style in WORD_STYLES))
    return None


def expected_labels(style: Style, number: int) -> tuple[str, ...]:
    """Key spellings of a marker, used to look for the expected next item in running text."""
    if style is Style.cn_paren:
        return (f"({int_to_cn(number)})",)
    if style is Style.arabic_paren:
        return (f"({number})",)
    if style is Style.cn:
        return (f"{int_to_cn(number)}、",)
    if style is Style.arabic:
        return (f"{number}.", f"{number}、")
    if style is Style.circled and number <= len(_CIRCLED):
        return (_CIRCLED[number - 1],)
    return ()
