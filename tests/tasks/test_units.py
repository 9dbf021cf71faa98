"""Written, proposed, resolved: units kept verbatim per task, proposals only where nobody is named and the
registry fits, the office's mapping across a plan, and issuing refused while a written lead is unresolved."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from duban.tasks.enums import AssignmentRole, DepartmentKind, LeadSource, Role, TaskState, UnitResolution
from duban.tasks.errors import DepartmentExists, EditNotAllowed, NotFoundError, TasksError, UnknownDepartment
from duban.tasks.models import Department, Plan, Task, TaskAssignment, TaskEvent, TaskUnit
from duban.tasks.parser import parse
from duban.tasks.plans import import_plan
from duban.tasks.review import NewDepartment, TaskEdit, edit_task, plan_units, resolve_unit, review_list
from duban.workflow.issuing import issue_plan
from duban.workflow.machines import Actor
from duban.workflow.service import IssueRefused, apply_action
from tests.tasks.test_review import holders

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

PLAN = """内蒙古自治区城镇燃气安全专项整治方案

一、重点任务
（一）开展燃气安全排查。2026年6月底前完成全区燃气设施排查。（自治区住房城乡建设厅牵头，自治区应急管理厅配合）
（二）加强瓶装燃气监管。2026年9月底前完成瓶装燃气经营企业整治。（自治区燃气管理中心牵头，自治区市场监管局配合）
（三）完善举报机制。2026年12月底前建立燃气安全举报平台。（自治区燃气管理中心、自治区公安厅配合）
（四）推进老旧管网改造。2026年12月底前完成城镇老旧燃气管网改造。
"""
CENTRE = "自治区燃气管理中心"

SHANGHAI = """上海市城镇燃气安全专项整治工作方案

