"""Writing a parsed document's outline: measures level by level, one draft task per measure with its units,
milestones and first event, and the plan's targets (used by the first import and by revisions)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from duban.core import clock
from duban.tasks.enums import SupervisionLevel, TaskState
from duban.tasks.models import (
    Measure,
    MeasureKind,
    Milestone,
    Plan,
    Target,
    Task,
    TaskAssignment,
    TaskEvent,
    TaskUnit,
)
from duban.tasks.parser import OutlineNode, ParsedMeasure, ParsedPlan
from duban.tasks.registry import Registry
from duban.tasks.units import DocumentFit, UnitPlanner, document_fit


def path_key(path: Sequence[str]) -> str:
    """A measure's path as one string: 二/(三)."""
    return "/".join(path)


def measure_hash(title: str, body: str) -> str:
    """Hash of a measure's heading and body (what a revision compares)."""
    return hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()


def planner(session: Session, text: str, parsed: ParsedPlan, registry: Registry) -> UnitPlanner:
    """The import's departments, the registry's fit to the document and the rules in force."""
    from duban.tasks.rules.store import rules_in_force

    return UnitPlanner(
        session, registry, document_fit(parsed, text, registry), rules_in_force(session, registry)
    )


def fill_plan(plan: Plan, text: str, parsed: ParsedPlan, source_name: str | None, fit: DocumentFit) -> None:
    """Copy what the document says of itself onto the plan (title, dates, text, warnings, registry fit)."""
    plan.registry_fit = fit.to_json()
    plan.title = parsed.title or plan.title
    plan.title_inferred = parsed.title_inferred
    plan.script = parsed.script
    plan.source_name = source_name
    plan.issue_date = parsed.issue_date
    plan.horizon = parsed.horizon
    plan.source_text = text
    plan.warnings = [
        {"code": w.code, "message_zh": w.message_zh, "message_en": w.message_en, "line": w.line}
        for w in parsed.warnings
    ]
    plan.updated_at = clock.now()


