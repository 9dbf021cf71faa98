"""The office's review list of a plan: every task with its proposal and the reasons, disputed tasks first."""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from duban.core import clock
from duban.tasks.enums import TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Department, Measure, Plan, Task, TaskEvent
from duban.tasks.plan_views import AssignedDepartment, task_briefs
from duban.tasks.regions_split import RegionRollup, addressed_to_leagues, children_of, rollups
from duban.tasks.registry import Registry, default_registry
from duban.tasks.review.unit_views import RegistryFitView, UnitView, fit_view, task_units
from duban.tasks.rules import RuleSet, propose
from duban.tasks.rules.store import rules_in_force
from duban.tasks.task_views import OPEN_STATES, TaskItem
from duban.tasks.units import unresolved_leads


class DepartmentRef(BaseModel):
    """A department by code and name."""

    code: str = Field(examples=["sthjt"])
    name: str = Field(examples=["自治区生态环境厅"])


class ProposalView(BaseModel):
    """What the rules in force propose for the task's measure, and why."""

    lead: list[DepartmentRef]
    cooperating: list[DepartmentRef]
    rule_ids: list[str] = Field(examples=[["env.air"]])
    phrases: list[str] = Field(examples=[["大气污染", "燃煤锅炉"]])
    score: float = Field(examples=[12.5])
    fallback: bool = Field(description="没有规则匹配，按默认规则 / no rule matched: the default rule")
    explanation_zh: str
    explanation_en: str


class DisputeView(BaseModel):
    """The lead's dispute of the assignment (the task's last event)."""

    reason: str = Field(examples=["属于水利厅职责"])
    department_id: int | None
    department_name: str | None = Field(examples=["自治区生态环境厅"])
    at: dt.datetime
    event_id: int


class RollupView(BaseModel):
    """A split task's regional children summed up."""

    total: int = Field(examples=[12])
    by_state: dict[str, int] = Field(examples=[{"assigned": 10, "in_progress": 2}])
    completed: int
    overdue: int
    percent_completed: float
    earliest_deadline: dt.date | None
    latest_deadline: dt.date | None
    summary_state: TaskState | None


class ReviewItem(BaseModel):
    """A task as the office reviews it before issuing."""

    id: int
    path: list[str]
    title: str
    state: TaskState
    version: int
    deadline: dt.date | None
    deadline_source: str | None = Field(examples=["default"])
    deadline_note: str | None
    lead: list[AssignedDepartment]
    cooperating: list[AssignedDepartment]
    guidance: list[AssignedDepartment]
    lead_source: str | None = Field(
        examples=["rule"], description="explicit | body | convention | rule | office"
    )
    units: list[UnitView] = Field(description="措施原文写明的单位 / the units the measure names, verbatim")
    missing: list[str] = Field(
        examples=[["deadline"]],
        description="交办前还缺的：lead、lead_unresolved（写明的牵头单位尚未对应部门）、deadline / "
        "what issuing still needs",
    )
    proposal: ProposalView | None = Field(
        description="仅对没有写明任何单位、且部门名录适用的措施 / only where the measure names nobody "
        "and the registry fits the document"
    )
    disputed: bool
    dispute: DisputeView | None
    addressed_to_leagues: bool = Field(description="措施面向各盟市，可按盟市拆分 / can be split by region")
    parent_id: int | None
    region_code: str
    regions: RollupView | None


class ReviewList(BaseModel):
    """A plan's tasks in review order: disputed first, then those lacking a lead or deadline, the rest."""

    plan_id: int
    rules_version: int = Field(description="责任规则版本（0 为内置规则）/ rules version in force")
    registry: RegistryFitView | None = Field(description="部门名录是否适用于本文件 / does the registry fit")
    disputed: int
    incomplete: int
    items: list[ReviewItem]


def _disputes(session: Session, task_ids: list[int]) -> dict[int, TaskEvent]:
    """The tasks whose last event is a dispute, with that event (one grouped query)."""
    if not task_ids:
        return {}
    last = (
        sa.select(col(TaskEvent.task_id), sa.func.max(col(TaskEvent.id)).label("last_id"))
        .where(col(TaskEvent.task_id).in_(task_ids))
        .group_by(col(TaskEvent.task_id))
        .subquery()
    )
    rows = session.exec(
        select(TaskEvent).join(last, col(TaskEvent.id) == last.c.last_id).where(TaskEvent.kind == "dispute")
    ).all()
    return {row.task_id: row for row in rows}


# A proposal is pure in (rules, registry, the measure's text): kept per rule set for the bundled registry, so
# the review page does not run the matcher over every measure on each load (issue 15: < 300 ms for 101).
_MEMO: weakref.WeakKeyDictionary[RuleSet, dict[tuple[str, str], ProposalView]] = weakref.WeakKeyDictionary()
_MEMO_LIMIT = 20_000


def _proposal(measure: Measure | None, registry: Registry, rules: RuleSet) -> ProposalView | None:
    if measure is None:
        return None
    memo = _MEMO.setdefault(rules, {}) if registry is default_registry() else None
    key = (measure.title, measure.body)
    if memo is not None and key in memo:
        return memo[key]  # never mutated: shared
    view = _proposal_of(measure, registry, rules)
    if memo is not None:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[key] = view
    return view


