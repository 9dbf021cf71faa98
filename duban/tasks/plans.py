"""Plan import: a parsed document becomes a plan, its outline, targets and one draft task per measure.

Idempotent on the content hash; a revised document (same plan key, new content) updates the plan in
place and reports the measures added, removed and changed, never duplicating a task.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, select

from duban.core import clock
from duban.core.config import get_settings
from duban.tasks.chinese import to_simplified
from duban.tasks.enums import SupervisionLevel, TaskState
from duban.tasks.errors import PlanTooLarge
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
from duban.tasks.parser import OutlineNode, ParsedMeasure, ParsedPlan, to_json_dict
from duban.tasks.registry import Registry, default_registry
from duban.tasks.units import DocumentFit, UnitPlanner, document_fit

ImportStatus = Literal["created", "unchanged", "revised"]


@dataclass
class ImportResult:
    """What an import did."""

    plan_id: int
    key: str
    status: ImportStatus
    revision: int
    measures: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def content_hash(text: str) -> str:
    """Hash of a document's text, insensitive to line-ending and trailing-space noise."""
    normalised = "\n".join(
        line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    )
    return hashlib.sha256(normalised.strip().encode("utf-8")).hexdigest()


def plan_key(parsed: ParsedPlan, source_name: str | None, digest: str) -> str:
    """The natural key of a plan: its simplified title, else its file name, else its content."""
    if parsed.title:
        basis = "title:" + re.sub(r"\s+", "", to_simplified(parsed.title))
    elif source_name:
        stem = re.sub(r"\.(txt|docx)$", "", source_name.rsplit("/", 1)[-1], flags=re.IGNORECASE)
        basis = "file:" + stem
    else:
        basis = "hash:" + digest
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def _path_key(path: Sequence[str]) -> str:
    return "/".join(path)


def _measure_hash(title: str, body: str) -> str:
    return hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()


def import_plan(
    session: Session,
    text: str,
    parsed: ParsedPlan,
    source_name: str | None = None,
    registry: Registry | None = None,
) -> ImportResult:
    """Persist a parsed document; idempotent, and a revision updates instead of duplicating."""
    limit = get_settings().max_plan_measures
    if len(parsed.measures) > limit:
        raise PlanTooLarge(
            f"文件中识别出 {len(parsed.measures)} 项措施，超过上限 {limit}，不像一份规划文件；未导入",
            f"The document holds {len(parsed.measures)} measures, more than the limit of {limit}; "
            "nothing was imported",
            measures=len(parsed.measures),
            limit=limit,
        )
    digest = content_hash(text)
    key = plan_key(parsed, source_name, digest)
    plan = session.exec(select(Plan).where(Plan.key == key)).first()
    if plan is not None and plan.content_hash == digest:
        assert plan.id is not None
        return ImportResult(plan.id, key, "unchanged", plan.revision, plan_measure_count(session, plan.id))
    departments = _planner(session, text, parsed, registry or default_registry())
    facts = {tuple(m["path"]): m for m in to_json_dict(parsed)["measures"]}
    measures = {m.path: m for m in parsed.measures}
    if plan is None:
        plan = Plan(key=key, title=parsed.title or (source_name or "未命名规划"), content_hash=digest)
        _fill_plan(plan, text, parsed, source_name, departments.fit)
        session.add(plan)
        session.flush()
        assert plan.id is not None
        _insert_outline(session, plan, parsed.outline, measures, facts, departments)
        _insert_targets(session, plan.id, parsed)
        return ImportResult(
            plan.id,
            key,
            "created",
            plan.revision,
            len(parsed.measures),
            added=[_path_key(m.path) for m in parsed.measures],
        )
    return _revise(session, plan, text, parsed, source_name, measures, facts, departments)


def _planner(session: Session, text: str, parsed: ParsedPlan, registry: Registry) -> UnitPlanner:
    """The import's departments, the registry's fit to the document and the rules in force."""
    from duban.tasks.rules.store import rules_in_force

    return UnitPlanner(
        session, registry, document_fit(parsed, text, registry), rules_in_force(session, registry)
    )


def _fill_plan(plan: Plan, text: str, parsed: ParsedPlan, source_name: str | None, fit: DocumentFit) -> None:
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
        path_key=_path_key(node.path),
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
        content_hash=_measure_hash(node.title, node.body),
        created_at=now,
    )


