"""Read side of plans: summaries, the outline tree, and each task with its departments."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from duban.tasks.enums import AssignmentRole, TaskState
from duban.tasks.errors import NotFoundError
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


def _counts(session: Session, plan_ids: Sequence[int]) -> tuple[dict[int, int], dict[int, int]]:
    measures = {
        plan_id: count
        for plan_id, count in session.exec(
            select(Measure.plan_id, func.count())
            .where(col(Measure.plan_id).in_(plan_ids), Measure.kind == MeasureKind.measure)
            .group_by(col(Measure.plan_id))
        ).all()
    }
    tasks = {
        plan_id: count
        for plan_id, count in session.exec(
            select(Task.plan_id, func.count())
            .where(col(Task.plan_id).in_(plan_ids))
            .group_by(col(Task.plan_id))
        ).all()
    }
    return measures, tasks


def _summary(plan: Plan, measures: int, tasks: int) -> dict[str, Any]:
    return {
        **plan.model_dump(exclude={"source_text", "warnings", "key", "content_hash"}),
        "measures": measures,
        "tasks": tasks,
    }


def list_plans(session: Session, limit: int = 50, after_id: int | None = None) -> list[PlanSummary]:
    """Plans, newest first, keyset-paged by id."""
    query = select(Plan).order_by(col(Plan.id).desc()).limit(limit)
    if after_id is not None:
        query = query.where(col(Plan.id) < after_id)
    plans = session.exec(query).all()
    ids = [p.id for p in plans if p.id is not None]
    measures, tasks = _counts(session, ids)
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
    rows = [
        row
        for chunk in _chunks(task_ids)
        for row in session.exec(
            select(TaskAssignment, Department)
            .join(Department, col(Department.id) == TaskAssignment.department_id)
            .where(col(TaskAssignment.task_id).in_(chunk))
            .order_by(col(TaskAssignment.position))
        ).all()
    ]
    for assignment, department in rows:
        assert department.id is not None
        by_task[assignment.task_id][assignment.role].append(
            AssignedDepartment(
                department_id=department.id,
                code=department.code,
                name=department.name,
                role=assignment.role,
                source=assignment.source.value,
                evidence=assignment.evidence,
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


def plan_detail(session: Session, plan_id: int) -> PlanDetail:
    """One plan with its outline, targets and tasks."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"规划 {plan_id} 不存在", f"Plan {plan_id} does not exist", code="not_found")
    nodes = session.exec(select(Measure).where(Measure.plan_id == plan_id).order_by(col(Measure.id))).all()
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
