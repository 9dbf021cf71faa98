"""The parser's typed result: a plan, its outline, its measures with their facts, and the parser's error."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from duban.tasks.errors import TasksError
from duban.tasks.parser.facts import DocRules, Responsibility, Target, TimeInfo


class ParseError(TasksError):
    """A document the parser cannot read at all (empty, binary, undecodable); carries the line at fault."""

    code = "parse_error"

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        code: str | None = None,
        line: int | None = None,
        line_content: str | None = None,
    ) -> None:
        super().__init__(message_zh, message_en, code=code or self.code, line=line)
        self.line = line
        self.line_content = line_content


class NodeKind(StrEnum):
    """What an outline node is, by its numbering."""

    part = "part"
    chapter = "chapter"
    section = "section"
    item = "item"
    paragraph = "paragraph"


class Exclusion(StrEnum):
    """Why a part of the outline is not a measure."""

    ideology = "ideology"  # 指导思想 / 总体要求
    principles = "principles"  # 基本原则
    situation = "situation"  # 形势 / 成效 / 问题 / 回顾
    goals = "goals"  # 目标 (its numeric targets are read)


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """Something the parser noticed but read past (line is 1-based in the source, None for the whole text)."""

    code: str
    message_zh: str
    message_en: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class OutlineNode:
    """A heading of the document's outline with its own text, its children and whether it is a measure."""

    kind: NodeKind
    label: str
    path: tuple[str, ...]
    title: str
    body: str
    line_start: int
    line_end: int
    children: tuple[OutlineNode, ...] = ()
    excluded: Exclusion | None = None
    is_measure: bool = False


@dataclass(frozen=True, slots=True)
class ParsedMeasure:
    """The lowest actionable unit of the plan (措施) with the facts read from its text."""

    path: tuple[str, ...]
    kind: NodeKind
    title: str
    body: str
    line_start: int
    line_end: int
    time: TimeInfo
    responsibility: Responsibility
    regions: tuple[str, ...]
    heading: str = ""  # the numbered item's heading when the measure is one annotated segment of it

    @property
    def text(self) -> str:
        """Heading and body as one text (what the fact extractors read)."""
        return join_title_body(self.title, self.body)


@dataclass(frozen=True, slots=True)
class SourcedTarget:
    """A numeric target and the goals part of the outline it was read from."""

    target: Target
    source_path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ParsedPlan:
    """A parsed policy document: title, script, dates, outline, measures, targets, warnings."""

    title: str | None
    title_inferred: bool
    script: str
    issue_date: dt.date | None
    horizon: dt.date | None
    outline: tuple[OutlineNode, ...]
    measures: tuple[ParsedMeasure, ...]
    targets: tuple[SourcedTarget, ...]
    doc_rules: DocRules
    warnings: tuple[ParseWarning, ...] = ()
    line_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # What identifies the document beside its title (issue 14): its 文号 (国办发〔2018〕128号) and the
    # organ(s) that issued it, both in simplified script; issuer_source says where the issuer was read
    # (head, letterhead, signature, byline).
    doc_number: str | None = None
    issuer: str | None = None
    issuer_source: str | None = None


def join_title_body(title: str, body: str) -> str:
    """Heading sentence and body joined the way the document reads."""
    if not title:
        return body
    if not body:
        return title
    return f"{title}。{body}" if title[-1] not in "。；;！!？?：:" else f"{title}{body}"
