"""Task tables (重点任务分工表): a header naming the task and the responsible unit, then a measure a row.

Rows arrive as tab-separated lines (how .docx tables are decoded). Each row becomes a measure whose title
is the task cell and whose body restates the other cells as labelled lines ("牵头单位：…", "完成时限：…"),
so the fact extractors read them as they read annotations in running text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from duban.tasks.parser.paragraphs import Paragraph

_TASK = re.compile(r"(?:重点|主要|具体|工作)?(?:任务|措施|工作|内容|事项)(?:内容|名称)?")
_RESPONSIBLE = re.compile(r".{0,6}(?:牵头|责任|主责|负责)(?:单位|部门)?.{0,6}")
_NUMBER = re.compile(r"序号|编号|序列")
_MIN_CELLS = 3


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of a row: its text and key."""

    text: str
    key: str


@dataclass(frozen=True, slots=True)
class TableHeader:
    """Which column holds the task, which the row number, and every column's label."""

    task: int
    number: int | None
    labels: tuple[Cell, ...]


def split_cells(paragraph: Paragraph) -> list[Cell]:
    """The tab-separated cells of a paragraph (the key has tabs folded to spaces, so cut by offsets)."""
    cells: list[Cell] = []
    start = 0
    text, key = paragraph.text, paragraph.key
    while True:
        stop = text.find("\t", start)
        end = len(text) if stop < 0 else stop
        cells.append(Cell(text[start:end].strip(), key[start:end].strip()))
        if stop < 0:
            return cells
        start = stop + 1


def read_header(cells: list[Cell]) -> TableHeader | None:
    """The header of a task table, if these cells are one."""
    if len(cells) < _MIN_CELLS:
        return None
    keys = [re.sub(r"\s", "", cell.key) for cell in cells]
    task = next((i for i, key in enumerate(keys) if _TASK.fullmatch(key)), None)
    responsible = any(_RESPONSIBLE.fullmatch(key) for i, key in enumerate(keys) if i != task)
    if task is None or not responsible:
        return None
    number = next((i for i, key in enumerate(keys) if _NUMBER.fullmatch(key)), None)
    return TableHeader(task, number, tuple(cells))


def row_parts(header: TableHeader, cells: list[Cell]) -> tuple[str, str, str, str, str] | None:
    """Label, title, title key, body text and body key of a row; None when it has no task."""
    if len(cells) < 2 or header.task >= len(cells) or not cells[header.task].text:
        return None
    label = ""
    if header.number is not None and header.number < len(cells):
        label = cells[header.number].text
    texts: list[str] = []
    keys: list[str] = []
    for index, cell in enumerate(cells):
        if index in (header.task, header.number) or not cell.text or index >= len(header.labels):
            continue
        name = header.labels[index]
        texts.append(f"{name.text}：{cell.text}")
        keys.append(f"{name.key}:{cell.key}")
    task = cells[header.task]
    return label, task.text, task.key, "\n".join(texts), "\n".join(keys)