一、重点任务
（一）开展燃气安全排查。2024年6月底前完成排查。（市住房城乡建设管理委牵头，市应急局、市市场监管局配合）
（二）加强执法检查。2024年9月底前完成。（市应急局牵头，市公安局配合）
（三）推进老旧管网改造。2024年12月底前完成城镇老旧燃气管网改造。
"""

OFFICE = Actor(role=Role.office)


def _tasks(session: Session, plan_id: int) -> list[Task]:
    return list(session.exec(select(Task).where(Task.plan_id == plan_id).order_by(col(Task.id))).all())


def _units(session: Session, task_id: int) -> list[TaskUnit]:
    return list(
        session.exec(
            select(TaskUnit).where(TaskUnit.task_id == task_id).order_by(col(TaskUnit.position))
        ).all()
    )


@pytest.fixture
def plan(departments: Session) -> tuple[int, list[int]]:
    result = import_plan(departments, PLAN, parse(PLAN), "燃气.txt")
    return result.plan_id, [t.id for t in _tasks(departments, result.plan_id) if t.id is not None]


def test_written_units_are_stored_verbatim_and_resolved_or_flagged(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    _, (survey, bottles, reports, pipes) = plan
    first = _units(departments, survey)
    assert [(u.name, u.role.value, u.source.value) for u in first] == [
        ("自治区住房城乡建设厅", "lead", "written"),
        ("自治区应急管理厅", "cooperating", "written"),
    ]
    assert all(u.resolution is UnitResolution.registry and u.department_id for u in first)
    assert holders(departments, survey) == {
        "lead": [("zjt", "explicit")],
        "cooperating": [("yjt", "explicit")],
    }
    centre, _ = _units(departments, bottles)
    assert (centre.name, centre.department_id, centre.resolution) == (CENTRE, None, UnitResolution.unresolved)
    assert "名录中没有" in centre.reason_zh and centre.wording and centre.span_start is not None
    # the unresolved lead is not replaced by anything: no lead, and no rule proposal beside the written units
    assert holders(departments, bottles) == {"cooperating": [("scjgj", "explicit")]}
    # a measure that names only cooperating units gets no proposed lead either
    assert "lead" not in holders(departments, reports)
    assert [u.name for u in _units(departments, reports)] == [CENTRE, "自治区公安厅"]
    # only the measure that names nobody gets the rules' proposal
    assert _units(departments, pipes) == []
    assert holders(departments, pipes)["lead"][0][1] == "rule"


def test_the_plan_records_that_the_registry_fits(departments: Session, plan: tuple[int, list[int]]) -> None:
    stored = departments.get(Plan, plan[0])
    assert stored is not None and stored.registry_fit is not None
    assert stored.registry_fit["applies"] is True and stored.registry_fit["written"] == 5  # distinct names


def test_another_levels_document_gets_no_proposals_and_says_why(departments: Session) -> None:
    result = import_plan(departments, SHANGHAI, parse(SHANGHAI), "上海.txt")
    stored = departments.get(Plan, result.plan_id)
    assert stored is not None and stored.registry_fit is not None
    assert stored.registry_fit["applies"] is False and "不是本级文件" in stored.registry_fit["reason_zh"]
    survey, inspection, pipes = (t.id or 0 for t in _tasks(departments, result.plan_id))
    assert departments.exec(select(TaskAssignment)).all() == []  # nothing resolves, nothing is proposed
    assert [u.name for u in _units(departments, survey)] == [
        "市住房城乡建设管理委",
        "市应急局",
        "市市场监管局",
    ]
    assert all(u.department_id is None for u in _units(departments, inspection))
    listing = review_list(departments, result.plan_id)
    assert listing.registry is not None and not listing.registry.applies
    assert all(item.proposal is None for item in listing.items)
    missing = {item.id: item.missing for item in listing.items}
    assert missing[inspection] == ["lead_unresolved"] and missing[pipes] == ["lead"]


@pytest.mark.skipif(not (CORPUS / "23_shanghai_port_shore_power_2023.txt").exists(), reason="corpus missing")
def test_a_shanghai_corpus_document_keeps_every_written_name(departments: Session) -> None:
    text = (CORPUS / "23_shanghai_port_shore_power_2023.txt").read_text(encoding="utf-8")
    result = import_plan(departments, text, parse(text), "23.txt")
    units = plan_units(departments, result.plan_id)
    assert units.registry is not None and not units.registry.applies
    assert units.units and all(u.department is None for u in units.units)
    assert units.blocking == len({t for u in units.units if "lead" in u.roles for t in u.task_ids})
    assert departments.exec(select(TaskAssignment)).all() == []


def test_plan_units_lists_distinct_names_unresolved_first(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    plan_id, (_, bottles, reports, _) = plan
    units = plan_units(departments, plan_id)
    assert units.units[0].name == CENTRE
    centre = units.units[0]
    assert (centre.tasks, centre.unresolved, centre.blocking) == (2, 2, 1)
    assert [r.value for r in centre.roles] == ["lead", "cooperating"] and centre.task_ids == [
        bottles,
        reports,
    ]
    assert centre.measures == ["一/(二)", "一/(三)"]
    assert units.unresolved == 1 and units.blocking == 1
    assert {u.name for u in units.units if u.resolution is UnitResolution.registry} >= {"自治区公安厅"}


def test_issuing_is_refused_while_a_written_lead_is_unresolved(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    plan_id, (survey, bottles, reports, _) = plan
    with pytest.raises(IssueRefused) as refused:
        issue_plan(departments, plan_id, OFFICE)
    error = refused.value
    assert error.code == "lead_unresolved"
    blocking = {item["id"]: item for item in error.extra["tasks"]}
    assert set(blocking) == {bottles, reports}
    assert blocking[bottles]["unresolved_lead"] == [CENTRE] and blocking[bottles]["path"] == "一/(二)"
    assert blocking[reports]["missing"] == ["lead"]
    assert f"措施 一/(二) 的牵头单位“{CENTRE}”尚未对应到部门名录中的部门" in error.message_zh
    assert {t.state for t in _tasks(departments, plan_id)} == {TaskState.draft}  # nothing was issued
    # one task on its own: the message names the unit and the measure
    with pytest.raises(IssueRefused) as one:
        apply_action(departments, bottles, "issue", OFFICE)
    assert one.value.message_zh == (
        f"措施 一/(二) 的牵头单位“{CENTRE}”尚未对应到部门名录中的部门，请先在规划审定页确认"
    )
    assert one.value.message_en.startswith(f"the lead {CENTRE} of measure 一/(二)")
    apply_action(departments, survey, "issue", OFFICE)  # a task whose written units all resolve issues


def test_mapping_a_name_updates_every_draft_task_of_the_plan_with_an_event(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    plan_id, (_, bottles, reports, _) = plan
    before = {t.id: t.version for t in _tasks(departments, plan_id)}
    outcome = resolve_unit(
        departments, plan_id, CENTRE, department="自治区住房城乡建设厅", actor_label="办公室"
    )
    assert outcome.department.code == "zjt" and not outcome.created
    assert outcome.tasks == [bottles, reports] and len(outcome.event_ids) == 2
    assert holders(departments, bottles)["lead"] == [("zjt", "explicit")]
    assert ("zjt", "explicit") in holders(departments, reports)["cooperating"]
    centre = _units(departments, bottles)[0]
    assert centre.name == CENTRE  # never replaced
    assert centre.resolution is UnitResolution.office and "办公室将" in centre.reason_zh
    events = departments.exec(select(TaskEvent).where(TaskEvent.kind == "unit_resolved")).all()
    assert {e.task_id for e in events} == {bottles, reports}
    assert events[0].data["name"] == CENTRE and events[0].data["department"]["code"] == "zjt"
    after = {t.id: t.version for t in _tasks(departments, plan_id)}
    assert after[bottles] == before[bottles] + 1 and after[reports] == before[reports] + 1
    units = plan_units(departments, plan_id)
    assert units.unresolved == 0 and units.blocking == 0
    # (三) still has no lead: the office is asked, nothing is proposed
    with pytest.raises(IssueRefused) as refused:
        issue_plan(departments, plan_id, OFFICE)
    assert refused.value.code == "issue_incomplete"
    assert [t["id"] for t in refused.value.extra["tasks"]] == [reports]
    edit_task(departments, TaskEdit(reports, lead=["自治区公安厅"]))
    assert len(issue_plan(departments, plan_id, OFFICE)) == 4


def test_remapping_moves_the_assignment(departments: Session, plan: tuple[int, list[int]]) -> None:
    plan_id, (_, bottles, _, _) = plan
    resolve_unit(departments, plan_id, CENTRE, department="zjt")
    resolve_unit(departments, plan_id, CENTRE, department="自治区能源局")
    assert holders(departments, bottles)["lead"] == [("nyj", "explicit")]
    again = resolve_unit(departments, plan_id, CENTRE, department="nyj")
    assert again.tasks == [] and again.event_ids == []


def test_adding_the_unit_as_a_new_department(departments: Session, plan: tuple[int, list[int]]) -> None:
    plan_id, (_, bottles, _, _) = plan
    new = NewDepartment(code="rqzx", name="自治区城镇燃气管理中心", kind=DepartmentKind.other)
    outcome = resolve_unit(departments, plan_id, CENTRE, new_department=new)
    assert outcome.created and outcome.department.code == "rqzx"
    added = departments.exec(select(Department).where(Department.code == "rqzx")).one()
    assert added.aliases == [CENTRE] and added.kind is DepartmentKind.other
    assert holders(departments, bottles)["lead"] == [("rqzx", "explicit")]
    # the next document that writes the same name finds the office's department
    other = PLAN.replace("专项整治方案", "专项整治方案（第二批）")
    second = import_plan(departments, other, parse(other), "第二批.txt")
    bottles_2 = _tasks(departments, second.plan_id)[1]
    assert bottles_2.id is not None
    assert holders(departments, bottles_2.id)["lead"] == [("rqzx", "explicit")]
    with pytest.raises(DepartmentExists):
        resolve_unit(
            departments,
            second.plan_id,
            "自治区燃气管理中心",
            new_department=NewDepartment("rqzx", "另一个中心"),
        )


def test_resolving_refuses_what_it_cannot_do(departments: Session, plan: tuple[int, list[int]]) -> None:
    plan_id, (_, bottles, reports, _) = plan
    with pytest.raises(NotFoundError):
        resolve_unit(departments, plan_id, "没有写过的单位", department="zjt")
    with pytest.raises(NotFoundError):
        resolve_unit(departments, 999_999, CENTRE, department="zjt")
    with pytest.raises(UnknownDepartment) as unknown:
        resolve_unit(departments, plan_id, CENTRE, department="自治区住建厅局")
    assert unknown.value.extra["suggestions"]
    with pytest.raises(TasksError) as neither:
        resolve_unit(departments, plan_id, CENTRE)
    assert neither.value.code == "department_required"
    with pytest.raises(TasksError) as bad_code:
        resolve_unit(departments, plan_id, CENTRE, new_department=NewDepartment("坏 代码", "某中心"))
    assert bad_code.value.code == "bad_department_code"
    with pytest.raises(DepartmentExists):
        resolve_unit(departments, plan_id, CENTRE, new_department=NewDepartment("x1", "自治区公安厅"))
    for task_id in (bottles, reports):
        apply_action(departments, task_id, "cancel", OFFICE, reason="规划调整")
    with pytest.raises(EditNotAllowed):
        resolve_unit(departments, plan_id, CENTRE, department="zjt")
    assert departments.exec(select(TaskEvent).where(TaskEvent.kind == "unit_resolved")).all() == []


def test_an_office_lead_overrides_an_unresolved_written_lead(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    plan_id, (_, bottles, reports, _) = plan
    edit_task(departments, TaskEdit(bottles, lead=["自治区住房城乡建设厅"]))
    edit_task(departments, TaskEdit(reports, lead=["自治区公安厅"]))
    assert holders(departments, bottles)["lead"] == [("zjt", LeadSource.office.value)]
    assert _units(departments, bottles)[0].department_id is None  # the written unit stays as it was
    assert len(issue_plan(departments, plan_id, OFFICE)) == 4
    assert review_list(departments, plan_id).incomplete == 0


def test_review_list_shows_units_and_proposals_only_where_nobody_is_named(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    plan_id, (survey, bottles, reports, pipes) = plan
    items = {item.id: item for item in review_list(departments, plan_id).items}
    assert [u.name for u in items[bottles].units] == [CENTRE, "自治区市场监管局"]
    assert items[bottles].units[0].department is None and items[bottles].missing == ["lead_unresolved"]
    assert items[reports].missing == ["lead"]
    assert items[survey].proposal is None and items[bottles].proposal is None
    assert items[pipes].proposal is not None and items[pipes].lead_source == "rule"
    assert AssignmentRole.lead.value in {u.role.value for u in items[survey].units}


def test_a_task_changed_meanwhile_is_not_overwritten(
    departments: Session, plan: tuple[int, list[int]]
) -> None:
    from duban.core import clock
    from duban.tasks.errors import StaleTaskVersion
    from duban.tasks.review.units import _bump

    _, (_, bottles, _, _) = plan
    task = departments.get(Task, bottles)
    assert task is not None and task.version == 1
    table = Task.__table__  # type: ignore[attr-defined]
    departments.connection().execute(table.update().where(table.c.id == bottles).values(version=2))
    with pytest.raises(StaleTaskVersion):
        _bump(departments, task, clock.now())


def test_a_traditional_script_name_is_found_by_its_simplified_form(departments: Session) -> None:
    text = PLAN.replace(CENTRE, "自治區燃氣管理中心").replace("专项整治方案", "专项整治方案（繁体）")
    result = import_plan(departments, text, parse(text), "繁体.txt")
    outcome = resolve_unit(departments, result.plan_id, CENTRE, department="zjt")
    assert outcome.name == "自治區燃氣管理中心" and len(outcome.tasks) == 2
    unit = departments.exec(select(TaskUnit).where(TaskUnit.name == "自治區燃氣管理中心")).first()
    assert unit is not None and unit.resolution is UnitResolution.office
