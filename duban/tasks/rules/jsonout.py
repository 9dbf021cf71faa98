"""The rules step of `duban plans parse --format json`: the parser stays pure, this fills the gaps."""

from __future__ import annotations

import copy
from typing import Any

from duban.tasks.enums import AssignmentRole, LeadSource
from duban.tasks.parser.facts import NO_RESPONSIBILITY
from duban.tasks.registry import Registry
from duban.tasks.registry.resolve import registry_fit, resolve_name
from duban.tasks.rules.assign import resolve
from duban.tasks.rules.model import RuleSet


def apply_rules_to_json(
    doc_json: dict[str, Any], registry: Registry, rules: RuleSet, text: str = ""
) -> dict[str, Any]:
    """A copy of a parse result (DESIGN.md JSON) where every measure without a lead gets the rules' proposal:
    `lead`/`cooperating` as registry names, `lead_source` "rule", and an extra `rule_evidence` object (rule
    ids, matched phrases, score, explanation). Measures whose text names any unit are left as they are, and
    nothing is proposed where the registry does not fit the document (`registry` says why); every written
    unit gets its `resolved` department (or None).
    """
    result = copy.deepcopy(doc_json)
    name = {entry.code: entry.name for entry in registry.departments}
    measures = result.get("measures", [])
    written = [u["name"] for m in measures for u in m.get("units", []) if u.get("source") == "written"]
    fit = registry_fit(written, text, registry)
    reason_zh, reason_en = fit.reason()
    result["registry"] = {"applies": fit.applies, "reason_zh": reason_zh, "reason_en": reason_en}
    for measure in measures:
        for unit in measure.get("units", []):
            found = resolve_name(unit["name"], registry, document_fits=fit.applies).entry
            unit["resolved"] = {"code": found.code, "name": found.name} if found is not None else None
    for measure in measures:
        if measure.get("lead") or measure.get("units") or not fit.applies:
            continue
        # A measure reaches here naming nobody: every part of the resolution is the rules' proposal.
        resolution = resolve(
            NO_RESPONSIBILITY, measure.get("title") or "", measure.get("body") or "", registry, rules
        )
        if resolution.lead_source is not LeadSource.rule or resolution.proposal is None:
            continue
        parts = [p for p in resolution.parts if p.role in (AssignmentRole.lead, AssignmentRole.cooperating)]
        measure["lead"] = [name[p.code] for p in parts if p.role is AssignmentRole.lead]
        measure["cooperating"] = [name[p.code] for p in parts if p.role is AssignmentRole.cooperating]
        measure["lead_source"] = LeadSource.rule.value
        measure["rule_evidence"] = resolution.proposal.evidence()
        measure["units"] = [
            {
                "name": name[p.code],
                "role": p.role.value,
                "source": "proposed",
                "span": None,
                "wording": "",
                "resolved": {"code": p.code, "name": name[p.code]},
            }
            for p in parts
        ]
    return result
