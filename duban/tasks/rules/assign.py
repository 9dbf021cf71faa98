"""Who a measure's task goes to: the document's own words first, the rules for what the document leaves open.

Priority, per measure: an explicit annotation ("（X牵头，Y配合）", source "explicit") > a body acting in the
text ("由X会同Y…", source "body") > the responsibility rules (source "rule"). The rules fill only what the
text leaves empty: no lead named → the rules' lead (never one of the units the text makes cooperating or
guiding); no cooperating unit named either → the rules' cooperating units too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from duban.tasks.enums import AssignmentRole, LeadSource
from duban.tasks.parser.facts import Responsibility
from duban.tasks.registry import Registry
from duban.tasks.rules.model import Proposal, RuleSet
from duban.tasks.rules.propose import propose


@dataclass(frozen=True, slots=True)
class Planned:
    """One department's part in a task, with where it came from and why."""

    code: str
    role: AssignmentRole
    source: LeadSource
    evidence: tuple[Any, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Resolution:
    """The parts of a task and, when the rules were asked, their proposal."""

    parts: tuple[Planned, ...]
    proposal: Proposal | None

    @property
    def lead_source(self) -> LeadSource | None:
        """Where the lead came from (None: no lead could be found)."""
        return next((p.source for p in self.parts if p.role is AssignmentRole.lead), None)

    def codes(self, role: AssignmentRole) -> list[str]:
        """The department codes holding `role`, in order."""
        return [p.code for p in self.parts if p.role is role]


def resolve(
    who: Responsibility,
    title: str,
    body: str,
    registry: Registry,
    rules: RuleSet,
    available: Collection[str] | None = None,
) -> Resolution:
    """The lead, cooperating and guiding units of a measure (codes), each with its source and evidence.

    `available`: the codes that can hold a task (the departments loaded in the database); None means all.
    """
    parts: list[Planned] = []
    taken: set[tuple[str, AssignmentRole]] = set()
    text_source = LeadSource.explicit if who.source == "explicit" else LeadSource.body
    for role, names in (
        (AssignmentRole.lead, who.lead),
        (AssignmentRole.cooperating, who.cooperating),
        (AssignmentRole.guidance, who.guidance),
    ):
        position = 0
        for name in names:
            entry = registry.match_department(name)
            if entry is None or (available is not None and entry.code not in available):
                continue
            if (entry.code, role) in taken:
                continue
            taken.add((entry.code, role))
            parts.append(Planned(entry.code, role, text_source, tuple(who.evidence), position))
            position += 1
    has_lead = any(p.role is AssignmentRole.lead for p in parts)
    if has_lead:
        return Resolution(tuple(parts), None)
    named = {p.code for p in parts}
    proposal = propose(body, registry, rules, title=title, exclude_lead=named)
    evidence = (proposal.evidence(),)
    usable = [c for c in proposal.lead if available is None or c in available]
    parts.extend(
        Planned(code, AssignmentRole.lead, LeadSource.rule, evidence, i) for i, code in enumerate(usable)
    )
    if not any(p.role is AssignmentRole.cooperating for p in parts):
        cooperating = [
            c for c in proposal.cooperating if c not in named and (available is None or c in available)
        ]
        parts.extend(
            Planned(code, AssignmentRole.cooperating, LeadSource.rule, evidence, i)
            for i, code in enumerate(cooperating)
        )
    return Resolution(tuple(parts), proposal)
