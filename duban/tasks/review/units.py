"""The office resolves written units: one written name of a plan mapped to a registry department (or added
to the registry as a new one) for every draft task of the plan that writes it.

The written name is never replaced: mapping fills the unit's department, adds the department's assignment in
the unit's role (lead, cooperating, guidance) and records an event of kind "unit_resolved" on each task
touched, whose version goes up. Tasks no longer in draft keep their units as they are (reassign them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, select

from duban.core import clock
from duban.tasks.chinese import to_simplified
from duban.tasks.enums import (
    AssignmentRole,
    DepartmentKind,
    LeadSource,
    TaskState,
    UnitResolution,
    UnitSource,
)
from duban.tasks.errors import (
    DepartmentExists,
    EditNotAllowed,
    NotFoundError,
    StaleTaskVersion,
    TasksError,
)
from duban.tasks.models import Department, Task, TaskAssignment, TaskEvent, TaskUnit
from duban.tasks.review.departments import DepartmentIndex
from duban.tasks.review.unit_views import UnitDepartment, get_plan

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ASSIGNED = {role.value: role for role in AssignmentRole}
EVENT_KIND = "unit_resolved"


@dataclass(frozen=True)
class NewDepartment:
    """A department the office adds to the registry while resolving a written unit."""

    code: str
    name: str
    kind: DepartmentKind = DepartmentKind.other
    aliases: Sequence[str] = ()


@dataclass
class UnitOutcome:
    """What resolving a written name did."""

    plan_id: int
    name: str
    department: UnitDepartment
    created: bool
    tasks: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    skipped: int = 0


def add_department(session: Session, new: NewDepartment, written: str) -> Department:
    """Add a department to the registry table (the written name becomes an alias when it differs)."""
    code, name = new.code.strip(), new.name.strip()
    if not _CODE.match(code):
        raise TasksError(
            "部门代码只能由字母、数字和 _ . - 组成（至多 64 个字符）",
            "A department code is letters, digits and _ . - (at most 64 characters)",
            code="bad_department_code",
            field="new_department.code",
        )
    if not 2 <= len(name) <= 128:
        raise TasksError(
            "部门名称应为 2 至 128 个字符",
            "A department name has 2 to 128 characters",
            code="bad_department_name",
            field="new_department.name",
        )
    clash = session.exec(
        select(Department.code, Department.name).where(
            sa.or_(col(Department.code) == code, col(Department.name) == name)
        )
    ).first()
    if clash is not None:
        raise DepartmentExists(
            f"部门名录中已有代码或名称相同的部门：{clash[1]}（{clash[0]}），请直接对应到它",
            f"The registry already holds {clash[1]} ({clash[0]}); map the unit to it instead",
            existing={"code": clash[0], "name": clash[1]},
        )
    aliases = [a.strip() for a in (*new.aliases, written) if a.strip() and a.strip() != name]
    department = Department(code=code, name=name, kind=new.kind, aliases=list(dict.fromkeys(aliases)))
    session.add(department)
    session.flush()
    return department


def resolve_unit(
    session: Session,
    plan_id: int,
    name: str,
    *,
    department: str | None = None,
    new_department: NewDepartment | None = None,
    actor_user_id: int | None = None,
    actor_label: str = "委员会办公室 / office",
    via: str = "api",
    remark: str = "",
) -> UnitOutcome:
    """Map a written name to a department (by code or name), or add it as a new one, for every draft task
    of the plan that writes it; checked in full before anything is written."""
    get_plan(session, plan_id)
    name = name.strip()
    if (department is None) == (new_department is None):
        raise TasksError(
            "请指定部门名录中的部门，或新增一个部门（二者选一）",
            "Name a registry department or a new department (one of the two)",
            code="department_required",
        )
    units = _units_named(session, plan_id, name)
    if not units:
        raise NotFoundError(
            f"规划 {plan_id} 中没有写明“{name}”的措施",
            f"No measure of plan {plan_id} names {name!r}",
            code="unit_not_found",
        )
    name = units[0][0].name  # as the document writes it
    drafts = [(unit, task) for unit, task in units if task.state is TaskState.draft]
    if not drafts:
        raise EditNotAllowed(
            f"写明“{name}”的任务都已交办，请用改派调整牵头单位",
            f"Every task naming {name!r} has been issued; use reassign instead",
            state=units[0][1].state.value,
        )
    created = new_department is not None
    if new_department is not None:
        target = add_department(session, new_department, name)
    else:
        index = DepartmentIndex(session)
        code = index.resolve(str(department))
        found = session.exec(select(Department).where(Department.code == code)).one()
        target = found
    assert target.id is not None
    view = UnitDepartment(id=target.id, code=target.code, name=target.name)
    outcome = UnitOutcome(plan_id, name, view, created, skipped=len({t.id for _, t in units}) - len(drafts))
    by_task: dict[int, list[TaskUnit]] = {}
    tasks: dict[int, Task] = {}
    for unit, task in drafts:
        assert task.id is not None
        by_task.setdefault(task.id, []).append(unit)
        tasks[task.id] = task
    now = clock.now()
    for task_id, task_units_ in by_task.items():
        changed = [u for u in task_units_ if u.department_id != target.id]
        if not changed:
            continue
        task = tasks[task_id]
        _bump(session, task, now)
        before = [{"role": u.role.value, "department": _code_of(session, u.department_id)} for u in changed]
        for unit in changed:
            _remap(session, unit, target.id)
            unit.department_id = target.id
            unit.resolution = UnitResolution.office
            unit.reason_zh = f"办公室将“{name}”对应为“{target.name}”"
            unit.reason_en = f"the office mapped {name!r} to {target.name!r}"
            unit.resolved_by_user_id = actor_user_id
            unit.resolved_at = now
            session.add(unit)
        event = TaskEvent(
            task_id=task_id,
            kind=EVENT_KIND,
            actor_user_id=actor_user_id,
            actor_label=actor_label,
            from_state=task.state.value,
            to_state=task.state.value,
            reason=remark,
            data={
                "name": name,
                "roles": list(dict.fromkeys(u.role.value for u in changed)),
                "department": {"code": target.code, "name": target.name},
                "new_department": created,
                "before": before,
                "via": via,
            },
            created_at=now,
        )
        session.add(event)
        session.flush()
        assert event.id is not None
        outcome.tasks.append(task_id)
        outcome.event_ids.append(event.id)
    session.flush()
    return outcome


def _units_named(session: Session, plan_id: int, name: str) -> list[tuple[TaskUnit, Task]]:
    """The plan's units written `name`; a page showing a traditional-script plan in simplified script posts
    the simplified name, so that matches too when nothing is written exactly so."""
    query = (
        select(TaskUnit, Task)
        .join(Task, col(Task.id) == col(TaskUnit.task_id))
        .where(TaskUnit.plan_id == plan_id)
        .order_by(col(TaskUnit.task_id), col(TaskUnit.position))
        .execution_options(populate_existing=True)
    )
    exact = list(session.exec(query.where(TaskUnit.name == name)).all())
    if exact:
        return exact
    wanted = to_simplified(name)
    names = session.exec(select(TaskUnit.name).where(TaskUnit.plan_id == plan_id).distinct()).all()
    written = [n for n in names if n != name and to_simplified(n) == wanted]
    return list(session.exec(query.where(col(TaskUnit.name).in_(written))).all()) if written else []


def _code_of(session: Session, department_id: int | None) -> str | None:
    department = session.get(Department, department_id) if department_id is not None else None
    return department.code if department is not None else None


def _bump(session: Session, task: Task, now: dt.datetime) -> None:
    """The task's version goes up, guarded on the version read (412 if someone changed it meanwhile)."""
    table = Task.__table__  # type: ignore[attr-defined]
    updated = session.connection().execute(
        table.update()
        .where(table.c.id == task.id, table.c.version == task.version)
        .values(version=task.version + 1, updated_at=now)
    )
    if updated.rowcount != 1:
        raise StaleTaskVersion(
            "任务刚被他人修改，请刷新后重试", "Someone else changed the task; reload and retry"
        )
    session.expire(task)


