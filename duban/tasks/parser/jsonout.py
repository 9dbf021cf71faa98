"""The JSON shape of `duban plans parse --format json` (DESIGN.md), plus a few extra keys."""

from __future__ import annotations

from typing import Any

from duban.tasks.parser.facts import UnitMention
from duban.tasks.parser.model import ParsedMeasure, ParsedPlan, SourcedTarget


def _unit(unit: UnitMention) -> dict[str, Any]:
    return {
        "name": unit.name,
        "role": unit.role,
        "source": unit.source,
        "span": [unit.start, unit.end] if unit.start is not None and unit.end is not None else None,
        "wording": unit.wording,
        "resolved": None,
    }


_LEAD_SOURCE = {"explicit": "explicit", "body": "explicit", "convention": "convention"}


def _measure(measure: ParsedMeasure) -> dict[str, Any]:
    time = measure.time
    who = measure.responsibility
    return {
        "path": list(measure.path),
        "title": measure.title,
        "body": measure.body,
        "deadline": time.deadline.isoformat() if time.deadline else None,
        "deadline_text": time.deadline_text,
        "milestones": [{"date": m.date.isoformat(), "text": m.text} for m in time.milestones],
        "recurrence": (
            {"frequency": time.recurrence.frequency, "text": time.recurrence.text}
            if time.recurrence
            else None
        ),
        "lead": list(who.lead),
        "cooperating": list(who.cooperating),
        "guidance": list(who.guidance),
        "lead_source": _LEAD_SOURCE.get(who.source) if who.source and who.lead else None,
        "units": [_unit(unit) for unit in who.units],
        "regions": list(measure.regions),
        # extra keys (DESIGN allows additions, not renames)
        "kind": measure.kind.value,
        "line_start": measure.line_start,
        "line_end": measure.line_end,
        "years": list(time.years),
        "from_years": list(time.from_years),
        "heading": measure.heading or None,
        "ongoing": time.ongoing_text,
    }


def _target(sourced: SourcedTarget) -> dict[str, Any]:
    target = sourced.target
    return {
        "indicator": target.indicator,
        "value": target.value,
        "unit": target.unit,
        "year": target.year,
        "text": target.text,
        "source_path": list(sourced.source_path),
    }


def to_json_dict(plan: ParsedPlan) -> dict[str, Any]:
    """One JSON object for a parsed document, as `duban plans parse --format json` prints it."""
    return {
        "title": plan.title,
        "script": plan.script,
        "measures": [_measure(measure) for measure in plan.measures],
        "targets": [_target(target) for target in plan.targets],
        "title_inferred": plan.title_inferred,
        "doc_number": plan.doc_number,
        "issuer": plan.issuer,
        "issue_date": plan.issue_date.isoformat() if plan.issue_date else None,
        "horizon": plan.horizon.isoformat() if plan.horizon else None,
        "warnings": [
            {"code": w.code, "message_zh": w.message_zh, "message_en": w.message_en, "line": w.line}
            for w in plan.warnings
        ],
    }
