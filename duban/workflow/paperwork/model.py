"""The paperwork's document model: what a 督办单, a 督办通报 or a 分工方案 says, in the parts of the 公文
layout (版头 and red line, 文号, title, 主送, body, tables, 署名 and 成文日期 with room for the seal).
One model, two writers: `docx_writer` (for editing in WPS/Word) and `pdf_writer` (for sending unchanged)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final

RED: Final = "#c00000"  # 版头 and its separating line (GB/T 9704: 发文机关标志与分隔线为红色)
NOTICE_COLOURS: Final = {"blue": "#1f4e9e", "orange": "#d46b08", "red": RED}
NOTICE_ZH: Final = {"blue": "蓝", "orange": "橙", "red": "红"}


@dataclass(frozen=True)
class Heading:
    """A heading inside the body: level 1 in 黑体 (一、), level 2 in 楷体 ((一))."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    """Body text in 仿宋, first line indented two characters unless `indent` is False."""

    text: str
    indent: bool = True


@dataclass(frozen=True)
class Table:
    """A ruled table; `widths` are relative, `numeric` columns are centred; no `headers`, no header row."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    numeric: frozenset[int] = frozenset()
    caption: str = ""
    small: bool = False  # 五号 (10.5 pt) instead of 小四 (12 pt), for wide tables
    keys: frozenset[int] = frozenset()  # columns of labels (in 黑体), for a table without headers


Block = Heading | Paragraph | Table


@dataclass(frozen=True)
class Paper:
    """One document in the 公文 layout; several make one file (each starts on a new page)."""

    issuer: str
    serial: str
    title: str
    date: dt.date
    blocks: tuple[Block, ...]
    addressee: str = ""
    signature: str = ""
    title_colour: str = "#000000"
    landscape: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def text(self) -> str:
        """Every word of the paper, in reading order (what a text extractor should find)."""
        parts = [self.issuer, self.serial, self.title, self.addressee]
        for block in self.blocks:
            if isinstance(block, Table):
                parts += [block.caption, *block.headers, *(cell for row in block.rows for cell in row)]
            else:
                parts.append(block.text)
        parts += [self.signature, chinese_date(self.date), *self.notes]
        return "\n".join(p for p in parts if p)


def chinese_date(day: dt.date) -> str:
    """A 成文日期 as 公文 write it since GB/T 9704-2012: 2026年3月5日 (Arabic numerals, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def percent(value: float | None) -> str:
    """A rate as the paperwork prints it: 87.5% (— when there is nothing to rate)."""
    return "—" if value is None else f"{value * 100:.1f}%"
