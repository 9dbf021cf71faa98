"""Regions: one child task per 盟市, led by its government, audited, idempotent, rolled up in SQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, func, select

from duban.core import clock
from duban.tasks.enums import AssignmentRole, LeadSource, Role, TaskState
from duban.tasks.errors import SplitNotAllowed, StaleTaskVersion, UnknownDepartment
from duban.tasks.models import Department, Task, TaskAssignment, TaskEvent
from duban.tasks.parser import parse
from duban.tasks.plans import import_plan
from duban.tasks.regions_split import (
    addressed_to_leagues,
    children_of,
    league_codes,
    rollup,
    rollups,
    split_regions,
)
from duban.workflow.machines import Actor
from duban.workflow.service import apply_action
from tests.fixtures.evidence import ready_to_submit

PLAN = """关于推进重污染天气应对的工作方案

一、重点任务
（一）开展重污染天气成因分析。各盟市要开展重污染天气成因分析和污染物来源解析，2026年年底前完成。（自治区生态环境厅牵头）
（二）加强森林防火。完善林区防火设施。
"""


@pytest.fixture
def parent(departments: Session) -> int:
    result = import_plan(departments, PLAN, parse(PLAN), "方案.txt")
    task = departments.exec(select(Task).where(Task.plan_id == result.plan_id).order_by(col(Task.id))).first()
    assert task is not None and task.id is not None
    return task.id


def _count(session: Session, model: type[object], *where: object) -> int:
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())  # type: ignore[arg-type]


def test_measures_addressed_to_every_league_are_recognised() -> None:
    assert addressed_to_leagues("各盟市要开展重污染天气成因分析")
    assert addressed_to_leagues("各盟市人民政府是责任主体")
    assert addressed_to_leagues("各盟行政公署、市人民政府要加强领导")
    assert addressed_to_leagues("", ["各盟市"])
    assert not addressed_to_leagues("兴安盟行政公署要加强管理")
    assert not addressed_to_leagues("加强森林防火")
    assert len(league_codes()) == 12


def test_split_makes_one_child_per_league_led_by_its_government(departments: Session, parent: int) -> None:
    result = split_regions(departments, parent, actor_user_id=None)
    assert len(result.created) == 12 and result.existing == [] and result.event_id is not None
    children = children_of(departments, parent)
    assert {c.region_code for c in children} == set(league_codes())
    leader = departments.get(Task, parent)
    assert leader is not None
    for child in children:
        assert child.parent_id == parent and child.state is TaskState.draft
        assert child.deadline == leader.deadline == dt.date(2026, 12, 31)
        assert child.deadline_source == "document"
        roles = departments.exec(
            select(TaskAssignment.role, Department.code, TaskAssignment.source)
            .join(Department, col(Department.id) == col(TaskAssignment.department_id))
            .where(TaskAssignment.task_id == child.id)
        ).all()
        assert (AssignmentRole.lead, child.region_code, LeadSource.office) in roles
        assert (AssignmentRole.guidance, "sthjt", LeadSource.office) in roles
    wuhai = next(c for c in children if c.region_code == "wuhai")
    assert wuhai.title.endswith("（乌海市）")
    assert leader.version == 2
    event = departments.get(TaskEvent, result.event_id)
    assert event is not None and event.kind == "split_regions" and len(event.data["children"]) == 12
    assert (
        _count(
            departments, TaskEvent, TaskEvent.kind == "created", col(TaskEvent.task_id).in_(result.created)
        )
        == 12
    )


def test_split_is_idempotent_and_can_add_missing_regions(departments: Session, parent: int) -> None:
    first = split_regions(departments, parent, regions=["wuhai", "阿拉善盟", "巴彦淖尔市"])
    assert len(first.created) == 3
    again = split_regions(departments, parent, regions=["乌海市"])
    assert again.created == [] and again.event_id is None and len(again.existing) == 1
    rest = split_regions(departments, parent)
    assert len(rest.created) == 9 and len(rest.existing) == 3
    assert len(children_of(departments, parent)) == 12
    assert _count(departments, TaskEvent, TaskEvent.task_id == parent, TaskEvent.kind == "split_regions") == 2


def test_split_refuses_non_drafts_children_stale_versions_and_unknown_regions(
    departments: Session, parent: int
) -> None:
    with pytest.raises(UnknownDepartment) as unknown:
        split_regions(departments, parent, regions=["乌海市", "北京市"])
    assert unknown.value.extra["unknown"] == ["北京市"]
    with pytest.raises(StaleTaskVersion):
        split_regions(departments, parent, expected_version=7)
    result = split_regions(departments, parent, regions=["wuhai"])
    with pytest.raises(SplitNotAllowed):
        split_regions(departments, result.created[0])
    apply_action(departments, parent, "issue", Actor(role=Role.office))
    with pytest.raises(SplitNotAllowed):
        split_regions(departments, parent)


def test_rollup_sums_the_children_in_sql(departments: Session, parent: int) -> None:
    assert rollup(departments, parent).total == 0
    split_regions(departments, parent, regions=["wuhai", "alxa", "bayannur", "ordos"])
    children = {c.region_code: c for c in children_of(departments, parent)}
    office = Actor(role=Role.office)

    def lead(code: str) -> Actor:
        department_id = departments.exec(select(Department.id).where(Department.code == code)).one()
        return Actor(role=Role.department, department_id=department_id)

    for code in ("wuhai", "alxa", "bayannur"):
        child_id = children[code].id
        assert child_id is not None
        apply_action(departments, child_id, "issue", office)
    wuhai, alxa = children["wuhai"].id, children["alxa"].id
    assert wuhai is not None and alxa is not None
    apply_action(departments, wuhai, "accept", lead("wuhai"))
    ready_to_submit(departments, wuhai, lead("wuhai"))
    apply_action(departments, wuhai, "submit", lead("wuhai"))
    apply_action(departments, wuhai, "approve", office)
    apply_action(departments, alxa, "accept", lead("alxa"))
    departments.flush()
    with clock.frozen("2027-03-01T09:00"):
        roll = rollup(departments, parent)
    assert roll.total == 4 and roll.completed == 1 and roll.percent_completed == 25.0
    assert roll.by_state == {"completed": 1, "in_progress": 1, "assigned": 1, "draft": 1}
    assert roll.overdue == 2  # assigned and in progress after 2026-12-31; the draft and the completed are not
    assert roll.summary_state is TaskState.draft  # as far as its slowest child
    assert roll.earliest_deadline == roll.latest_deadline == dt.date(2026, 12, 31)
    assert set(rollups(departments, [parent, wuhai])) == {parent}
