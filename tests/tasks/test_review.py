"""Office review before issuing: edits audited with before/after, bulk all-or-nothing, disputes first."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, select

from duban.tasks.enums import AssignmentRole, LeadSource, Role, TaskState
from duban.tasks.errors import (
    BulkEditInvalid,
    EditNotAllowed,
    StaleTaskVersion,
    TasksError,
    UnknownDepartment,
)
from duban.tasks.models import Department, Plan, PlanStatus, Task, TaskAssignment, TaskEvent
from duban.tasks.parser import parse
from duban.tasks.plans import import_plan
from duban.tasks.review import DepartmentIndex, TaskEdit, bulk_edit, edit_task, review_list, split_names
from duban.workflow.issuing import issue_plan
from duban.workflow.machines import Actor
from duban.workflow.service import apply_action

PLAN = """关于加强生态环境保护的工作方案

一、重点任务
（一）加强大气污染防治。全面淘汰燃煤小锅炉。
（二）加强草原生态保护。落实草畜平衡制度。（自治区林业和草原局牵头，自治区农牧厅配合）
（三）推进城镇污水处理。各盟市要完善城镇污水管网。
"""


@pytest.fixture
def plan(departments: Session) -> tuple[int, list[int]]:
    result = import_plan(departments, PLAN, parse(PLAN), "方案.txt")
    ids = departments.exec(select(Task.id).where(Task.plan_id == result.plan_id).order_by(col(Task.id))).all()
    return result.plan_id, [i for i in ids if i is not None]


def holders(session: Session, task_id: int) -> dict[str, list[tuple[str, str]]]:
    rows = session.exec(
        select(TaskAssignment.role, Department.code, TaskAssignment.source)
        .join(Department, col(Department.id) == col(TaskAssignment.department_id))
        .where(TaskAssignment.task_id == task_id)
        .order_by(col(TaskAssignment.position))
    ).all()
    out: dict[str, list[tuple[str, str]]] = {}
    for role, code, source in rows:
        out.setdefault(str(role), []).append((code, str(source)))
    return out


def department_id(session: Session, code: str) -> int:
    found = session.exec(select(Department.id).where(Department.code == code)).one()
    assert found is not None
    return found


def test_names_split_on_any_separator_of_any_width() -> None:
    assert split_names("自治区生态环境厅、发展改革委，水利厅,林草局;农牧厅；财政厅､商务厅\n公安厅") == [
        "自治区生态环境厅",
        "发展改革委",
        "水利厅",
        "林草局",
        "农牧厅",
        "财政厅",
        "商务厅",
        "公安厅",
    ]
    assert split_names(" 、 ") == []


def test_department_index_takes_codes_names_aliases_and_suggests(departments: Session) -> None:
    index = DepartmentIndex(departments)
    assert index.resolve("slt") == index.resolve("自治区水利厅") == index.resolve("水利厅") == "slt"
    assert index.resolve("自治區林業和草原局") == "lcj"  # traditional script
    with pytest.raises(UnknownDepartment) as caught:
        index.resolve("自治区生态环保厅")
    assert "自治区生态环境厅" in caught.value.extra["suggestions"]


def test_edit_changes_holders_and_deadline_with_an_audited_event(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    _, (air, _grass, _sewage) = plan
    assert holders(departments, air)["lead"] == [("sthjt", "rule")]
    outcome = edit_task(
        departments,
        TaskEdit(
            air,
            lead=["自治区工业和信息化厅"],
            cooperating=["sthjt", "发展改革委"],
            deadline=dt.date(2026, 6, 30),
            expected_version=1,
        ),
        actor_user_id=None,
        actor_label="办公室张三",
    )
    assert outcome.version == 2 and outcome.changed == ["lead", "cooperating", "deadline"]
    assert holders(departments, air) == {
        "lead": [("gxt", "office")],
        "cooperating": [("sthjt", "office"), ("fgw", "office")],
    }
    task = departments.get(Task, air)
    assert task is not None and task.deadline == dt.date(2026, 6, 30) and task.deadline_source == "office"
    event = departments.get(TaskEvent, outcome.event_id)
    assert event is not None and event.kind == "edit" and event.actor_label == "办公室张三"
    assert event.data["before"]["lead"] == ["sthjt"] and event.data["after"]["lead"] == ["gxt"]
    assert event.data["after"]["deadline"] == "2026-06-30" and event.data["via"] == "api"


def test_a_new_lead_leaves_the_cooperating_list(departments: Session, plan: tuple[int, list[int]]) -> None:
    _, (_air, grass, _sewage) = plan
    edit_task(departments, TaskEdit(grass, lead=["nmt"]))
    assert holders(departments, grass) == {"lead": [("nmt", "office")]}


def test_unchanged_edit_writes_nothing(departments: Session, plan: tuple[int, list[int]]) -> None:
    _, (_air, grass, _sewage) = plan
    outcome = edit_task(departments, TaskEdit(grass, lead=["自治区林业和草原局"]))
    assert outcome.event_id is None and outcome.version == 1


def test_edits_are_refused_when_not_draft_stale_or_invalid(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    _, (air, grass, _sewage) = plan
    with pytest.raises(StaleTaskVersion):
        edit_task(departments, TaskEdit(air, deadline=dt.date(2026, 1, 1), expected_version=5))
    with pytest.raises(UnknownDepartment):
        edit_task(departments, TaskEdit(air, lead=["不存在的局"]))
    with pytest.raises(TasksError, match="既牵头又配合"):
        edit_task(departments, TaskEdit(air, lead=["slt"], cooperating=["水利厅"]))
    with pytest.raises(TasksError) as empty:
        edit_task(departments, TaskEdit(air, lead=[]))
    assert empty.value.code == "lead_required"
    apply_action(departments, grass, "issue", Actor(role=Role.office))
    with pytest.raises(EditNotAllowed):
        edit_task(departments, TaskEdit(grass, deadline=dt.date(2027, 1, 1)))


def test_bulk_edit_is_all_or_nothing(departments: Session, plan: tuple[int, list[int]]) -> None:
    plan_id, (air, grass, sewage) = plan
    bad = [
        TaskEdit(air, lead=["gxt"]),
        TaskEdit(grass, lead=["自治区环保局X"]),
        TaskEdit(sewage, deadline=dt.date(2026, 12, 31), expected_version=9),
        TaskEdit(999999, lead=["slt"]),
    ]
    with pytest.raises(BulkEditInvalid) as caught:
        bulk_edit(departments, plan_id, bad)
    errors = caught.value.extra["errors"]
    assert [(e["index"], e["code"]) for e in errors] == [
        (1, "unknown_department"),
        (2, "stale_version"),
        (3, "not_found"),
    ]
    assert holders(departments, air)["lead"] == [("sthjt", "rule")]  # nothing was applied
    assert departments.exec(select(TaskEvent).where(TaskEvent.kind == "edit")).all() == []
    done = bulk_edit(
        departments,
        plan_id,
        [TaskEdit(air, lead=["gxt"]), TaskEdit(sewage, deadline=dt.date(2026, 12, 31), expected_version=1)],
        actor_label="办公室",
    )
    assert [o.changed for o in done] == [["lead", "cooperating"], ["deadline"]]  # gxt left the cooperating
    assert {
        e.data["via"] for e in departments.exec(select(TaskEvent).where(TaskEvent.kind == "edit")).all()
    } == {"bulk"}


def test_bulk_edit_rejects_tasks_of_another_plan_and_repeats(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    plan_id, (air, _grass, _sewage) = plan
    other = import_plan(
        departments,
        PLAN.replace("工作方案", "另一方案"),
        parse(PLAN.replace("工作方案", "另一方案")),
        "b.txt",
    )
    foreign = departments.exec(select(Task.id).where(Task.plan_id == other.plan_id)).first()
    assert foreign is not None
    with pytest.raises(BulkEditInvalid) as caught:
        bulk_edit(
            departments,
            plan_id,
            [TaskEdit(air, lead=["gxt"]), TaskEdit(air, lead=["slt"]), TaskEdit(foreign, lead=["slt"])],
        )
    assert [e["code"] for e in caught.value.extra["errors"]] == ["duplicate_task", "wrong_plan"]


def test_review_list_shows_disputes_first_with_proposals(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    plan_id, (air, grass, sewage) = plan
    office = Actor(role=Role.office)
    issue_plan(departments, plan_id, office)
    assert departments.get(Plan, plan_id).status is PlanStatus.issued  # type: ignore[union-attr]
    lcj = Actor(role=Role.department, department_id=department_id(departments, "lcj"))
    zjt = Actor(role=Role.department, department_id=department_id(departments, "zjt"))
    apply_action(departments, sewage, "dispute", zjt, reason="管网建设由各盟市负责")
    apply_action(departments, grass, "dispute", lcj, reason="属于农牧厅职责")
    departments.flush()
    listing = review_list(departments, plan_id)
    assert [i.id for i in listing.items] == [sewage, grass, air]
    assert listing.disputed == 2
    first = listing.items[0]
    assert first.disputed and first.dispute is not None and first.dispute.reason == "管网建设由各盟市负责"
    assert first.dispute.department_name == "自治区住房城乡建设厅"
    assert first.state is TaskState.draft and first.addressed_to_leagues
    assert first.proposal is not None and first.proposal.lead[0].code == "zjt"
    assert "urban.sewage" in first.proposal.rule_ids and first.proposal.explanation_zh
    last = listing.items[-1]
    assert not last.disputed and last.lead_source == "rule" and last.missing == []
    # once the office acts on a disputed task, it is no longer "last event: dispute"
    apply_action(departments, grass, "reassign", office, new_lead_id=department_id(departments, "nmt"))
    departments.flush()
    assert [i.id for i in review_list(departments, plan_id).items] == [sewage, air, grass]


def test_review_list_puts_tasks_lacking_a_lead_next(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    plan_id, (air, grass, sewage) = plan
    for row in departments.exec(select(TaskAssignment).where(TaskAssignment.task_id == sewage)).all():
        departments.delete(row)
    departments.flush()
    items = review_list(departments, plan_id).items
    assert [i.id for i in items] == [sewage, air, grass] and items[0].missing == ["lead"]
    assert (
        items[0].lead_source is None
        and AssignmentRole.lead.value == "lead"
        and LeadSource.rule.value == "rule"
    )
