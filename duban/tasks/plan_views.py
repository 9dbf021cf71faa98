"""Read side of plans: summaries, the outline tree, and each task with its departments.

The office reads every plan. A department (`department_id`) reads issued plans only and, in them, only the
tasks it leads or cooperates on that have been issued; drafts, the rules' proposals and the import warnings
are the office's."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from duban.tasks.enums import AssignmentRole, TaskState
from duban.tasks.errors import NotFoundError, TasksError
from duban.tasks.models import (
    Department,
    Measure,
    MeasureKind,
    Plan,
    PlanStatus,
    Target,
    Task,
    TaskAssignment,
)


class PlanNotIssued(TasksError):
    """A department asking for a plan the office has not issued yet (403)."""

    code = "plan_not_issued"


def task_issued() -> sa.ColumnElement[bool]:
    """SQL for "the task has been issued" (交办; a disputed task back in draft keeps its issue time)."""
    return col(Task.issued_at).is_not(None)


def task_readable_by(department_id: int) -> sa.ColumnElement[bool]:
    """SQL for "the department may read the task": it leads or cooperates on it, and it has been issued."""
    held = (
        sa.select(col(TaskAssignment.id))
        .where(
            col(TaskAssignment.task_id) == col(Task.id),
            col(TaskAssignment.department_id) == department_id,
            col(TaskAssignment.role).in_([AssignmentRole.lead.value, AssignmentRole.cooperating.value]),
        )
        .exists()
    )
    return sa.and_(task_issued(), held)


def plan_issued() -> sa.ColumnElement[bool]:
    """SQL for "the plan has been issued": by `POST /plans/{id}/issue`, or a task of it one by one."""
    some_task = sa.select(col(Task.id)).where(col(Task.plan_id) == col(Plan.id), task_issued()).exists()
    return sa.or_(col(Plan.status) == PlanStatus.issued.value, some_task)


class PlanSummary(BaseModel):
    """A plan in a listing."""

    id: int
    title: str
    title_inferred: bool
    script: str
    revision: int
    status: PlanStatus
    issue_date: dt.date | None
    horizon: dt.date | None
    source_name: str | None
    measures: int
    tasks: int
    created_at: dt.datetime
    updated_at: dt.datetime


class AssignedDepartment(BaseModel):
    """A department's part in a task, with where the proposal came from."""

    department_id: int
    code: str
    name: str
    role: AssignmentRole
    source: str
    evidence: list[Any]


class TaskBrief(BaseModel):
    """A task as a plan shows it."""

    id: int
    measure_id: int | None
    path: list[str]
    title: str
    state: TaskState
    deadline: dt.date | None
    deadline_source: str | None
    deadline_note: str | None
    lead: list[AssignedDepartment]
    cooperating: list[AssignedDepartment]
    guidance: list[AssignedDepartment]


class OutlineEntry(BaseModel):
    """A node of the outline, flattened in reading order with its depth."""

    id: int
    parent_id: int | None
    kind: MeasureKind
    path: list[str]
    title: str
    body: str
    line_start: int | None
    line_end: int | None
    deadline: dt.date | None
    deadline_text: str | None
    facts: dict[str, Any]


class TargetView(BaseModel):
    """A numeric target of the plan."""

    indicator: str
    value: str
    unit: str | None
    year: int | None
    text: str


class PlanDetail(PlanSummary):
    """A plan with its outline, targets and tasks."""

    warnings: list[Any]
    registry_fit: dict[str, Any] | None = Field(
        default=None,
        description="部门名录是否适用于本文件及原因 / whether the registry fits the document, and why",
    )
    outline: list[OutlineEntry]
    targets: list[TargetView]
    task_list: list[TaskBrief]


def _counts(
    session: Session, plan_ids: Sequence[int], department_id: int | None = None
) -> tuple[dict[int, int], dict[int, int]]:
    task_query = select(Task.plan_id, func.count()).where(col(Task.plan_id).in_(plan_ids))
    if department_id is not None:
        task_query = task_query.where(task_readable_by(department_id))
    measures = {
        plan_id: count
        for plan_id, count in session.exec(
            select(Measure.plan_id, func.count())
            .where(col(Measure.plan_id).in_(plan_ids), Measure.kind == MeasureKind.measure)
            .group_by(col(Measure.plan_id))
        ).all()
    }
    tasks = {plan_id: count for plan_id, count in session.exec(task_query.group_by(col(Task.plan_id))).all()}
    return measures, tasks


def _summary(plan: Plan, measures: int, tasks: int) -> dict[str, Any]:
    return {
        **plan.model_dump(exclude={"source_text", "warnings", "key", "content_hash"}),
        "measures": measures,
        "tasks": tasks,
    }


def list_plans(
    session: Session, limit: int = 50, after_id: int | None = None, *, department_id: int | None = None
) -> list[PlanSummary]:
    """Plans, newest first, keyset-paged by id; a department's listing holds issued plans only, and counts
    only the tasks it may read."""
    query = select(Plan).order_by(col(Plan.id).desc()).limit(limit)
    if after_id is not None:
        query = query.where(col(Plan.id) < after_id)
    if department_id is not None:
        query = query.where(plan_issued())
    plans = session.exec(query).all()
    ids = [p.id for p in plans if p.id is not None]
    measures, tasks = _counts(session, ids, department_id)
    return [
        PlanSummary.model_validate(_summary(p, measures.get(p.id or 0, 0), tasks.get(p.id or 0, 0)))
        for p in plans
    ]


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    """Ids in slices a driver accepts as bound parameters (PostgreSQL allows 65,535 per statement)."""
    for start in range(0, len(ids), 10_000):
        yield ids[start : start + 10_000]


