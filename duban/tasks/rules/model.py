"""Value types of the responsibility rules: a rule, a compiled rule set, and a proposal with its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from duban.tasks.registry.fold import fold_key
from duban.tasks.registry.matcher import LiteralMatcher

RuleOrigin = Literal["bundled", "office"]

GENERIC_FACTOR = 0.4  # a broad phrase ("环保", "资金") counts for less than a specific one
TITLE_FACTOR = 5  # a phrase in the heading says more about the measure than one in its body
BODY_CAP = 3  # occurrences in the body counted per phrase, at most


@dataclass(frozen=True, slots=True)
class Rule:
    """Topic phrases → lead and cooperating units, with the remit that justifies it."""

    id: str
    topic: str
    phrases: tuple[str, ...]
    generic: tuple[str, ...]
    lead: tuple[str, ...]
    cooperating: tuple[str, ...]
    weight: float
    remit: str
    origin: RuleOrigin = "bundled"

    def to_dict(self) -> dict[str, Any]:
        """The rule as YAML and the API write it."""
        return {
            "id": self.id,
            "topic": self.topic,
            "phrases": list(self.phrases),
            "generic": list(self.generic),
            "lead": list(self.lead),
            "cooperating": list(self.cooperating),
            "weight": self.weight,
            "remit": self.remit,
            "origin": self.origin,
        }


@dataclass(frozen=True, slots=True)
class PhraseEntry:
    """One phrase of one rule, as the matcher finds it."""

    rule_index: int
    phrase: str
    generic: bool

    @property
    def specificity(self) -> float:
        """Longer phrases are more specific: 2 characters 0.5, 4 characters 1.0, 8 or more 2.0."""
        return min(len(self.phrase), 8) / 4 * (GENERIC_FACTOR if self.generic else 1.0)


class RuleSet:
    """An ordered list of rules, the fallback, and one matcher over every phrase (built once)."""

    def __init__(self, rules: tuple[Rule, ...], fallback: Rule, version: int = 0) -> None:
        """Index the phrases (folded: simplified script, half width, no spaces)."""
        self.rules = rules
        self.fallback = fallback
        self.version = version
        self.order = {rule.id: index for index, rule in enumerate(rules)}
        surfaces: dict[str, list[PhraseEntry]] = {}
        for index, rule in enumerate(rules):
            for phrases, generic in ((rule.phrases, False), (rule.generic, True)):
                for phrase in phrases:
                    key = fold_key(phrase)
                    if key:
                        surfaces.setdefault(key, []).append(PhraseEntry(index, phrase, generic))
        self.matcher: LiteralMatcher[tuple[PhraseEntry, ...]] = LiteralMatcher(
            {key: tuple(entries) for key, entries in surfaces.items()}
        )

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (the fallback included); KeyError when there is none."""
        if rule_id == self.fallback.id:
            return self.fallback
        return self.rules[self.order[rule_id]]


@dataclass(frozen=True, slots=True)
class RuleHit:
    """How one rule matched a text: its score and the phrases that made it."""

    rule_id: str
    topic: str
    lead: tuple[str, ...]
    score: float
    phrases: tuple[str, ...]
    in_title: tuple[str, ...]
    remit: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed lead and cooperating units, and why (rule ids, matched phrases, score)."""

    lead: tuple[str, ...]
    cooperating: tuple[str, ...]
    rule_ids: tuple[str, ...]
    phrases: tuple[str, ...]
    score: float
    fallback: bool = False
    hits: tuple[RuleHit, ...] = field(default=())
    explanation_zh: str = ""
    explanation_en: str = ""

    def evidence(self) -> dict[str, Any]:
        """What a TaskAssignment stores as its evidence (JSON)."""
        return {
            "kind": "rule",
            "rule_ids": list(self.rule_ids),
            "phrases": list(self.phrases),
            "score": round(self.score, 3),
            "fallback": self.fallback,
            "why_zh": self.explanation_zh,
            "why_en": self.explanation_en,
        }