def _proposal_of(measure: Measure, registry: Registry, rules: RuleSet) -> ProposalView:
    found = propose(measure.body, registry, rules, title=measure.title)

    def refs(codes: tuple[str, ...]) -> list[DepartmentRef]:
        return [DepartmentRef(code=c, name=registry.department(c).name) for c in codes]

    return ProposalView(
        lead=refs(found.lead),
        cooperating=refs(found.cooperating),
        rule_ids=list(found.rule_ids),
        phrases=list(found.phrases),
        score=round(found.score, 3),
        fallback=found.fallback,
        explanation_zh=found.explanation_zh,
        explanation_en=found.explanation_en,
    )


def rollup_view(roll: RegionRollup | None) -> RollupView | None:
    """The API view of a roll-up."""
    if roll is None:
        return None
    return RollupView(**{k: getattr(roll, k) for k in RollupView.model_fields})


def review_list(session: Session, plan_id: int, registry: Registry | None = None) -> ReviewList:
    """The office's review list of a plan (GET /api/v1/plans/{id}/review)."""
    registry = registry or default_registry()
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"规划 {plan_id} 不存在", f"Plan {plan_id} does not exist")
    fit = fit_view(plan)
    proposals = fit is None or fit.applies
    rules = rules_in_force(session, registry)
    tasks = list(
        session.exec(
            select(Task)
            .where(Task.plan_id == plan_id)
            .order_by(col(Task.id))
            .execution_options(populate_existing=True)
        ).all()
    )
    ids = [t.id for t in tasks if t.id is not None]
    briefs = {b.id: b for b in task_briefs(session, tasks)}
    measure_ids = [t.measure_id for t in tasks if t.measure_id is not None]
    measures = {m.id: m for m in session.exec(select(Measure).where(col(Measure.id).in_(measure_ids))).all()}
    disputes = _disputes(session, ids)
    names = dict(
        session.exec(
            select(Department.id, Department.name).where(
                col(Department.id).in_([e.actor_department_id for e in disputes.values()])
            )
        ).all()
    )
    rolls = rollups(session, ids)
    written = task_units(session, ids)
    blocked = unresolved_leads(session.connection(), ids)
    items: list[ReviewItem] = []
    for task in tasks:
        assert task.id is not None
        brief = briefs[task.id]
        measure = measures.get(task.measure_id) if task.measure_id is not None else None
        event = disputes.get(task.id)
        units = written.get(task.id, [])
        missing = [name for name, ok in (("lead", brief.lead), ("deadline", task.deadline)) if not ok]
        if blocked.get(task.id) and task.state is TaskState.draft:
            missing = ["lead_unresolved", *(m for m in missing if m != "lead")]
        items.append(
            ReviewItem(
                id=task.id,
                path=brief.path,
                title=task.title,
                state=task.state,
                version=task.version,
                deadline=task.deadline,
                deadline_source=task.deadline_source,
                deadline_note=task.deadline_note,
                lead=brief.lead,
                cooperating=brief.cooperating,
                guidance=brief.guidance,
                lead_source=brief.lead[0].source if brief.lead else None,
                units=units,
                missing=missing,
                proposal=(
                    _proposal(measure, registry, rules)
                    if task.parent_id is None and proposals and not units
                    else None
                ),
                disputed=event is not None,
                dispute=(
                    DisputeView(
                        reason=event.reason,
                        department_id=event.actor_department_id,
                        department_name=names.get(event.actor_department_id),
                        at=event.created_at,
                        event_id=event.id or 0,
                    )
                    if event is not None
                    else None
                ),
                addressed_to_leagues=(
                    measure is not None
                    and task.parent_id is None
                    and addressed_to_leagues(f"{measure.title}。{measure.body}")
                ),
                parent_id=task.parent_id,
                region_code=task.region_code,
                regions=rollup_view(rolls.get(task.id)),
            )
        )

    def order(item: ReviewItem) -> tuple[int, int, int]:
        if item.dispute is not None:
            return (0, item.dispute.event_id, item.id)
        return (1 if item.missing else 2, 0, item.id)

    items.sort(key=order)
    return ReviewList(
        plan_id=plan_id,
        rules_version=rules.version,
        registry=fit,
        disputed=len(disputes),
        incomplete=sum(1 for i in items if i.missing),
        items=items,
    )


def proposal_for(session: Session, task: Task, registry: Registry | None = None) -> dict[str, Any] | None:
    """The rules' live proposal for one task's measure, as JSON (None for a regional child)."""
    registry = registry or default_registry()
    measure = session.get(Measure, task.measure_id) if task.measure_id and task.parent_id is None else None
    view = _proposal(measure, registry, rules_in_force(session, registry))
    return view.model_dump() if view else None


def child_items(session: Session, parent_id: int) -> list[TaskItem]:
    """A split task's regional children as listing items."""
    children = children_of(session, parent_id)
    today = clock.today()
    items = []
    for task, brief in zip(children, task_briefs(session, children), strict=True):
        assert task.id is not None
        items.append(
            TaskItem(
                id=task.id,
                plan_id=task.plan_id,
                path=brief.path,
                title=task.title,
                state=task.state,
                supervision_level=task.supervision_level,
                notice_colour=task.notice_colour,
                deadline=task.deadline,
                original_deadline=task.original_deadline,
                deadline_source=task.deadline_source,
                overdue=bool(task.deadline and task.deadline < today and task.state in OPEN_STATES),
                version=task.version,
                lead=brief.lead,
                cooperating=brief.cooperating,
            )
        )
    return items
