"""The proposer: which lead and cooperating units the rules suggest for a measure's text, and why.

Pure and deterministic. The heading and body are folded (simplified script, half width, no spaces) and
scanned once, leftmost-longest, so a longer phrase ("城镇生活污水") hides the shorter ones inside it
("污水"); names inside 《…》 are a cited document's topic, not the measure's, and are skipped. Each rule
scores Σ specificity(phrase) × (5 if in the heading + occurrences in the body, at most 3) × weight; a
lead scores its best rule plus half of its others; the best lead wins. Ties: the best single rule, then the
most specific phrase, then the order of the rules file. The runners-up whose score is at least half the
winner's join as cooperating units after the winning rules' own cooperating units.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from duban.tasks.registry import Registry
from duban.tasks.registry.fold import fold_text
from duban.tasks.rules.model import BODY_CAP, TITLE_FACTOR, PhraseEntry, Proposal, Rule, RuleHit, RuleSet

_BOOK_RE = re.compile(r"《[^《》\n]{0,80}》")
RUNNER_UP_SHARE = 0.5
MAX_COOPERATING = 5


@dataclass
class _Tally:
    title: dict[str, PhraseEntry] = field(default_factory=dict)
    body: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    entries: dict[str, PhraseEntry] = field(default_factory=dict)

    def score(self, rule: Rule) -> float:
        total = 0.0
        for phrase, entry in self.entries.items():
            mentions = (TITLE_FACTOR if phrase in self.title else 0) + min(self.body.get(phrase, 0), BODY_CAP)
            total += entry.specificity * mentions
        return total * rule.weight

    def ranked_phrases(self) -> list[str]:
        def weight(phrase: str) -> float:
            entry = self.entries[phrase]
            return entry.specificity * (
                (TITLE_FACTOR if phrase in self.title else 0) + self.body.get(phrase, 0)
            )

        return sorted(self.entries, key=lambda p: (-weight(p), p))


def _scan(rules: RuleSet, text: str) -> list[PhraseEntry]:
    folded = fold_text(text).text
    books = [(m.start(), m.end()) for m in _BOOK_RE.finditer(folded)]
    found: list[PhraseEntry] = []
    for match in rules.matcher.scan(folded):
        if any(start <= match.start < end for start, end in books):
            continue
        found.extend(match.value)
    return found


def rule_hits(text: str, rules: RuleSet, *, title: str = "") -> list[RuleHit]:
    """Every rule the text matches, best first, with its score and phrases."""
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    for entry in _scan(rules, title):
        tally = tallies[entry.rule_index]
        tally.title[entry.phrase] = entry
        tally.entries[entry.phrase] = entry
    for entry in _scan(rules, text):
        tally = tallies[entry.rule_index]
        tally.body[entry.phrase] += 1
        tally.entries[entry.phrase] = entry
    hits = []
    for index, tally in tallies.items():
        rule = rules.rules[index]
        hits.append(
            RuleHit(
                rule_id=rule.id,
                topic=rule.topic,
                lead=rule.lead,
                score=tally.score(rule),
                phrases=tuple(tally.ranked_phrases()),
                in_title=tuple(p for p in tally.ranked_phrases() if p in tally.title),
                remit=rule.remit,
            )
        )
    return sorted(hits, key=lambda h: (-h.score, rules.order[h.rule_id]))


def _group_score(hits: list[RuleHit]) -> float:
    """A lead's score: its best rule in full, its other rules at half (a department with many rules must
    not win on many faint matches over one department the heading names)."""
    return hits[0].score + RUNNER_UP_SHARE * sum(h.score for h in hits[1:])


def _specificity(hit: RuleHit) -> int:
    return max((len(p) for p in hit.phrases), default=0)


def propose(
    text: str,
    registry: Registry,
    rules: RuleSet,
    *,
    title: str = "",
    exclude_lead: Collection[str] = (),
) -> Proposal:
    """The lead and cooperating units the rules propose for a measure (heading `title`, body `text`).

    `exclude_lead`: codes the document already gives another part (its cooperating units), never the lead.
    A text no rule matches gets the fallback rule (the committee office's seat), marked `fallback`.
    """
    hits = [h for h in rule_hits(text, rules, title=title) if not set(h.lead) & set(exclude_lead)]
    groups: dict[tuple[str, ...], list[RuleHit]] = defaultdict(list)
    for hit in hits:
        groups[hit.lead].append(hit)
    if not groups:
        return _fallback(rules, registry)

    def rank(item: tuple[tuple[str, ...], list[RuleHit]]) -> tuple[float, float, int, int]:
        lead_hits = item[1]
        return (
            -round(_group_score(lead_hits), 6),
            -round(lead_hits[0].score, 6),
            -max(_specificity(h) for h in lead_hits),
            min(rules.order[h.rule_id] for h in lead_hits),
        )

    ranked = sorted(groups.items(), key=rank)
    lead, support = ranked[0]
    top = _group_score(support)
    cooperating: list[str] = []
    for hit in support:
        cooperating.extend(rules.rule(hit.rule_id).cooperating)
    for other_lead, other in ranked[1:]:
        if _group_score(other) >= RUNNER_UP_SHARE * top:
            cooperating.extend(other_lead)
    cooperating = [c for c in dict.fromkeys(cooperating) if c not in lead and c not in exclude_lead]
    phrases = list(dict.fromkeys(p for hit in support for p in hit.phrases))
    proposal = Proposal(
        lead=lead,
        cooperating=tuple(cooperating[:MAX_COOPERATING]),
        rule_ids=tuple(h.rule_id for h in support),
        phrases=tuple(phrases),
        score=top,
        hits=tuple(hits),
    )
    return _explained(proposal, support, registry)


def _names(registry: Registry, codes: Collection[str]) -> str:
    return "、".join(registry.department(code).name for code in codes)


def _explained(proposal: Proposal, support: list[RuleHit], registry: Registry) -> Proposal:
    best = support[0]
    quoted = "、".join(f"“{p}”" for p in proposal.phrases[:6])
    zh = (
        f"依据规则 {', '.join(proposal.rule_ids)}（{'、'.join(h.topic for h in support)}）："
        f"措施提到{quoted}，建议由{_names(registry, proposal.lead)}牵头"
        + (f"，{_names(registry, proposal.cooperating)}配合" if proposal.cooperating else "")
        + f"。职责依据：{best.remit}"
    )
    en = (
        f"Rules {', '.join(proposal.rule_ids)} matched {len(proposal.phrases)} phrases "
        f"(score {proposal.score:.2f}); proposed lead {', '.join(proposal.lead)}"
        + (f", cooperating {', '.join(proposal.cooperating)}" if proposal.cooperating else "")
        + "."
    )
    return Proposal(
        lead=proposal.lead,
        cooperating=proposal.cooperating,
        rule_ids=proposal.rule_ids,
        phrases=proposal.phrases,
        score=proposal.score,
        fallback=False,
        hits=proposal.hits,
        explanation_zh=zh,
        explanation_en=en,
    )


def _fallback(rules: RuleSet, registry: Registry) -> Proposal:
    rule = rules.fallback
    zh = (
        f"没有规则匹配此措施，按默认规则 {rule.id} 暂由{_names(registry, rule.lead)}牵头，"
        f"请办公室审定。{rule.remit}"
    )
    en = f"No rule matched; default rule {rule.id}: {', '.join(rule.lead)} leads until the office decides."
    return Proposal(
        lead=rule.lead,
        cooperating=rule.cooperating,
        rule_ids=(rule.id,),
        phrases=(),
        score=0.0,
        fallback=True,
        explanation_zh=zh,
        explanation_en=en,
    )
