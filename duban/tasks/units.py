"""Written, proposed, resolved — three separate things (issue 13).

At import every unit a measure names is kept per task exactly as the document writes it (`task_unit`), with
the registry department it stands for, or NULL and the reason it does not resolve. A written unit that
resolves becomes the task's assignment (source explicit, body or convention); one that does not stays as
written and is flagged. The responsibility rules propose (source rule) only for a measure whose text, and the
document-wide rules, name nobody at all, and only when the registry fits the document; never beside written
units. An unresolved written lead blocks issuing until the office maps it (`blocking_leads`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from duban.tasks.enums import AssignmentRole, LeadSource, TaskState, UnitResolution
from duban.tasks.models import Department, Measure, Task, TaskAssignment, TaskUnit
from duban.tasks.parser.facts import NO_RESPONSIBILITY, Responsibility, UnitMention
from duban.tasks.parser.model import ParsedMeasure, ParsedPlan
from duban.tasks.registry import Registry
from duban.tasks.registry.fold import fold_key
from duban.tasks.registry.resolve import registry_fit, resolve_name
from duban.tasks.rules.assign import resolve
from duban.tasks.rules.model import RuleSet

unit_t = TaskUnit.__table__  # type: ignore[attr-defined]
_assignment_t = TaskAssignment.__table__  # type: ignore[attr-defined]
_task_t = Task.__table__  # type: ignore[attr-defined]
_measure_t = Measure.__table__  # type: ignore[attr-defined]
_ASSIGNED_ROLES = {role.value: role for role in AssignmentRole}


@dataclass(frozen=True, slots=True)
class DocumentFit:
    """Whether the department registry fits a document, and why (stored on the plan as JSON)."""

    applies: bool
    written: int
    resolved: int
    names_region: bool
    reason_zh: str
    reason_en: str

    def to_json(self) -> dict[str, Any]:
        """The plan's `registry_fit` column."""
        return {
            "applies": self.applies,
            "written": self.written,
            "resolved": self.resolved,
            "names_region": self.names_region,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> DocumentFit | None:
        """Read the plan's `registry_fit` back (None for a plan imported before it was recorded)."""
        if not data:
            return None
        return cls(
            applies=bool(data.get("applies")),
            written=int(data.get("written") or 0),
            resolved=int(data.get("resolved") or 0),
            names_region=bool(data.get("names_region")),
            reason_zh=str(data.get("reason_zh") or ""),
            reason_en=str(data.get("reason_en") or ""),
        )


def document_fit(parsed: ParsedPlan, text: str, registry: Registry) -> DocumentFit:
    """How well the registry fits a parsed document: its written units that resolve, or its region."""
    written = [
        unit.name
        for measure in parsed.measures
        for unit in measure.responsibility.units
        if unit.source == "written"
    ]
    fit = registry_fit(written, text, registry)
    reason_zh, reason_en = fit.reason()
    return DocumentFit(fit.applies, fit.written, fit.resolved, fit.names_region, reason_zh, reason_en)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A written name's department (None: unresolved), how it was resolved, and why."""

    department_id: int | None
    resolution: UnitResolution
    reason_zh: str
    reason_en: str


class UnitPlanner:
    """One import's view of the departments: the registry, the departments loaded, the office's additions,
    the document's fit and the rules in force; turns each measure into unit and assignment rows."""

    def __init__(self, session: Session, registry: Registry, fit: DocumentFit, rules: RuleSet) -> None:
        """Read the loaded departments once."""
        self.registry = registry
        self.fit = fit
        self.rules = rules
        rows = session.exec(select(Department.code, Department.id, Department.name, Department.aliases)).all()
        self.ids: dict[str, int] = {code: id_ for code, id_, _, _ in rows if id_ is not None}
        known = {entry.code for entry in registry.departments}
        # Departments the office added (not in the registry's data): found by their exact name or alias.
        self.added: dict[str, tuple[int, str]] = {}
        for code, id_, name, aliases in rows:
            if code in known or id_ is None:
                continue
            for written in (name, *(aliases or [])):
                self.added.setdefault(fold_key(written), (id_, name))
        self._cache: dict[str, Resolved] = {}

    def resolve(self, name: str) -> Resolved:
        """The department a written name stands for in this document, or why it stands for none."""
        if name not in self._cache:
            self._cache[name] = self._resolve(name)
        return self._cache[name]

    def _resolve(self, name: str) -> Resolved:
        found = resolve_name(name, self.registry, document_fits=self.fit.applies)
        if found.entry is not None:
            department_id = self.ids.get(found.entry.code)
            if department_id is not None:
                return Resolved(department_id, UnitResolution.registry, found.reason_zh, found.reason_en)
            return Resolved(
                None,
                UnitResolution.unresolved,
                f"名录中的“{found.entry.name}”尚未载入数据库",
                f"the registry's {found.entry.name!r} is not loaded in the database",
            )
        added = self.added.get(fold_key(name))
        if added is not None:
            return Resolved(
                added[0],
                UnitResolution.registry,
                f"即办公室新增的部门“{added[1]}”",
                f"the department {added[1]!r} the office added",
            )
        return Resolved(None, UnitResolution.unresolved, found.reason_zh, found.reason_en)

    def rows(
        self, plan_id: int, task_id: int, measure: ParsedMeasure
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The task's assignment rows and unit rows: written units (resolved where possible), or, where the
        measure names nobody and the registry fits, the rules' proposal."""
        who = measure.responsibility
        units = who.units
        if not units:
            return (self._proposal(task_id, measure) if self.fit.applies else []), []
        unit_rows: list[dict[str, Any]] = []
        assignments: list[dict[str, Any]] = []
        taken: set[tuple[int, str]] = set()
        leads: set[int] = set()
        seen: set[tuple[str, str]] = set()
        per_role: dict[str, int] = {}
        for unit in units:
            if (unit.name, unit.role) in seen:
                continue
            seen.add((unit.name, unit.role))
            found = self.resolve(unit.name)
            role_position = per_role.get(unit.role, 0)
            per_role[unit.role] = role_position + 1
            unit_rows.append(
                {
                    "plan_id": plan_id,
                    "task_id": task_id,
                    "name": unit.name[:256],
                    "role": unit.role,
                    "source": unit.source,
                    "wording": unit.wording[:128],
                    "span_start": unit.start,
                    "span_end": unit.end,
                    "position": len(unit_rows),
                    "department_id": found.department_id,
                    "resolution": found.resolution.value,
                    "reason_zh": found.reason_zh,
                    "reason_en": found.reason_en,
                    "resolved_by_user_id": None,
                    "resolved_at": None,
                }
            )
            role = _ASSIGNED_ROLES.get(unit.role)
            department_id = found.department_id
            if role is None or department_id is None or (department_id, role.value) in taken:
                continue
            if role is not AssignmentRole.lead and department_id in leads:
                continue
            taken.add((department_id, role.value))
            if role is AssignmentRole.lead:
                leads.add(department_id)
            assignments.append(
                {
                    "task_id": task_id,
                    "department_id": department_id,
                    "role": role,
                    "source": assignment_source(unit, who),
                    "evidence": [unit_evidence(unit), *who.evidence],
                    "position": role_position,
                }
            )
        return assignments, unit_rows

    def _proposal(self, task_id: int, measure: ParsedMeasure) -> list[dict[str, Any]]:
        resolution = resolve(
            NO_RESPONSIBILITY, measure.title, measure.body, self.registry, self.rules, available=self.ids
        )
        return [
            {
                "task_id": task_id,
                "department_id": self.ids[part.code],
                "role": part.role,
                "source": part.source,
                "evidence": list(part.evidence),
                "position": part.position,
            }
            for part in resolution.parts
            if part.code in self.ids
        ]


def assignment_source(unit: UnitMention, who: Responsibility) -> LeadSource:
    """Where a written unit's assignment comes from: a document-wide convention, a body sentence, or the
    measure's own annotation."""
    if unit.source == "convention" or who.source == "convention":
        return LeadSource.convention
    if who.source == "body":
        return LeadSource.body
    return LeadSource.explicit


def unit_evidence(unit: UnitMention) -> dict[str, Any]:
    """The evidence an assignment keeps of the written unit it came from."""
    span = [unit.start, unit.end] if unit.start is not None and unit.end is not None else None
    return {"kind": unit.source, "written": unit.name, "wording": unit.wording, "span": span}


# --- what blocks issuing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Blocker:
    """A draft task that cannot be issued: its measure, and its unresolved written leads or what it lacks."""

    task_id: int
    title: str
    path: str
    unresolved: tuple[str, ...]
    missing: tuple[str, ...]

    def message(self) -> tuple[str, str]:
        """What stands in the way, Chinese and English."""
        where = f"措施 {self.path}" if self.path else f"任务 {self.task_id}"
        where_en = f"measure {self.path}" if self.path else f"task {self.task_id}"
        zh: list[str] = []
        en: list[str] = []
        if self.unresolved:
            names = "、".join(f"“{name}”" for name in self.unresolved)
            zh.append(f"{where} 的牵头单位{names}尚未对应到部门名录中的部门")
            en.append(
                f"the lead {', '.join(self.unresolved)} of {where_en} is not mapped to a registry department"
            )
        elif "lead" in self.missing:
            zh.append(f"{where} 没有牵头单位")
            en.append(f"{where_en} has no lead")
        if "deadline" in self.missing:
            zh.append(f"{where} 缺少完成时限")
            en.append(f"{where_en} has no deadline")
        return "；".join(zh), "; ".join(en)

    def to_json(self) -> dict[str, Any]:
        """The blocker as the refusal lists it."""
        zh, en = self.message()
        return {
            "id": self.task_id,
            "title": self.title[:80],
            "path": self.path,
            "missing": list(self.missing),
            "unresolved_lead": list(self.unresolved),
            "message_zh": zh,
            "message_en": en,
        }


def _office_lead() -> sa.ColumnElement[bool]:
    return (
        sa.select(_assignment_t.c.id)
        .where(
            _assignment_t.c.task_id == unit_t.c.task_id,
            _assignment_t.c.role == AssignmentRole.lead.value,
            _assignment_t.c.source == LeadSource.office.value,
        )
        .exists()
    )


def unresolved_leads(conn: Connection, task_ids: Iterable[int]) -> dict[int, list[str]]:
    """The written leads without a department, per task, unless the office has set the task's lead itself."""
    ids = list(task_ids)
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(unit_t.c.task_id, unit_t.c.name)
        .where(
            unit_t.c.task_id.in_(ids),
            unit_t.c.role == AssignmentRole.lead.value,
            unit_t.c.department_id.is_(None),
            ~_office_lead(),
        )
        .order_by(unit_t.c.task_id, unit_t.c.position)
    ).all()
    found: dict[int, list[str]] = {}
    for task_id, name in rows:
        found.setdefault(task_id, []).append(name)
    return found


def blocking_tasks(conn: Connection, plan_id: int | None = None, task_id: int | None = None) -> list[Blocker]:
    """The draft tasks (of a plan, or one task) that cannot be issued: an unresolved written lead, no lead,
    or no deadline; in task order."""
    has_lead = (
        sa.select(_assignment_t.c.id)
        .where(_assignment_t.c.task_id == _task_t.c.id, _assignment_t.c.role == AssignmentRole.lead.value)
        .exists()
    )
    unresolved = (
        sa.select(unit_t.c.id)
        .where(
            unit_t.c.task_id == _task_t.c.id,
            unit_t.c.role == AssignmentRole.lead.value,
            unit_t.c.department_id.is_(None),
            ~_office_lead(),
        )
        .exists()
    )
    query = (
        sa.select(
            _task_t.c.id,
            _task_t.c.title,
            _task_t.c.deadline,
            has_lead.label("has_lead"),
            _measure_t.c.path_key,
        )
        .select_from(_task_t.outerjoin(_measure_t, _measure_t.c.id == _task_t.c.measure_id))
        .where(
            _task_t.c.state == TaskState.draft.value,
            sa.or_(~has_lead, _task_t.c.deadline.is_(None), unresolved),
        )
        .order_by(_task_t.c.id)
    )
    if plan_id is not None:
        query = query.where(_task_t.c.plan_id == plan_id)
    if task_id is not None:
        query = query.where(_task_t.c.id == task_id)
    rows = conn.execute(query).all()
    names = unresolved_leads(conn, [row.id for row in rows])
    return [
        Blocker(
            task_id=row.id,
            title=row.title,
            path=row.path_key or "",
            unresolved=tuple(names.get(row.id, ())),
            missing=tuple(
                name
                for name, ok in (("lead", row.has_lead), ("deadline", row.deadline is not None))
                if not ok
            ),
        )
        for row in rows
    ]
