"""The plan review page: unresolved written units listed with a form to map each, the registry's fit."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlmodel import col, select

from duban.tasks.enums import TaskState
from duban.tasks.models import Department, Task, TaskEvent
from duban.tasks.parser import parse
from duban.tasks.plans import import_plan
from tests.api.pages.helpers import PageClient, text_of
from tests.tasks.test_units import CENTRE, PLAN, SHANGHAI


def test_the_review_page_lists_unresolved_units_and_maps_one(
    signed_in: Callable[[str], PageClient], departments: Any
) -> None:
    result = import_plan(departments, PLAN, parse(PLAN), None)
    office = signed_in("office")
    page = office.get(f"/plans/{result.plan_id}")
    assert page.status_code == 200
    units = page.text.split('id="units"')[1].split("</section>")[0]
    assert CENTRE in units and "阻止交办" in text_of(units) and "名录中没有" in units
    assert re.search(r'<option value="zjt">自治区住房城乡建设厅</option>', units)
    assert 'name="csrf_token"' in units and "<script" not in page.text
    assert "未对应部门" in text_of(page.text)
    refused = office.post(f"/plans/{result.plan_id}/issue", {"form": "issue", "confirm_past_deadlines": "1"})
    assert refused.status_code == 422
    assert f"措施 一/(二) 的牵头单位“{CENTRE}”尚未对应到部门名录中的部门" in text_of(refused.text)
    empty = office.post(f"/plans/{result.plan_id}/units/resolve", {"form": "unit", "name": CENTRE})
    assert empty.status_code == 422 and "请选择要对应的部门" in empty.text
    forged = office.post(
        f"/plans/{result.plan_id}/units/resolve", {"name": CENTRE, "department": "zjt"}, csrf=False
    )
    assert forged.status_code == 403
    mapped = office.post(
        f"/plans/{result.plan_id}/units/resolve", {"form": "unit", "name": CENTRE, "department": "zjt"}
    )
    assert mapped.status_code == 303 and mapped.headers["location"].endswith("#units")
    after = office.follow(mapped)
    assert f"“{CENTRE}”已对应为“自治区住房城乡建设厅”，2 项任务已更新" in text_of(after.text)
    assert 'id="units"' not in after.text  # nothing left to map
    events = departments.exec(select(TaskEvent).where(TaskEvent.kind == "unit_resolved")).all()
    assert len(events) == 2 and {e.data["via"] for e in events} == {"page"}


def test_adding_a_unit_as_a_new_department_from_the_page(
    signed_in: Callable[[str], PageClient], departments: Any
) -> None:
    result = import_plan(departments, PLAN, parse(PLAN), None)
    office = signed_in("office")
    form = {"form": "unit", "name": CENTRE, "new_code": "rqzx", "new_name": "自治区城镇燃气管理中心"}
    taken = office.post(f"/plans/{result.plan_id}/units/resolve", {**form, "new_name": "自治区公安厅"})
    assert taken.status_code == 409 and "已有代码或名称相同的部门" in taken.text
    added = office.post(f"/plans/{result.plan_id}/units/resolve", {**form, "new_kind": "其他"})
    assert added.status_code == 303
    assert departments.exec(select(Department.name).where(Department.code == "rqzx")).one() == (
        "自治区城镇燃气管理中心"
    )


def test_another_levels_plan_shows_why_nothing_is_proposed(
    signed_in: Callable[[str], PageClient], departments: Any
) -> None:
    result = import_plan(departments, SHANGHAI, parse(SHANGHAI), None)
    office = signed_in("office")
    shown = text_of(office.get(f"/plans/{result.plan_id}").text)
    assert "部门名录不适用于本文件" in shown and "不是本级文件" in shown
    assert "责任规则建议" not in shown and "市应急局" in shown
    english = office.get("/lang/en", next=f"/plans/{result.plan_id}")
    assert "The department registry does not fit this document" in text_of(office.follow(english).text)
    tasks = departments.exec(select(Task.state).where(col(Task.plan_id) == result.plan_id)).all()
    assert set(tasks) == {TaskState.draft}


def test_a_traditional_script_unit_is_posted_as_written(
    signed_in: Callable[[str], PageClient], departments: Any
) -> None:
    written = "自治區燃氣管理中心"
    text = PLAN.replace(CENTRE, written).replace("专项整治方案", "专项整治方案（繁体）")
    result = import_plan(departments, text, parse(text), None)
    office = signed_in("office")
    page = office.get(f"/plans/{result.plan_id}")
    assert f'name="name" value="{written}"' in page.text
    mapped = office.post(
        f"/plans/{result.plan_id}/units/resolve", {"form": "unit", "name": written, "department": "zjt"}
    )
    assert mapped.status_code == 303
