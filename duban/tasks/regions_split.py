"""Regions: a measure addressed to 各盟市 split into one child task per 盟市, and the roll-up to its parent.

Each child is led by that 盟市's government (department code = region code), keeps the parent's deadline,
and has the parent's lead as guidance (指导). The split is an office action on a draft task: audited (an
event on the parent and on every child) and idempotent (a region already split off is never duplicated;
the unique (measure_id, region_code) of the task table guards it too). The roll-up is computed in SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, select

from duban.core import clock
from duban.tasks.chinese import to_simplified
from duban.tasks.enums import AssignmentRole, LeadSource, TaskState
from duban.tasks.errors import NotFoundError, SplitNotAllowed, StaleTaskVersion, UnknownDepartment
from duban.tasks.models import Department, Task, TaskAssignment, TaskEvent
from duban.tasks.registry import Registry, default_registry

# "各盟市", "各盟市人民政府", "各盟行政公署、市人民政府", "盟市政府", "各盟、市"
_LEAGUES_RE = re.compile(r"各盟市|盟市(?:人民)?政府|各盟行政公署|各盟[、,，]市|(?:12|十二)个盟市")
OPEN_STATES = (TaskState.assigned, TaskState.in_progress, TaskState.submitted, TaskState.returned)
# How far a task has got; the parent's summary is its least advanced child (cancelled children do not count).
PROGRESS_ORDER = (
    TaskState.draft,
    TaskState.assigned,
    TaskState.in_progress,
    TaskState.returned,
    TaskState.submitted,
    TaskState.completed,
)


def addressed_to_leagues(text: str, generic: Iterable[str] = ()) -> bool:
    """Whether a measure is addressed to every 盟市 (its text, or the parser's generic actors, say so)."""
    return any(_LEAGUES_RE.search(to_simplified(piece)) for piece in (text, *generic))


def league_codes(registry: Registry | None = None) -> list[str]:
    """The 12 盟市 codes, in registry order (each is also the code of that 盟市's government)."""
    registry = registry or default_registry()
    known = {entry.code for entry in registry.departments}
    return [r.code for r in registry.regions if r.level == "league" and r.code in known]


@dataclass(frozen=True)
class SplitResult:
    """What a split did: the children it created, those that already existed, and the parent's event."""

    parent_id: int
    created: list[int]
    existing: list[int]
    event_id: int | None
    version: int


def _region_codes(regions: Sequence[str] | None, registry: Registry) -> list[str]:
    leagues = league_codes(registry)
    if not regions:
        return leagues
    codes: list[str] = []
    unknown: list[str] = []
    for given in regions:
        found = given if given in leagues else None
        if found is None:
            region = registry.match_region(given)
            found = region.code if region is not None and region.code in leagues else None
        if found is None:
            unknown.append(given)
        elif found not in codes:
            codes.append(found)
    if unknown:
        raise UnknownDepartment(
            f"不是盟市：{'、'.join(unknown)}",
            f"Not a league/city: {', '.join(unknown)}",
            code="unknown_region",
            unknown=unknown,
            allowed=leagues,
        )
    return codes


def split_regions(
    session: Session,
    task_id: int,
    *,
    actor_user_id: int | None = None,
    actor_label: str = "委员会办公室 / office",
    expected_version: int | None = None,
    regions: Sequence[str] | None = None,
    registry: Registry | None = None,
) -> SplitResult:
    """Split a draft task into one child per 盟市 (all 12, or `regions`); running it again adds nothing."""
    registry = registry or default_registry()
    task = session.get(Task, task_id, populate_existing=True)
    if task is None:
        raise NotFoundError(f"任务 {task_id} 不存在", f"Task {task_id} does not exist")
    if task.parent_id is not None or task.region_code:
        raise SplitNotAllowed("盟市子任务不能再拆分", "A regional child task cannot be split again")
    if task.state is not TaskState.draft:
        raise SplitNotAllowed(
            f"只有拟办任务可以按盟市拆分（当前：{task.state.label}）",
            f"Only a draft task can be split by region (it is {task.state.value})",
        )
    if expected_version is not None and expected_version != task.version:
        raise StaleTaskVersion(
            f"任务已被修改（当前版本 {task.version}），请刷新后重试",
            f"The task changed (version {task.version}); reload and retry",
            current_version=task.version,
        )
    codes = _region_codes(regions, registry)
    children = session.exec(
        select(Task).where(Task.parent_id == task_id).execution_options(populate_existing=True)
    ).all()
    existing = {child.region_code: child for child in children}
    wanted = [code for code in codes if code not in existing]
    kept = [child.id for child in children if child.id is not None and child.region_code in codes]
    if not wanted:
        return SplitResult(task_id, [], kept, None, task.version)
    ids = dict(
        session.exec(select(Department.code, Department.id).where(col(Department.code).in_(wanted))).all()
    )
    missing = [code for code in wanted if ids.get(code) is None]
    if missing:
        raise UnknownDepartment(
            f"部门名录中缺少盟市：{'、'.join(missing)}（请先载入名录）",
            f"The registry in the database lacks: {', '.join(missing)} (load the departments first)",
        )
    guides = session.exec(
        select(TaskAssignment.department_id).where(
            TaskAssignment.task_id == task_id, TaskAssignment.role == AssignmentRole.lead
        )
    ).all()
    now = clock.now()
    created = [
        Task(
            plan_id=task.plan_id,
            measure_id=task.measure_id,
            parent_id=task_id,
            region_code=code,
            title=f"{task.title}（{registry.region(code).name}）",
            state=TaskState.draft,
            deadline=task.deadline,
            original_deadline=task.original_deadline,
            deadline_source=task.deadline_source,
            deadline_note=task.deadline_note,
            created_at=now,
            updated_at=now,
        )
        for code in wanted
    ]
    session.add_all(created)
    session.flush()
    rows: list[TaskAssignment | TaskEvent] = []
    for child in created:
        assert child.id is not None
        evidence = [{"kind": "split", "parent_task_id": task_id, "region": child.region_code}]
        department_id = ids[child.region_code]
        assert department_id is not None
        rows.append(
            TaskAssignment(
                task_id=child.id,
                department_id=department_id,
                role=AssignmentRole.lead,
                source=LeadSource.office,
                evidence=evidence,
            )
        )
        rows.extend(
            TaskAssignment(
                task_id=child.id,
                department_id=guide,
                role=AssignmentRole.guidance,
                source=LeadSource.office,
                evidence=evidence,
                position=position,
            )
            for position, guide in enumerate(guides)
            if guide != department_id
        )
        rows.append(
            TaskEvent(
                task_id=child.id,
                kind="created",
                to_state=TaskState.draft.value,
                actor_user_id=actor_user_id,
                actor_label=actor_label,
                data={"split_from": task_id, "region": child.region_code},
                created_at=now,
            )
        )
    event = TaskEvent(
        task_id=task_id,
        kind="split_regions",
        actor_user_id=actor_user_id,
        actor_label=actor_label,
        from_state=task.state.value,
        to_state=task.state.value,
        reason="按盟市拆分 / split by region",
        data={"regions": wanted, "children": [c.id for c in created]},
        created_at=now,
    )
    rows.append(event)
    task.version += 1
    task.updated_at = now
    session.add(task)
    session.add_all(rows)
    session.flush()
    return SplitResult(task_id, [c.id for c in created if c.id is not None], kept, event.id, task.version)


@dataclass
class RegionRollup:
    """A parent task's children summed up: how many in each state, completed, overdue, the summary state."""

    parent_id: int
    total: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    completed: int = 0
    overdue: int = 0
    percent_completed: float = 0.0
    earliest_deadline: dt.date | None = None
    latest_deadline: dt.date | None = None
    summary_state: TaskState | None = None


def rollups(session: Session, parent_ids: Sequence[int]) -> dict[int, RegionRollup]:
    """Roll-ups of several parents in one grouped query (parents without children are left out)."""
    if not parent_ids:
        return {}
    today = clock.today()
    overdue = sa.case(
        (sa.and_(col(Task.deadline) < today, col(Task.state).in_([s.value for s in OPEN_STATES])), 1),
        else_=0,
    )
    query = (
        sa.select(
            col(Task.parent_id),
            col(Task.state),
            sa.func.count(),
            sa.func.sum(overdue),
            sa.func.min(col(Task.deadline)),
            sa.func.max(col(Task.deadline)),
        )
        .where(col(Task.parent_id).in_(parent_ids))
        .group_by(col(Task.parent_id), col(Task.state))
    )
    result: dict[int, RegionRollup] = {}
    for parent_id, state, count, late, earliest, latest in session.connection().execute(query):
        roll = result.setdefault(parent_id, RegionRollup(parent_id))
        key = TaskState(state).value
        roll.by_state[key] = roll.by_state.get(key, 0) + int(count)
        roll.total += int(count)
        roll.overdue += int(late or 0)
        if earliest is not None and (roll.earliest_deadline is None or earliest < roll.earliest_deadline):
            roll.earliest_deadline = earliest
        if latest is not None and (roll.latest_deadline is None or latest > roll.latest_deadline):
            roll.latest_deadline = latest
    for roll in result.values():
        roll.completed = roll.by_state.get(TaskState.completed.value, 0)
        counted = roll.total - roll.by_state.get(TaskState.cancelled.value, 0)
        roll.percent_completed = round(100 * roll.completed / counted, 1) if counted else 0.0
        states = [s for s in PROGRESS_ORDER if roll.by_state.get(s.value)]
        roll.summary_state = states[0] if states else TaskState.cancelled
    return result


def rollup(session: Session, parent_id: int) -> RegionRollup:
    """One parent's roll-up (zero children: an empty roll-up)."""
    return rollups(session, [parent_id]).get(parent_id, RegionRollup(parent_id))


def children_of(session: Session, parent_id: int) -> list[Task]:
    """A parent's regional children, in registry (region) order of creation."""
    return list(
        session.exec(
            select(Task)
            .where(Task.parent_id == parent_id)
            .order_by(col(Task.id))
            .execution_options(populate_existing=True)
        ).all()
    )
