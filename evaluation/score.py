"""Scoring one document: the parser's JSON (`duban plans parse --format json`) against its truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluation.truth import TruthDocument, TruthMeasure, fold, name_key

_HEAD_WINDOW = 12  # an anchor must start this close to the start of a measure's text to claim it


@dataclass(slots=True)
class DocumentScore:
    """What the parser got right and wrong on one document."""

    name: str
    collection: str
    truth: int
    parsed: int
    matched: int = 0
    lead_judged: int = 0
    lead_exact: int = 0
    coop_tp: int = 0
    coop_fp: int = 0
    coop_fn: int = 0
    deadline_exact: int = 0
    deadline_invented: int = 0
    units_not_in_text: list[str] = field(default_factory=list)
    proposals: int = 0
    error: str | None = None
    misses: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Share of the truth's measures the parser found."""
        return self.matched / self.truth if self.truth else 1.0

    @property
    def precision(self) -> float:
        """Share of the parser's measures that are measures of the truth."""
        return self.matched / self.parsed if self.parsed else (1.0 if not self.truth else 0.0)

    @property
    def lead_rate(self) -> float | None:
        """Share of found measures whose lead is exactly the truth's (None: the truth records no lead)."""
        return self.lead_exact / self.lead_judged if self.lead_judged else None

    @property
    def coop_f1(self) -> float | None:
        """F1 of cooperating units over the found measures (None: no lead reading in the truth)."""
        if not self.lead_judged:
            return None
        denominator = 2 * self.coop_tp + self.coop_fp + self.coop_fn
        return 2 * self.coop_tp / denominator if denominator else 1.0

    @property
    def deadline_rate(self) -> float:
        """Share of found measures whose deadline phrase is the truth's (both empty counts)."""
        return self.deadline_exact / self.matched if self.matched else 1.0


def _measure_text(measure: dict[str, Any]) -> str:
    return fold(f"{measure.get('title') or ''}{measure.get('body') or ''}")


def _locate(truth: TruthMeasure, measures: list[tuple[str, int]], taken: set[int], after: int) -> int | None:
    """The parsed measure a truth measure is: a free one whose text starts with (or holds) one of its anchors.

    The first anchor (first characters, else the heading) must stand at the head of the measure's text
    (after its heading at most); a later one (the annotation) may stand anywhere in it.
    """
    for rank, anchor in enumerate(truth.anchors):
        best: tuple[int, int] | None = None
        found: int | None = None
        for index, (text, head) in enumerate(measures):
            if index in taken:
                continue
            position = text.find(anchor)
            if position < 0 or (rank == 0 and position > head + _HEAD_WINDOW):
                continue
            key = (0 if index >= after else 1, abs(index - after))  # reading order first
            if best is None or key < best:
                best, found = key, index
        if found is not None:
            return found
    return None


def score_document(
    truth: TruthDocument, parsed: dict[str, Any] | None, text: str, error: str | None
) -> DocumentScore:
    """Match the truth's measures to the parser's, one to one in reading order, and count."""
    measures: list[dict[str, Any]] = list(parsed.get("measures", [])) if parsed else []
    score = DocumentScore(truth.name, truth.collection, len(truth.measures), len(measures), error=error)
    texts = [(_measure_text(measure), len(fold(measure.get("title") or ""))) for measure in measures]
    folded_document = fold(text)
    taken: set[int] = set()
    after = 0
    for item in truth.measures:
        index = _locate(item, texts, taken, after) if item.anchors else None
        if index is None:
            score.misses.append(f"{item.label}：未找到 / not found")
            continue
        taken.add(index)
        after = index + 1
        score.matched += 1
        _judge(score, item, measures[index])
    for measure in measures:
        if measure.get("lead_source") == "rule":
            score.proposals += 1
            continue
        for name in [*measure.get("lead", []), *measure.get("cooperating", [])]:
            if fold(name) and fold(name) not in folded_document:
                score.units_not_in_text.append(name)
    return score


def _judge(score: DocumentScore, item: TruthMeasure, measure: dict[str, Any]) -> None:
    deadline = measure.get("deadline_text")
    if (fold(deadline) if deadline else None) == (fold(item.deadline) if item.deadline else None):
        score.deadline_exact += 1
    elif item.deadline is None:
        score.deadline_invented += 1
        score.misses.append(f"{item.label}：时限多出 / invented deadline {deadline}")
    else:
        score.misses.append(f"{item.label}：时限 / deadline {deadline!r} ≠ {item.deadline!r}")
    if item.lead is None or item.cooperating is None:
        return
    score.lead_judged += 1
    lead = {name_key(name) for name in measure.get("lead", [])}
    if lead == {name_key(name) for name in item.lead}:
        score.lead_exact += 1
    else:
        score.misses.append(f"{item.label}：牵头 / lead {sorted(lead)} ≠ {list(item.lead)}")
    cooperating = {name_key(name) for name in measure.get("cooperating", [])}
    wanted = {name_key(name) for name in item.cooperating}
    score.coop_tp += len(cooperating & wanted)
    score.coop_fp += len(cooperating - wanted)
    score.coop_fn += len(wanted - cooperating)
    if cooperating != wanted:
        score.misses.append(
            f"{item.label}：配合 / cooperating {sorted(cooperating)} ≠ {list(item.cooperating)}"
        )