def task_briefs(session: Session, tasks: Sequence[Task]) -> list[TaskBrief]:
    """Tasks with their measure paths and departments, in two queries per 10,000 tasks."""
    task_ids = [t.id for t in tasks if t.id is not None]
    measure_ids = [t.measure_id for t in tasks if t.measure_id is not None]
    paths: dict[int | None, list[str]] = {
        measure_id: list(path)
        for chunk in _chunks(measure_ids)
        for measure_id, path in session.exec(
            select(Measure.id, Measure.path).where(col(Measure.id).in_(chunk))
        ).all()
    }
    by_task: dict[int, dict[AssignmentRole, list[AssignedDepartment]]] = defaultdict(
        lambda: defaultdict(list)
    )
    # Plain rows, not ORM objects: a plan's review reads ~1,000 of them, and building entities cost more
    # than the query.
    assignment_t = TaskAssignment.__table__  # type: ignore[attr-defined]
    department_t = Department.__table__  # type: ignore[attr-defined]
    query = (
        sa.select(
            assignment_t.c.task_id,
            assignment_t.c.role,
            assignment_t.c.source,
            assignment_t.c.evidence,
            department_t.c.id,
            department_t.c.code,
            department_t.c.name,
        )
        .join(department_t, department_t.c.id == assignment_t.c.department_id)
        .order_by(assignment_t.c.position, assignment_t.c.id)
    )
    connection = session.connection()
    for chunk in _chunks(task_ids):
        for task_id, role, source, evidence, department_id, code, name in connection.execute(
            query.where(assignment_t.c.task_id.in_(chunk))
        ):
            held = AssignmentRole(role)
            by_task[task_id][held].append(
                AssignedDepartment.model_construct(
                    department_id=department_id,
                    code=code,
                    name=name,
                    role=held,
                    source=getattr(source, "value", source),
                    evidence=evidence,
                )
            )
    briefs = []
    for task in tasks:
        assert task.id is not None
        roles = by_task.get(task.id, {})
        briefs.append(
            TaskBrief(
                id=task.id,
                measure_id=task.measure_id,
                path=paths.get(task.measure_id, []),
                title=task.title,
                state=task.state,
                deadline=task.deadline,
                deadline_source=task.deadline_source,
                deadline_note=task.deadline_note,
                lead=roles.get(AssignmentRole.lead, []),
                cooperating=roles.get(AssignmentRole.cooperating, []),
                guidance=roles.get(AssignmentRole.guidance, []),
            )
        )
    return briefs


def document_order(nodes: Sequence[Measure]) -> list[Measure]:
    """An outline's nodes as the document reads them: each part, then what it holds (the rows were
    written level by level, so their ids list every 章 before any 节)."""
    below: dict[int | None, list[Measure]] = defaultdict(list)
    ids = {node.id for node in nodes}
    for node in nodes:
        below[node.parent_id if node.parent_id in ids else None].append(node)
    for kids in below.values():
        kids.sort(key=lambda n: (n.position, n.line_start or 0, n.id or 0))
    ordered: list[Measure] = []
    stack = list(reversed(below.get(None, [])))
    while stack:
        node = stack.pop()
        ordered.append(node)
        stack.extend(reversed(below.get(node.id, [])))
    return ordered


def plan_detail(session: Session, plan_id: int, *, department_id: int | None = None) -> PlanDetail:
    """One plan with its outline, targets and tasks; for a department, an issued plan with the tasks it may
    read, without the office's warnings, registry fit and the parser's facts (PlanNotIssued for a draft)."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"规划 {plan_id} 不存在", f"Plan {plan_id} does not exist", code="not_found")
    if department_id is not None:
        return _department_detail(session, plan, department_id)
    nodes = document_order(session.exec(select(Measure).where(Measure.plan_id == plan_id)).all())
    outline = [
        OutlineEntry.model_validate(node, from_attributes=True)
        for node in nodes
        if not node.facts.get("removed_in_revision")
    ]
    targets = [
        TargetView.model_validate(t, from_attributes=True)
        for t in session.exec(select(Target).where(Target.plan_id == plan_id).order_by(col(Target.id))).all()
    ]
    tasks = session.exec(select(Task).where(Task.plan_id == plan_id).order_by(col(Task.id))).all()
    _, counts = _counts(session, [plan_id])
    return PlanDetail.model_validate(
        {
            **_summary(
                plan, sum(1 for n in outline if n.kind is MeasureKind.measure), counts.get(plan_id, 0)
            ),
            "warnings": plan.warnings,
            "outline": outline,
            "targets": targets,
            "task_list": task_briefs(session, tasks),
        }
    )


def _department_detail(session: Session, plan: Plan, department_id: int) -> PlanDetail:
    """A department's view of one plan: the document as issued and its own issued tasks."""
    assert plan.id is not None
    issued = session.exec(select(col(Plan.id)).where(col(Plan.id) == plan.id, plan_issued())).first()
    if issued is None:
        raise PlanNotIssued(
            f"规划 {plan.id} 尚未交办，拟办内容仅供委员会办公室查看",
            f"Plan {plan.id} has not been issued; drafts are for the committee office",
        )
    office_view = plan_detail(session, plan.id)
    readable = set(
        session.exec(
            select(col(Task.id)).where(col(Task.plan_id) == plan.id, task_readable_by(department_id))
        ).all()
    )
    return office_view.model_copy(
        update={
            "warnings": [],
            "registry_fit": None,
            "outline": [entry.model_copy(update={"facts": {}}) for entry in office_view.outline],
            "task_list": [task for task in office_view.task_list if task.id in readable],
            "tasks": len(readable),
        }
    )
