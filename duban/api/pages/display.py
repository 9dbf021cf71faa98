"""How a page shows a value: local times and days, simplified script for everything but the 原文 of a
traditional-script plan, and a stored "中文 / English" text in the page's language only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from markupsafe import Markup

from duban.core import clock
from duban.tasks.chinese import to_simplified


def local_time(value: object) -> str:
    """A moment as the office reads it: local date and minute."""
    if isinstance(value, dt.datetime):
        return value.astimezone(clock.TZ).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def day(value: object) -> str:
    """A moment's or a date's day (— for none)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(clock.TZ).date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "—" if value is None else str(value)


class Original(str):
    """Text shown exactly as the document wrote it (the 原文 of a traditional-script plan)."""

    __slots__ = ()


_page_language: ContextVar[str] = ContextVar("duban_page_language", default="zh")
_BILINGUAL = re.compile(r"^(?P<zh>[^/]*[\u4e00-\u9fff][^/]*?) / (?P<en>[A-Za-z].*)$", re.DOTALL)


def one_language(value: str, lang: str) -> str:
    """The part of a stored "中文 / English" text (an event's actor, a deadline note) in the page's language;
    any other text as it is."""
    found = _BILINGUAL.match(value)
    if found is None:
        return value
    english_part = found.group("en")
    if sum(ch.isascii() for ch in english_part) < 0.7 * len(english_part):
        return value  # a slash inside Chinese text, not a translation
    return english_part if lang == "en" else found.group("zh")


# A page prints the same names and labels many times (6,600 values on the 101-measure plan's review page):
# one OpenCC call per distinct text instead of per printed value.
_simplified = lru_cache(maxsize=1 << 16)(to_simplified)


def display(value: object) -> object:
    """Every string a page shows is in simplified script (plans may be written in traditional), but 原文,
    and in the page's language only when it was stored in both."""
    if not isinstance(value, str) or isinstance(value, Original) or value.isascii():
        return value
    if not isinstance(value, Markup) and " / " in value:
        value = one_language(value, _page_language.get())
    converted = _simplified(str(value))
    if converted == value:
        return value
    # Only an already-escaped Markup is wrapped again: conversion changes CJK characters, never markup.
    return Markup(converted) if isinstance(value, Markup) else converted  # noqa: S704


def traditional(value: object) -> bool:
    """Whether a text reads differently in simplified script (a traditional-script plan's text)."""
    return isinstance(value, str) and not value.isascii() and _simplified(str(value)) != value


@contextmanager
def shown_in(lang: str) -> Iterator[None]:
    """Render in `lang`: what `display` picks of a stored two-language text while the block runs."""
    token = _page_language.set(lang)
    try:
        yield
    finally:
        _page_language.reset(token)
