"""Read side of written units: a task's units as its measure writes them, and a plan's distinct written
names with their roles, tasks and resolution, unresolved (and blocking) first."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from duban.tasks.enums import AssignmentRole, LeadSource, TaskState, UnitResolution, UnitRole
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Department, Measure, Plan, Task, TaskAssignment, TaskUnit
from duban.tasks.review.departments import DepartmentIndex
from duban.tasks.units import DocumentFit


class UnitDepartment(BaseModel):
    """The department a written unit stands for."""

    id: int
    code: str = Field(examples=["yjglt"])
    name: str = Field(examples=["自治区应急管理厅"])


class UnitView(BaseModel):
    """One unit as a task's measure writes it, and what it resolved to."""

    id: int
    name: str = Field(examples=["市应急局"])
    role: UnitRole
    source: str = Field(examples=["written"], description="written | convention")
    wording: str = Field(examples=["牵头"])
    department: UnitDepartment | None
    resolution: UnitResolution
    reason_zh: str
    reason_en: str


class PlanUnitView(BaseModel):
    """A distinct written name of a plan: its roles, the tasks that write it, whether it is resolved."""

    name: str = Field(examples=["市应急局"])
    roles: list[UnitRole]
    tasks: int = Field(description="写明此单位的任务数 / tasks whose measure names it")
    unresolved: int = Field(description="其中尚未对应部门的 / of them still without a department")
    blocking: int = Field(description="因此不能交办的拟办任务 / draft tasks it keeps from being issued")
    department: UnitDepartment | None = Field(description="已对应的部门 / the department it stands for")
    resolution: UnitResolution
    reason_zh: str
    reason_en: str
    measures: list[str] = Field(examples=[["三/(一)/1."]])
    suggestions: list[str] = Field(
        default_factory=list,
        description="名录中相近的部门（未对应时）/ close registry names while unresolved",
    )
    task_ids: list[int]


class RegistryFitView(BaseModel):
    """Whether the department registry fits the plan's document (proposals only where it does)."""

    applies: bool
    written: int
    resolved: int
    reason_zh: str
    reason_en: str


class PlanUnits(BaseModel):
    """A plan's written units, unresolved first, and whether the registry fits the document."""

    plan_id: int
    registry: RegistryFitView | None
    unresolved: int = Field(description="尚未对应部门的单位名称数 / names still without a department")
    blocking: int = Field(
        description="因牵头单位未对应而不能交办的任务数 / tasks blocked by an unresolved lead"
    )
    units: list[PlanUnitView]


def fit_view(plan: Plan) -> RegistryFitView | None:
    """The plan's recorded registry fit (None for plans imported before it was recorded)."""
    fit = DocumentFit.from_json(plan.registry_fit)
    if fit is None:
        return None
    return RegistryFitView(
        applies=fit.applies,
        written=fit.written,
        resolved=fit.resolved,
        reason_zh=fit.reason_zh,
        reason_en=fit.reason_en,
    )


def get_plan(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"规划 {plan_id} 不存在", f"Plan {plan_id} does not exist")
    return plan


def task_units(session: Session, task_ids: Sequence[int]) -> dict[int, list[UnitView]]:
    """The written units of the tasks, in the order their measures write them."""
    if not task_ids:
        return {}
    rows = session.exec(
        select(TaskUnit, Department)
        .outerjoin(Department, col(Department.id) == col(TaskUnit.department_id))
        .where(col(TaskUnit.task_id).in_(list(task_ids)))
        .order_by(col(TaskUnit.task_id), col(TaskUnit.position))
    ).all()
    found: dict[int, list[UnitView]] = {}
    for unit, department in rows:
        assert unit.id is not None
        found.setdefault(unit.task_id, []).append(
            UnitView(
                id=unit.id,
                name=unit.name,
                role=unit.role,
                source=unit.source.value,
                wording=unit.wording,
                department=_department_view(department),
                resolution=unit.resolution,
                reason_zh=unit.reason_zh,
                reason_en=unit.reason_en,
            )
        )
    return found


