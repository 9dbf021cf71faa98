"""Facts read from a measure's text: time expressions, targets, responsibilities (frozen results)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Frequency = Literal["weekly", "monthly", "quarterly", "half_yearly", "yearly"]
TimeKind = Literal["deadline", "from", "relative"]
ResponsibilitySource = Literal["explicit", "convention", "body"]
UnitRole = Literal["lead", "cooperating", "guidance", "implementer"]
UnitSource = Literal["written", "convention"]


@dataclass(frozen=True, slots=True)
class Milestone:
    """A dated by-when step of a measure ("2018年年底前…")."""

    date: dt.date
    text: str


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A recurring duty ("每季度向社会公开")."""

    frequency: Frequency
    text: str


@dataclass(frozen=True, slots=True)
class TimeExpr:
    """One time expression as written, with its offsets in the text and its date when known."""

    text: str
    kind: TimeKind
    start: int
    end: int
    date: dt.date | None


@dataclass(frozen=True, slots=True)
class TimeInfo:
    """Everything a measure says about time."""

    deadline: dt.date | None
    deadline_text: str | None
    milestones: tuple[Milestone, ...]
    from_dates: tuple[TimeExpr, ...]
    recurrence: Recurrence | None
    expressions: tuple[TimeExpr, ...]
    years: tuple[int, ...]
    from_years: tuple[int, ...]
    relative_text: str | None
    ongoing_text: str | None = None  # "长期坚持", "持续推进": ongoing work, no deadline and no default one


@dataclass(frozen=True, slots=True)
class Target:
    """A numeric target of a goals section ("森林覆盖率达到23%")."""

    indicator: str
    value: str
    unit: str | None
    year: int | None
    text: str


@dataclass(frozen=True, slots=True)
class UnitMention:
    """A unit the document names for a measure, verbatim, with its role and where it stands.

    `start`/`end` are offsets in the measure's text (heading and body joined, `ParsedMeasure.text`);
    None for a unit that a document-wide rule gives ("以下均需试点城市政府落实，不再列出"), whose
    `source` is then "convention". `wording` is the label or role word as written (牵头单位, 负责, 指导 …).
    """

    name: str
    role: UnitRole
    source: UnitSource
    start: int | None
    end: int | None
    wording: str


@dataclass(frozen=True, slots=True)
class DocRules:
    """Document-level conventions that change how a measure's annotation is read."""

    first_listed_is_lead: bool
    standing_units: tuple[str, ...]
    standing_text: str | None


@dataclass(frozen=True, slots=True)
class Responsibility:
    """Who a measure makes responsible, as the text says it (no inferred rules)."""

    lead: tuple[str, ...]
    cooperating: tuple[str, ...]
    guidance: tuple[str, ...]
    source: ResponsibilitySource | None
    evidence: tuple[str, ...]
    units: tuple[UnitMention, ...] = ()


NO_RULES = DocRules(first_listed_is_lead=False, standing_units=(), standing_text=None)
NO_RESPONSIBILITY = Responsibility(lead=(), cooperating=(), guidance=(), source=None, evidence=())
