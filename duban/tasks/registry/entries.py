"""The registry's value types: a department, a region, and a mention found in a text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from duban.tasks.enums import DepartmentKind

RegionLevel = Literal["league", "county", "group"]


@dataclass(frozen=True)
class DepartmentEntry:
    """A body that can lead or cooperate on a task (自治区 departments, central bodies, 盟市)."""

    code: str
    name: str
    aliases: tuple[str, ...]
    kind: DepartmentKind
    email: str | None
    webhook: str | None


@dataclass(frozen=True)
class RegionEntry:
    """A 盟市 (league), a 旗县级 unit (county) or a multi-unit abbreviation such as 呼包鄂 (group)."""

    code: str
    name: str
    short: str
    level: RegionLevel
    parent: str | None
    aliases: tuple[str, ...]
    members: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """A mention: `surface` is `text[start:end]` of the ORIGINAL text, `code` the registry entry."""

    start: int
    end: int
    surface: str
    code: str