def _insert_returning_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """One executemany INSERT of plain rows (no ORM objects), returning their ids in order."""
    table = model.__table__
    result = session.connection().execute(
        table.insert().returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return [int(i) for i in result.scalars()]


def _insert_outline(
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
            key = _path_key(node.path)
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
        deadline, source, note = _deadline_for(measure, plan.horizon, issue_date=plan.issue_date)
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
                "policy": {},
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


def _deadline_for(
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


def _insert_targets(session: Session, plan_id: int, parsed: ParsedPlan) -> None:
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


def _revise(
    session: Session,
    plan: Plan,
    text: str,
    parsed: ParsedPlan,
    source_name: str | None,
    measures: dict[tuple[str, ...], ParsedMeasure],
    facts: dict[tuple[str, ...], dict[str, Any]],
    departments: UnitPlanner,
) -> ImportResult:
    assert plan.id is not None
    old_rows = {
        row.path_key: row
        for row in session.exec(
            select(Measure).where(Measure.plan_id == plan.id, Measure.kind == MeasureKind.measure)
        ).all()
        if not row.facts.get("removed_in_revision")
    }

    new_keys = {_path_key(path): measure for path, measure in measures.items()}
    plan.revision += 1
    plan.content_hash = content_hash(text)
    _fill_plan(plan, text, parsed, source_name, departments.fit)
    session.add(plan)
    pairs, added, removed = _match_measures(old_rows, new_keys)
    for key in removed:
        old_rows[key].path_key = f"{key}#removed-r{plan.revision}"
        session.add(old_rows[key])
    session.flush()
    _move_paths(session, [(old_rows[old], new_keys[new]) for old, new in pairs if old != new])
    changed = []
    tasks_by_measure = {
        t.measure_id: t for t in session.exec(select(Task).where(Task.plan_id == plan.id)).all()
    }
    for old_key, key in pairs:
        row, measure = old_rows[old_key], new_keys[key]
        if row.content_hash == _measure_hash(measure.title, measure.body) and old_key == key:
            continue
        changed.append(key)
        _update_measure(
            session, plan, row, measure, facts.get(measure.path, {}), tasks_by_measure.get(row.id)
        )
    for key in removed:
        row = old_rows[key]
        row.facts = {**row.facts, "removed_in_revision": plan.revision}
        session.add(row)
        task = tasks_by_measure.get(row.id)
        if task is not None and task.id is not None:
            session.add(
                TaskEvent(
                    task_id=task.id,
                    kind="measure_removed",
                    actor_label="导入 / import",
                    reason=f"修订版第 {plan.revision} 版删除了此措施 / removed in revision {plan.revision}",
                    data={"plan_revision": plan.revision, "path": key},
                )
            )
    if added:
        _insert_outline(
            session, plan, parsed.outline, measures, facts, departments, only=_with_ancestors(added)
        )
    for target in session.exec(select(Target).where(Target.plan_id == plan.id)).all():
        session.delete(target)
    session.flush()
    _insert_targets(session, plan.id, parsed)
    return ImportResult(
        plan.id,
        plan.key,
        "revised",
        plan.revision,
        len(parsed.measures),
        added=added,
        removed=removed,
        changed=changed,
    )


def _match_measures(
    old: dict[str, Measure], new: dict[str, ParsedMeasure]
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Pair old and new measures: same text first (renumbered), then same heading, then same number."""
    pairs: list[tuple[str, str]] = []
    free_old, free_new = dict(old), list(new)

    def take(key_of_old: Any, key_of_new: Any) -> None:
        index: dict[Any, list[str]] = {}
        for key, row in free_old.items():
            index.setdefault(key_of_old(key, row), []).append(key)
        for key in list(free_new):
            candidates = index.get(key_of_new(key, new[key]))
            if candidates:
                old_key = candidates.pop(0)
                pairs.append((old_key, key))
                del free_old[old_key]
                free_new.remove(key)

    take(lambda _k, row: row.content_hash, lambda _k, m: _measure_hash(m.title, m.body))
    take(lambda _k, row: row.title or None, lambda _k, m: m.title or ())
    take(lambda k, _row: k, lambda k, _m: k)
    return pairs, free_new, sorted(free_old)


def _move_paths(session: Session, moves: Sequence[tuple[Measure, ParsedMeasure]]) -> None:
    """Renumber measures in two steps so swapped numbers never collide on the unique path."""
    for row, _ in moves:
        row.path_key = f"{row.path_key}#moving-{row.id}"
        session.add(row)
    session.flush()
    for row, measure in moves:
        row.path, row.path_key = list(measure.path), _path_key(measure.path)
        session.add(row)
    session.flush()


def _with_ancestors(keys: Iterable[str]) -> set[str]:
    wanted: set[str] = set()
    for key in keys:
        parts = key.split("/")
        wanted.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return wanted


def _update_measure(
    session: Session,
    plan: Plan,
    row: Measure,
    measure: ParsedMeasure,
    facts: dict[str, Any],
    task: Task | None,
) -> None:
    row.title, row.body = measure.title, measure.body
    row.content_hash = _measure_hash(measure.title, measure.body)
    row.deadline, row.deadline_text = measure.time.deadline, measure.time.deadline_text
    row.facts = {k: v for k, v in facts.items() if k not in ("path", "title", "body")}
    row.recurrence = row.facts.get("recurrence")
    session.add(row)
    if task is None or task.id is None:
        return
    data: dict[str, Any] = {"plan_revision": plan.revision, "path": row.path_key}
    if task.state is TaskState.draft:
        deadline, source, note = _deadline_for(measure, plan.horizon, issue_date=plan.issue_date)
        if task.deadline_source in ("document", "default", None) and deadline != task.deadline:
            data["deadline"] = {
                "from": task.deadline.isoformat() if task.deadline else None,
                "to": deadline.isoformat() if deadline else None,
            }
            task.deadline, task.original_deadline = deadline, deadline
            task.deadline_source, task.deadline_note = source, note
        task.title = measure.title or task.title
        task.version += 1
        task.updated_at = clock.now()
        session.add(task)
    session.add(
        TaskEvent(
            task_id=task.id,
            kind="measure_changed",
            actor_label="导入 / import",
            reason=f"修订版第 {plan.revision} 版修改了措施原文 / text changed in revision {plan.revision}",
            data=data,
        )
    )


def plan_measure_count(session: Session, plan_id: int) -> int:
    """Number of live measures of a plan."""
    rows = session.exec(
        select(Measure).where(Measure.plan_id == plan_id, Measure.kind == MeasureKind.measure)
    ).all()
    return sum(1 for row in rows if not row.facts.get("removed_in_revision"))