def _remap(session: Session, unit: TaskUnit, department_id: int) -> None:
    """Move the unit's assignment from its old department (if no other unit of the task holds it in the same
    role) to the new one; a lead takes the department out of the task's other roles."""
    role = _ASSIGNED.get(unit.role.value)
    if role is None:
        return
    holders = session.exec(select(TaskAssignment).where(TaskAssignment.task_id == unit.task_id)).all()
    if unit.department_id is not None:
        others = session.exec(
            select(TaskUnit.id).where(
                TaskUnit.task_id == unit.task_id,
                TaskUnit.role == unit.role,
                TaskUnit.department_id == unit.department_id,
                col(TaskUnit.id) != unit.id,
            )
        ).first()
        for holder in holders:
            if others is None and holder.department_id == unit.department_id and holder.role is role:
                session.delete(holder)
    if any(h.department_id == department_id and h.role is role for h in holders):
        return
    if role is not AssignmentRole.lead and any(
        h.department_id == department_id and h.role is AssignmentRole.lead for h in holders
    ):
        return
    if role is AssignmentRole.lead:
        for holder in holders:
            if holder.department_id == department_id and holder.role is not AssignmentRole.lead:
                session.delete(holder)
    position = len(
        session.exec(
            select(TaskUnit.id).where(
                TaskUnit.task_id == unit.task_id,
                TaskUnit.role == unit.role,
                col(TaskUnit.position) < unit.position,
            )
        ).all()
    )
    session.flush()
    session.add(
        TaskAssignment(
            task_id=unit.task_id,
            department_id=department_id,
            role=role,
            source=assignment_source_of(unit),
            evidence=[
                {
                    "kind": unit.source.value,
                    "written": unit.name,
                    "wording": unit.wording,
                    "span": [unit.span_start, unit.span_end] if unit.span_start is not None else None,
                    "mapped_by": "office",
                }
            ],
            position=position,
        )
    )


def assignment_source_of(unit: TaskUnit) -> LeadSource:
    """The source an office-mapped written unit's assignment keeps: the document's (explicit, convention)."""
    return LeadSource.convention if unit.source is UnitSource.convention else LeadSource.explicit
