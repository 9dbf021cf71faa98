"""The task page, plan review (edit, bulk edit, issue) and the scorecards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from duban.notifications.events import notify_task_event
from duban.tasks.enums import AssignmentRole, TaskState
from duban.tasks.models import Milestone, Target, Task, TaskAssignment, TaskEvent
from duban.tasks.parser import parse
from duban.tasks.plans import import_plan
from duban.workflow.records import IndicatorValue, add_progress
from duban.workflow.service import office_actor
from duban.workflow.sweep import apply_ladder_action
from tests.api.pages.helpers import PageClient, text_of
from tests.fixtures.tasks import TaskWorld

REVIEW_PLAN = """关于推进大气污染治理的工作方案

一、重点任务
（一）推进燃煤锅炉整治。2026年12月底前完成全区燃煤锅炉淘汰改造。（自治区生态环境厅牵头，自治区发展改革委配合）
（二）加强扬尘管控。2026年6月底前出台施工扬尘管理办法。
（三）开展柴油货车治理，加强移动源排放监管。
"""


def test_the_task_page_shows_text_milestones_targets_timeline_reports_and_notices(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    clock_at("2026-03-02T09:00")
    task_id = world.task_in(TaskState.in_progress)
    task = world.session.get(Task, task_id)
    assert task is not None
    world.session.add(Milestone(task_id=task_id, due=task.deadline, text="2026年9月底前完成主城区锅炉改造"))  # type: ignore[arg-type]
    target = Target(plan_id=task.plan_id, indicator="PM2.5平均浓度", value="30微克/立方米", text="PM2.5")
    world.session.add(target)
    world.session.flush()
    add_progress(
        world.session,
        task_id,
        world.actor("lead"),
        35,
        "完成锅炉改造 35 台",
        [IndicatorValue(value=33.5, target_id=target.id)],
    )
    clock_at("2027-01-20T09:00")
    outcome = apply_ladder_action(world.session, task_id, "supervise", office_actor(), reason="专项督办")
    notify_task_event(world.session, outcome.event_id)
    world.session.flush()
    page = signed_in("office").get(f"/tasks/{task_id}")
    assert page.status_code == 200
    shown = text_of(page.text)
    for expected in (
        "2026年12月底前完成全区燃煤锅炉淘汰改造",  # the measure's text
        "2026年9月底前完成主城区锅炉改造",  # a milestone
        "PM2.5平均浓度 30微克/立方米",  # a target …
        "33.5",  # … with the reported value
        "完成锅炉改造 35 台",  # the report
        "签收",  # timeline: accept
        "专项督办",  # the ladder event's reason
        "督办单（蓝）",  # the notice sent
        "自治区生态环境厅",
    ):
        assert expected in shown, expected
    assert "确认约谈" not in shown and "约谈" in shown  # the office may confirm 约谈 from here


def test_plan_review_shows_the_outline_beside_the_proposals_and_edits(
    signed_in: Callable[[str], PageClient], departments: Any
) -> None:
    result = import_plan(departments, REVIEW_PLAN, parse(REVIEW_PLAN), None)
    departments.flush()
    office = signed_in("office")
    page = office.get(f"/plans/{result.plan_id}")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "推进燃煤锅炉整治" in shown and "开展柴油货车治理" in shown
    assert "文件明确" in shown and "建议" in shown  # the lead's source and the rules' proposal
    tasks = departments.exec(select(Task).where(Task.plan_id == result.plan_id).order_by(Task.id)).all()  # type: ignore[arg-type]
    first, second, third = tasks
    saved = office.post(
        f"/plans/{result.plan_id}/tasks/{third.id}",
        {
            "form": "edit",
            "task_id": third.id,
            "version": third.version,
            "lead": "交通运输厅",
            "cooperating": "公安厅、生态环境厅",
            "deadline": "2026-10-31",
        },
    )
    assert "已修改" in office.follow(saved).text
    bad = office.post(
        f"/plans/{result.plan_id}/tasks/{second.id}",
        {"form": "edit", "task_id": second.id, "lead": "不存在的厅", "deadline": "2026-10-31"},
    )
    assert bad.status_code == 422 and 'value="不存在的厅"' in bad.text
    bulk = office.post(
        f"/plans/{result.plan_id}/bulk-edit",
        {
            "form": "bulk",
            "task": [f"{first.id}:{first.version}", f"{second.id}:{second.version}"],
            "deadline": "2026-12-15",
        },
    )
    assert "批量修改完成：2 项任务有变化" in office.follow(bulk).text
    nothing = office.post(f"/plans/{result.plan_id}/bulk-edit", {"form": "bulk", "deadline": "2026-12-15"})
    assert nothing.status_code == 422 and "请先勾选" in nothing.text
    issued = office.post(f"/plans/{result.plan_id}/issue", {"form": "issue", "confirm_past_deadlines": "1"})
    assert "已交办 3 项任务" in office.follow(issued).text
    states = departments.exec(select(Task.state).where(Task.plan_id == result.plan_id)).all()
    assert set(states) == {TaskState.assigned}
    edits = departments.exec(
        select(TaskEvent).where(TaskEvent.kind == "edit", TaskEvent.task_id == third.id)
    ).all()
    assert edits and edits[-1].data["after"]["deadline"] == "2026-10-31"
    assert "已交办" in text_of(office.get("/plans").text)


def test_issuing_a_plan_with_a_task_lacking_a_lead_lists_it(
    signed_in: Callable[[str], PageClient], departments: Any
) -> None:
    result = import_plan(departments, REVIEW_PLAN, parse(REVIEW_PLAN), None)
    tasks = departments.exec(select(Task).where(Task.plan_id == result.plan_id).order_by(Task.id)).all()  # type: ignore[arg-type]
    departments.execute(
        sa.delete(TaskAssignment).where(
            col(TaskAssignment.task_id) == tasks[2].id, col(TaskAssignment.role) == AssignmentRole.lead
        )
    )
    departments.flush()
    office = signed_in("office")
    assert "缺牵头单位" in office.get(f"/plans/{result.plan_id}").text
    refused = office.post(f"/plans/{result.plan_id}/issue", {"form": "issue", "confirm_past_deadlines": "1"})
    assert refused.status_code == 422
    assert "缺少牵头单位或完成时限" in refused.text and f'href="#task-{tasks[2].id}"' in refused.text
    states = departments.exec(select(Task.state).where(Task.plan_id == result.plan_id)).all()
    assert set(states) == {TaskState.draft}


def test_scorecards_draw_svg_charts_from_the_stats(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    late = world.task_in(TaskState.in_progress)
    world.task_in(TaskState.completed)
    clock_at("2027-03-01T09:00")
    apply_ladder_action(world.session, late, "supervise", office_actor())
    world.session.flush()
    page = signed_in("office").get("/scorecards")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 4 and "notice-blue" in page.text
    shown = text_of(page.text)
    assert "自治区生态环境厅" in shown and "按期办结率" in shown and "规划进度" in shown
    own = signed_in("lead").get("/scorecards")
    assert (
        own.status_code == 200
        and "自治区发展改革委" not in text_of(own.text).split("部门评分明细")[1].split("规划进度")[0]
    )
    odd = signed_in("office").get("/scorecards", start="2027-13-01", end="x")
    assert odd.status_code == 200 and "无效，已忽略" in odd.text


TRADITIONAL_PLAN = """關於加強生態環境保護的工作方案

一、重點任務
（一）推進燃煤鍋爐整治。2026年12月底前完成全區燃煤鍋爐淘汰改造。（自治區生態環境廳牽頭，自治區發展改革委配合）
"""


def test_a_traditional_script_plan_is_shown_in_simplified_with_the_original_kept(
    signed_in: Callable[[str], PageClient], departments: Any
) -> None:
    result = import_plan(departments, TRADITIONAL_PLAN, parse(TRADITIONAL_PLAN), None)
    departments.flush()
    task = departments.exec(select(Task).where(Task.plan_id == result.plan_id)).first()
    assert task is not None
    office = signed_in("office")
    shown = text_of(office.get(f"/tasks/{task.id}").text)
    assert "完成全区燃煤锅炉淘汰改造" in shown  # the page speaks simplified script …
    assert "完成全區燃煤鍋爐淘汰改造" in shown  # … and keeps the text as written under 原文
    review = text_of(office.get(f"/plans/{result.plan_id}").text)
    assert "推进燃煤锅炉整治" in review and "推進燃煤鍋爐整治" not in review
