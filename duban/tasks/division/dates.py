"""Deadlines as offices type them in a 分工方案: 2026-12-31, 2026/12/31, 2026.12.31, 2026年12月31日,
2026年底 / 2026年年底 / 2026年末, 2026年6月底 (前), 2026年6月 — any width; spreadsheet dates as they are."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from duban.tasks.chinese import normalize_width

_YMD = re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$")
_CN_YMD = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]$")
_YEAR_END = re.compile(r"^(\d{4})年(?:年底|底|年末|末|12月底|12月末)$")
_MONTH_END = re.compile(r"^(\d{4})年(\d{1,2})月(?:底|末)?$")
_SUFFIXES = ("之前", "以前", "前")
_DASHES = re.compile("[‐‑‒–—―－]")


def parse_deadline(value: object) -> dt.date | None:
    """The date a cell means, or None when it cannot be read (blank cells are the caller's concern)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = _DASHES.sub("-", normalize_width(value)).strip().replace(" ", "")
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    try:
        if found := _YMD.match(text) or _CN_YMD.match(text):
            return dt.date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        if found := _YEAR_END.match(text):
            return dt.date(int(found.group(1)), 12, 31)
        if found := _MONTH_END.match(text):
            year, month = int(found.group(1)), int(found.group(2))
            return dt.date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:  # 2026-02-30, month 13
        return None
    return None