def _measure_row(
    plan_id: int,
    node: OutlineNode,
    position: int,
    parent_id: int | None,
    measure: ParsedMeasure | None,
    facts: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    time = measure.time if measure else None
    stored_facts = dict(facts or {})
    for copied in ("path", "title", "body"):
        stored_facts.pop(copied, None)
    if node.excluded is not None:
        stored_facts["excluded"] = node.excluded.value
    return dict(
        plan_id=plan_id,
        parent_id=parent_id,
        kind=(MeasureKind.measure if measure else MeasureKind.section).value,
        path=list(node.path),
        path_key=path_key(node.path),
        label=node.label[:32],
        position=position,
        title=measure.title if measure else node.title,
        body=measure.body if measure else node.body,
        line_start=node.line_start,
        line_end=node.line_end,
        deadline=time.deadline if time else None,
        deadline_text=(time.deadline_text or None) if time else None,
        recurrence=stored_facts.get("recurrence"),
        facts=stored_facts,
        content_hash=measure_hash(node.title, node.body),
        created_at=now,
    )


def _insert_returning_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """One executemany INSERT of plain rows (no ORM objects), returning their ids in order."""
    table = model.__table__
    result = session.connection().execute(
        table.insert().returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return [int(i) for i in result.scalars()]


def insert_outline(
    session: Session,
    plan: Plan,
    outline: Sequence[OutlineNode],
    measures: dict[tuple[str, ...], ParsedMeasure],
    facts: dict[tuple[str, ...], dict[str, Any]],
    departments: UnitPlanner,
    only: set[str] | None = None,
) -> list[int]:
    """Insert the outline level by level (parents first, for their ids) and a draft task per measure."""
    assert plan.id is not None
    existing = {
        row.path_key: row.id for row in session.exec(select(Measure).where(Measure.plan_id == plan.id)).all()
    }
    ids: dict[tuple[str, ...], int | None] = {}
    levels: dict[int, list[tuple[int, OutlineNode, tuple[str, ...] | None]]] = {}
    parents: dict[tuple[str, ...], tuple[str, ...] | None] = {}

    def collect(nodes: Sequence[OutlineNode], parent: tuple[str, ...] | None, depth: int) -> None:
        for position, node in enumerate(nodes):
            parents[node.path] = parent
            levels.setdefault(depth, []).append((position, node, parent))
            collect(node.children, node.path, depth + 1)

    collect(outline, None, 0)
    new_rows: list[tuple[dict[str, Any], ParsedMeasure | None]] = []
    now = clock.now()
    for depth in sorted(levels):
        batch: list[tuple[dict[str, Any], ParsedMeasure | None]] = []
        for position, node, parent in levels[depth]:
            key = path_key(node.path)
            if key in existing:
                ids[node.path] = existing[key]
                continue
            if only is not None and key not in only:
                continue
            parent_id = ids.get(parent) if parent else None
            measure = measures.get(node.path) if node.is_measure else None
            row = _measure_row(plan.id, node, position, parent_id, measure, facts.get(node.path), now)
            batch.append((row, measure))
        if not batch:
            continue
        for (row, _measure), new_id in zip(
            batch, _insert_returning_ids(session, Measure, [row for row, _ in batch]), strict=True
        ):
            row["id"] = new_id
            ids[tuple(row["path"])] = new_id
        new_rows.extend(batch)
    return _create_tasks(session, plan, [(row, m) for row, m in new_rows if m is not None], departments)


def _create_tasks(
    session: Session,
    plan: Plan,
    rows: Sequence[tuple[dict[str, Any], ParsedMeasure]],
    departments: UnitPlanner,
) -> list[int]:
    # Every task gets its written units (resolved where the registry can) or, where the measure names nobody
    # and the registry fits, the rules' proposal (issue 13); and a deadline (document > default).
    assert plan.id is not None
    if not rows:
        return []
    now = clock.now()
    task_rows: list[dict[str, Any]] = []
    for row, measure in rows:
        deadline, source, note = deadline_for(measure, plan.horizon, issue_date=plan.issue_date)
        task_rows.append(
            {
                "plan_id": plan.id,
                "measure_id": row["id"],
                "parent_id": None,
                "region_code": "",
                "title": row["title"] or row["body"][:60],
                "state": TaskState.draft.value,
                "supervision_level": SupervisionLevel.none.value,
                "notice_colour": None,
                "deadline": deadline,
                "original_deadline": deadline,
                "deadline_source": source,
                "deadline_note": note,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    task_ids = _insert_returning_ids(session, Task, task_rows)
    # Children go in as plain rows (bulk executemany): building ~2,000 ORM objects per plan cost more
    # than all the SQL (see docs/benchmarks.md, seeds).
    assignments: list[dict[str, Any]] = []
    units: list[dict[str, Any]] = []
    milestones: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for task_id, (_row, measure) in zip(task_ids, rows, strict=True):
        task_assignments, task_units = departments.rows(plan.id, task_id, measure)
        assignments.extend(task_assignments)
        units.extend(task_units)
        milestones.extend(
            {"task_id": task_id, "due": m.date, "text": m.text[:512], "reached_at": None}
            for m in measure.time.milestones
        )
        events.append(
            {
                "task_id": task_id,
                "kind": "created",
                "actor_user_id": None,
                "actor_department_id": None,
                "actor_label": "导入 / import",
                "from_state": None,
                "to_state": TaskState.draft.value,
                "from_level": None,
                "to_level": None,
                "reason": "",
                "data": {"plan_revision": plan.revision},
                "request_id": None,
                "created_at": now,
            }
        )
    for model, values in (
        (TaskAssignment, assignments),
        (TaskUnit, units),
        (Milestone, milestones),
        (TaskEvent, events),
    ):
        if values:
            session.execute(sa.insert(model), values)
    return task_ids


def deadline_for(
    measure: ParsedMeasure, horizon: date | None, *, issue_date: date | None = None
) -> tuple[date | None, str | None, str | None]:
    """The document's deadline, else a default (horizon, else the year after issue or import), so marked."""
    from duban.tasks.rules.deadlines import DEFAULT_SOURCE, default_deadline

    if measure.time.deadline is not None:
        # The note quotes the phrase that sets the final deadline, not the first date the text mentions.
        final = [m.text for m in measure.time.milestones if m.date == measure.time.deadline]
        return measure.time.deadline, "document", (final[-1] if final else measure.time.deadline_text)
    from duban.tasks.parser.timex import impossible_dates

    wrong = impossible_dates(measure.text, issue_date.year if issue_date else None)
    deadline, note = default_deadline(
        horizon, issue_date, ongoing=measure.time.ongoing_text, impossible=wrong[0] if wrong else None
    )
    return deadline, DEFAULT_SOURCE, note


def insert_targets(session: Session, plan_id: int, parsed: ParsedPlan) -> None:
    """The plan's numeric targets (指标), one row each."""
    session.add_all(
        Target(
            plan_id=plan_id,
            indicator=t.target.indicator[:256],
            value=t.target.value[:128],
            unit=(t.target.unit or None),
            year=t.target.year,
            text=t.target.text,
        )
        for t in parsed.targets
    )
    session.flush()
