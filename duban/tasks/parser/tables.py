"""Task tables (重点任务分工表): a header naming the task and the responsible unit, then a measure a row.

Rows arrive as tab-separated lines (how .docx, .xlsx and PDF tables are decoded), empty cells kept in their
column. Columns are recognised by the meaning of their header, in any order (序号; 任务/重点任务/工作措施/
考核内容; 牵头/主责; 责任/负责/实施; 配合/协办/参与/支撑; 指导; 时限/完成时间/时间节点). Each row becomes a
measure whose title is the task cell and whose body restates the other cells under canonical labels
("牵头单位：…", "完成时限：…"), so the fact readers read them as they read annotations in running text.
An empty cell is empty: a cell merged down over several rows arrives repeated from the file readers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from duban.tasks.parser.paragraphs import Paragraph

_NUMBER = re.compile(r"序号|编号|序列|项目编号|排序")
_LEAD = re.compile(r".{0,4}(?:牵头|主责|主办).{0,6}")
_RESPONSIBLE = re.compile(r".{0,4}(?:责任|负责|实施|承办|落实)(?:单位|部门|主体|处室|人)?.{0,6}")
_COOPERATING = re.compile(r".{0,4}(?:配合|协办|参与|协助|支撑|协同|协作).{0,6}")
_GUIDANCE = re.compile(r".{0,4}指导.{0,6}")
_TIME = re.compile(r".{0,4}(?:时限|时间|期限|节点|进度安排|完成年限).{0,4}")
_TASK = re.compile(r".{0,6}(?:任务|措施|举措|工作|内容|事项|项目|要点|问题)(?:内容|名称|清单|描述)?.{0,4}")
_CANONICAL = {
    "lead": "牵头单位",
    "responsible": "责任单位",
    "cooperating": "配合单位",
    "guidance": "指导单位",
    "time": "完成时限",
}
_MIN_CELLS = 3
_MAX_HEADER_CELL = 16


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of a row: its text and key."""

    text: str
    key: str


@dataclass(frozen=True, slots=True)
class TableHeader:
    """What each column means, the task column, the row-number column, and the last row's responsibility."""

    task: int
    number: int | None
    meanings: tuple[str | None, ...]
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


def _meaning(key: str) -> str | None:
    if not key or len(key) > _MAX_HEADER_CELL:
        return None
    for meaning, pattern in (
        ("number", _NUMBER),
        ("lead", _LEAD),
        ("cooperating", _COOPERATING),
        ("guidance", _GUIDANCE),
        ("responsible", _RESPONSIBLE),
        ("time", _TIME),
        ("task", _TASK),
    ):
        if pattern.fullmatch(key):
            return meaning
    return None


def read_header(cells: list[Cell]) -> TableHeader | None:
    """The header of a task table, if these cells are one."""
    if len([cell for cell in cells if cell.key]) < _MIN_CELLS:
        return None
    keys = [re.sub(r"\s", "", cell.key) for cell in cells]
    meanings = [_meaning(key) for key in keys]
    if not any(m in ("lead", "responsible") for m in meanings):
        return None
    tasks = [i for i, m in enumerate(meanings) if m == "task"]
    if not tasks:
        return None
    # Several task-like columns (反馈问题 / 整改措施, 重点任务 / 具体举措): the one that names the work to do
    # is the task (任务 before 措施 before 内容 before 问题); the others join its text.
    task = max(tasks, key=lambda i: (_task_rank(keys[i]), -i))
    number = next((i for i, m in enumerate(meanings) if m == "number"), None)
    return TableHeader(task, number, tuple(meanings), tuple(cells))


_TASK_WORDS = (("问题", "项目"), ("内容", "事项", "要点", "工作"), ("措施", "举措"), ("任务",))


def _task_rank(key: str) -> int:
    """How surely a header names the work to do: 任务 > 措施 > 内容 > 问题 (-1: none of them)."""
    return max((rank for rank, words in enumerate(_TASK_WORDS) if any(w in key for w in words)), default=-1)


def row_parts(header: TableHeader, cells: list[Cell]) -> tuple[str, str, str, str, str] | None:
    """Label, title, title key, body text and body key of a row; None when it has no task."""
    if len(cells) < 2 or header.task >= len(cells) or not cells[header.task].text:
        return None
    label = ""
    if header.number is not None and header.number < len(cells):
        label = cells[header.number].text
    texts: list[str] = []
    keys: list[str] = []
    for index, meaning in enumerate(header.meanings):
        if index in (header.task, header.number) or index >= len(header.labels):
            continue
        cell = cells[index] if index < len(cells) else Cell("", "")
        if not cell.text:
            continue
        name = _CANONICAL.get(meaning or "", header.labels[index].text)
        name_key = _CANONICAL.get(meaning or "", header.labels[index].key)
        texts.append(f"{name}：{cell.text}")
        keys.append(f"{name_key}:{cell.key}")
    task = cells[header.task]
    return label, task.text, task.key, "\n".join(texts), "\n".join(keys)
