"""A revision of a plan: the new text's measures matched to the old ones (same text, same heading, same
number), renumbered, changed, added or marked removed — never duplicated — and, after any import, a check
that the stored text and the measures agree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from duban.core import clock
from duban.tasks.enums import TaskState
from duban.tasks.models import Measure, MeasureKind, Plan, PlanRevision, Target, Task, TaskEvent
from duban.tasks.parser import ParsedMeasure, ParsedPlan, parse, to_json_dict
from duban.tasks.plan_identity import RevisionRemovesIssuedTasks
from duban.tasks.plan_outline import (
    deadline_for,
    fill_plan,
    insert_outline,
    insert_targets,
    measure_hash,
    path_key,
)
from duban.tasks.units import UnitPlanner

# A removed measure's task may go with it only while nobody works on it: a draft, or already withdrawn.
_REMOVABLE = frozenset({TaskState.draft, TaskState.cancelled})


@dataclass
class Diff:
    """What a revision changed, by measure path."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def live_measures(session: Session, plan_id: int) -> dict[str, Measure]:
    """The plan's measures by path, without those a revision removed."""
    rows = session.exec(
        select(Measure).where(Measure.plan_id == plan_id, Measure.kind == MeasureKind.measure)
    ).all()
    return {row.path_key: row for row in rows if not row.facts.get("removed_in_revision")}


def revise(
    session: Session,
    plan: Plan,
    text: str,
    parsed: ParsedPlan,
    source_name: str | None,
    departments: UnitPlanner,
) -> Diff:
    """Bring a plan (its row locked by the caller) to a new text as its next revision; refused, with nothing
    written, when a measure it drops has a task somebody is already working on."""
    assert plan.id is not None
    old_rows = live_measures(session, plan.id)
    measures = {m.path: m for m in parsed.measures}
    facts = {tuple(m["path"]): m for m in to_json_dict(parsed)["measures"]}
    new_keys = {path_key(path): measure for path, measure in measures.items()}
    pairs, added, removed = match_measures(old_rows, new_keys)
    # Read afresh and held (FOR UPDATE on PostgreSQL): the action service and the review edits move tasks
    # with plain SQL, behind the session's back; a draft's version must count up from what is stored.
    tasks = (
        select(Task)
        .where(Task.plan_id == plan.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    tasks_by_measure = {t.measure_id: t for t in session.exec(tasks).all()}
    _refuse_removing_live_tasks(plan, [old_rows[key] for key in removed], tasks_by_measure)
    plan.revision += 1
    fill_plan(plan, text, parsed, source_name, departments.fit)
    session.add(plan)
    for key in removed:
        old_rows[key].path_key = f"{key}#removed-r{plan.revision}"
        session.add(old_rows[key])
    session.flush()
    _move_paths(session, [(old_rows[old], new_keys[new]) for old, new in pairs if old != new])
    changed = []
    for old_key, key in pairs:
        row, measure = old_rows[old_key], new_keys[key]
        if row.content_hash == measure_hash(measure.title, measure.body) and old_key == key:
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
        insert_outline(
            session, plan, parsed.outline, measures, facts, departments, only=_with_ancestors(added)
        )
    for target in session.exec(select(Target).where(Target.plan_id == plan.id)).all():
        session.delete(target)
    session.flush()
    insert_targets(session, plan.id, parsed)
    return Diff(added=added, removed=removed, changed=changed)


def _refuse_removing_live_tasks(
    plan: Plan, removed: Sequence[Measure], tasks_by_measure: dict[int | None, Task]
) -> None:
    live = [
        (row, task)
        for row in removed
        if (task := tasks_by_measure.get(row.id)) is not None and task.state not in _REMOVABLE
    ]
    if not live:
        return
    paths = "、".join(row.path_key for row, _ in live)
    raise RevisionRemovesIssuedTasks(
        f"修订版删除了措施 {paths}，其任务已交办（{len(live)} 项），未导入；请先撤销这些任务，或保留这些措施",
        f"the revision drops measures {paths} whose {len(live)} task(s) are already issued; nothing was "
        "imported — cancel those tasks first, or keep the measures",
        plan_id=plan.id,
        tasks=[{"id": task.id, "path": row.path_key, "state": task.state.value} for row, task in live],
    )


def match_measures(
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

    take(lambda _k, row: row.content_hash, lambda _k, m: measure_hash(m.title, m.body))
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
        row.path, row.path_key = list(measure.path), path_key(measure.path)
        session.add(row)
    session.flush()


def _with_ancestors(keys: Iterable[str]) -> set[str]:
    """The keys with every ancestor path (二/(三) → 二, 二/(三)), for inserting added measures."""
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
    """Rewrite a matched measure; a draft task follows its deadline and heading, any task gets an event."""
    row.title, row.body = measure.title, measure.body
    row.content_hash = measure_hash(measure.title, measure.body)
    row.deadline, row.deadline_text = measure.time.deadline, measure.time.deadline_text
    row.facts = {k: v for k, v in facts.items() if k not in ("path", "title", "body")}
    row.recurrence = row.facts.get("recurrence")
    session.add(row)
    if task is None or task.id is None:
        return
    data: dict[str, Any] = {"plan_revision": plan.revision, "path": row.path_key}
    if task.state is TaskState.draft:
        deadline, source, note = deadline_for(measure, plan.horizon, issue_date=plan.issue_date)
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


def revision_inconsistencies(session: Session, plan_id: int) -> list[str]:
    """What disagrees in a plan after its imports (empty when all agree): its live measures against what
    the parser reads from its stored text, one task per live measure, and its revision records numbered
    1…revision (or from the first one recorded), the last one of the stored text."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        return [f"plan {plan_id} does not exist"]
    found: list[str] = []
    expected = {path_key(m.path): (m.title, m.body) for m in parse(plan.source_text).measures}
    stored = live_measures(session, plan_id)
    for key in sorted(set(expected) | set(stored)):
        row = stored.get(key)
        if key not in stored:
            found.append(f"measure {key} of the text is not stored")
        elif key not in expected:
            found.append(f"measure {key} is stored but not in the text")
        elif row is not None and (row.title, row.body) != expected[key]:
            found.append(f"measure {key} is stored with another text")
    # One task per live measure (regional children of a split task are its, not the measure's).
    tasks = Counter(
        session.exec(
            select(Task.measure_id).where(Task.plan_id == plan_id, Task.parent_id == None)  # noqa: E711
        ).all()
    )
    found += [f"measure {key} has {tasks[row.id]} tasks" for key, row in stored.items() if tasks[row.id] != 1]
    records = session.exec(
        select(PlanRevision).where(PlanRevision.plan_id == plan_id).order_by(PlanRevision.revision)  # type: ignore[arg-type]
    ).all()
    numbers = [record.revision for record in records]
    if not numbers or numbers != list(range(numbers[0], plan.revision + 1)):
        found.append(f"revision records {numbers} do not run up to revision {plan.revision}")
    elif records[-1].content_hash != plan.content_hash:
        found.append(f"revision {plan.revision} was recorded with another text")
    return found