def _department_view(department: Department | None) -> UnitDepartment | None:
    if department is None or department.id is None:
        return None
    return UnitDepartment(id=department.id, code=department.code, name=department.name)


def plan_units(session: Session, plan_id: int) -> PlanUnits:
    """The plan's distinct written names with their roles, tasks and resolution (GET …/units)."""
    plan = get_plan(session, plan_id)
    rows = session.exec(
        select(TaskUnit, Task.state, Measure.path_key, Department)
        .join(Task, col(Task.id) == col(TaskUnit.task_id))
        .outerjoin(Measure, col(Measure.id) == col(Task.measure_id))
        .outerjoin(Department, col(Department.id) == col(TaskUnit.department_id))
        .where(TaskUnit.plan_id == plan_id)
        .order_by(col(TaskUnit.task_id), col(TaskUnit.position))
    ).all()
    office_leads = set(
        session.exec(
            select(TaskAssignment.task_id)
            .join(Task, col(Task.id) == col(TaskAssignment.task_id))
            .where(
                Task.plan_id == plan_id,
                TaskAssignment.role == AssignmentRole.lead,
                TaskAssignment.source == LeadSource.office,
            )
        ).all()
    )
    grouped: dict[str, list[tuple[TaskUnit, TaskState, str | None, Department | None]]] = {}
    for unit, state, path, department in rows:
        grouped.setdefault(unit.name, []).append((unit, TaskState(state), path, department))
    views = [_unit_view(name, items, office_leads) for name, items in grouped.items()]
    if any(view.unresolved for view in views):
        index = DepartmentIndex(session)
        for view in views:
            if view.unresolved:
                view.suggestions = index.suggestions(view.name)
    views.sort(key=lambda v: 0 if v.blocking else 1 if v.unresolved else 2)
    return PlanUnits(
        plan_id=plan_id,
        registry=fit_view(plan),
        unresolved=sum(1 for v in views if v.unresolved),
        blocking=len(
            {
                unit.task_id
                for items in grouped.values()
                for unit, state, _, _ in items
                if _blocks(unit, state, office_leads)
            }
        ),
        units=views,
    )


def _blocks(unit: TaskUnit, state: TaskState, office_leads: set[int]) -> bool:
    return (
        unit.role is UnitRole.lead
        and unit.department_id is None
        and state is TaskState.draft
        and unit.task_id not in office_leads
    )


def _unit_view(
    name: str,
    items: list[tuple[TaskUnit, TaskState, str | None, Department | None]],
    office_leads: set[int],
) -> PlanUnitView:
    unresolved = [unit for unit, _, _, _ in items if unit.department_id is None]
    resolved = [(unit, department) for unit, _, _, department in items if department is not None]
    if unresolved:
        resolution, reason = UnitResolution.unresolved, unresolved[0]
    elif any(unit.resolution is UnitResolution.office for unit, _ in resolved):
        resolution = UnitResolution.office
        reason = next(unit for unit, _ in resolved if unit.resolution is UnitResolution.office)
    else:
        resolution, reason = UnitResolution.registry, items[0][0]
    departments = [department for _, department in resolved]
    return PlanUnitView(
        name=name,
        roles=list(dict.fromkeys(unit.role for unit, _, _, _ in items)),
        tasks=len({unit.task_id for unit, _, _, _ in items}),
        unresolved=len({unit.task_id for unit in unresolved}),
        blocking=len({unit.task_id for unit, state, _, _ in items if _blocks(unit, state, office_leads)}),
        department=_department_view(departments[-1]) if departments else None,
        resolution=resolution,
        reason_zh=reason.reason_zh,
        reason_en=reason.reason_en,
        measures=list(dict.fromkeys(path for _, _, path, _ in items if path)),
        task_ids=list(dict.fromkeys(unit.task_id for unit, _, _, _ in items)),
    )
