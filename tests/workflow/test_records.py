"""Progress reports and contributions: who, when, what (indicators, attachments), and who reads them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, select

from duban.tasks.enums import TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Plan, Target
from duban.workflow.errors import ActionForbidden, RecordInvalid, RecordNotAllowed
from duban.workflow.models import ReportKind
from duban.workflow.records import (
    MAX_ATTACHMENT_BYTES,
    Attachment,
    IndicatorValue,
    add_contribution,
    add_progress,
    list_reports,
)
from tests.fixtures.records import PDF, SHA, World, build_world, events
from tests.notifications.scenario import recording_jobs


@pytest.fixture
def world(departments: Session, clock_at: Callable[[Any], None]) -> World:
    """Departments (lead 生态环境厅, cooperating 发展改革委 and 林业和草原局, unrelated 水利厅), a plan, 2025-10-15."""
    return build_world(departments, clock_at)


# --- progress ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [TaskState.in_progress, TaskState.returned])
def test_the_lead_reports_progress_with_an_event(world: World, state: TaskState) -> None:
    task_id = world.task(state)
    report = add_progress(
        world.session, task_id, world.actor("lead"), 40, "  已完成 12 台锅炉改造 ", (), [PDF]
    )
    assert (report.kind, report.percent, report.text) == (ReportKind.progress, 40, "已完成 12 台锅炉改造")
    assert report.attachments == [
        {"name": "监测报告.pdf", "size": 1024, "content_type": "application/pdf", "sha256": SHA}
    ]
    *before, event = events(world.session, task_id, "progress")  # after 退回: the final report before it
    assert len(before) == (1 if state is TaskState.returned else 0)
    assert event.actor_department_id == world.ids["lead"]
    assert event.data["report_id"] == report.id
    assert event.from_state is None and event.to_state is None


@pytest.mark.parametrize(
    "state", [TaskState.assigned, TaskState.submitted, TaskState.completed, TaskState.cancelled]
)
def test_progress_is_refused_outside_work_states(world: World, state: TaskState) -> None:
    task_id = world.task(state)
    before = events(world.session, task_id, "progress")  # the final report, if it was submitted
    with pytest.raises(RecordNotAllowed) as caught:
        add_progress(world.session, task_id, world.actor("lead"), 10, "进展")
    assert caught.value.code == "progress_not_allowed"
    assert caught.value.extra["allowed_states"] == ["in_progress", "returned"]
    assert state.label in caught.value.message_zh
    assert events(world.session, task_id, "progress") == before


@pytest.mark.parametrize("who", ["coop", "other", "office"])
def test_only_the_lead_reports_progress(world: World, who: str) -> None:
    task_id = world.task(TaskState.in_progress)
    with pytest.raises(ActionForbidden):
        add_progress(world.session, task_id, world.actor(who), 10, "进展")


def test_progress_needs_text_and_a_valid_percent(world: World) -> None:
    task_id = world.task(TaskState.in_progress)
    with pytest.raises(RecordInvalid) as blank:
        add_progress(world.session, task_id, world.actor("lead"), 10, "   ")
    assert blank.value.code == "text_required"
    with pytest.raises(RecordInvalid) as percent:
        add_progress(world.session, task_id, world.actor("lead"), 101, "进展")
    assert percent.value.code == "percent_invalid"


def test_unknown_task_is_not_found(world: World) -> None:
    with pytest.raises(NotFoundError):
        add_progress(world.session, 999_999, world.actor("lead"), 10, "进展")


def test_indicator_values_are_matched_to_the_plan_targets(world: World) -> None:
    task_id = world.task(TaskState.in_progress)
    target_id = world.session.exec(select(Target.id).where(Target.indicator == "森林覆盖率")).one()
    report = add_progress(
        world.session,
        task_id,
        world.actor("lead"),
        50,
        "指标进展",
        [
            IndicatorValue(value=22.1, target_id=target_id),
            # width, script and brackets are folded: the traditional half-width spelling matches
            IndicatorValue(value=45.0, indicator="草原綜合植被覆蓋度(全區)", note="初步统计"),
        ],
    )
    assert [(v["indicator"], v["value"], v["target_value"], v["unit"]) for v in report.indicator_values] == [
        ("森林覆盖率", 22.1, "23%", "%"),
        ("草原综合植被覆盖度（全区）", 45.0, "46%以上", "%"),
    ]
    assert report.indicator_values[1]["note"] == "初步统计"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (IndicatorValue(value=1.0, indicator="湿地面积"), "unknown_indicator"),
        (IndicatorValue(value=1.0, target_id=987_654), "unknown_indicator"),
        (IndicatorValue(value=1.0), "unknown_indicator"),
        (IndicatorValue(value=float("nan"), indicator="森林覆盖率"), "indicator_value_invalid"),
    ],
)
def test_bad_indicator_values_are_refused(world: World, value: IndicatorValue, code: str) -> None:
    task_id = world.task(TaskState.in_progress)
    with pytest.raises(RecordInvalid) as caught:
        add_progress(world.session, task_id, world.actor("lead"), 10, "进展", [value])
    assert caught.value.code == code
    assert events(world.session, task_id, "progress") == []


def test_a_target_of_another_plan_is_unknown_and_repeats_are_refused(world: World) -> None:
    other_plan = Plan(key=uuid.uuid4().hex, title="另一方案", content_hash="1" * 64)
    world.session.add(other_plan)
    world.session.flush()
    assert other_plan.id is not None
    foreign = Target(plan_id=other_plan.id, indicator="森林覆盖率", value="30%", text="")
    world.session.add(foreign)
    world.session.flush()
    task_id = world.task(TaskState.in_progress)
    lead = world.actor("lead")
    with pytest.raises(RecordInvalid) as caught:
        add_progress(
            world.session, task_id, lead, 10, "进展", [IndicatorValue(value=1.0, target_id=foreign.id)]
        )
    assert caught.value.code == "unknown_indicator"
    assert "森林覆盖率" in caught.value.extra["known_indicators"]
    twice = [
        IndicatorValue(value=1.0, indicator="森林覆盖率"),
        IndicatorValue(value=2.0, indicator="森林覆盖率"),
    ]
    with pytest.raises(RecordInvalid) as repeated:
        add_progress(world.session, task_id, lead, 10, "进展", twice)
    assert repeated.value.code == "indicator_repeated"


def test_two_targets_of_one_name_need_a_target_id(world: World) -> None:
    world.session.add(Target(plan_id=world.plan_id, indicator="森林覆盖率", value="25%", year=2030, text=""))
    world.session.flush()
    task_id = world.task(TaskState.in_progress)
    with pytest.raises(RecordInvalid) as caught:
        add_progress(
            world.session, task_id, world.actor("lead"), 10, "进展", [IndicatorValue(1.0, "森林覆盖率")]
        )
    assert caught.value.code == "ambiguous_indicator"
    assert len(caught.value.extra["target_ids"]) == 2


@pytest.mark.parametrize(
    ("attachment", "code"),
    [
        (Attachment("大.zip", MAX_ATTACHMENT_BYTES + 1, "application/zip", SHA), "attachment_too_large"),
        (Attachment("空.txt", 0, "text/plain", SHA), "attachment_invalid"),
        (Attachment("../etc/passwd", 10, "text/plain", SHA), "attachment_invalid"),
        (Attachment("a.pdf", 10, "pdf", SHA), "attachment_invalid"),
        (Attachment("a.pdf", 10, "application/pdf", "xyz"), "attachment_invalid"),
    ],
)
def test_attachment_metadata_is_checked(world: World, attachment: Attachment, code: str) -> None:
    task_id = world.task(TaskState.in_progress)
    with pytest.raises(RecordInvalid) as caught:
        add_progress(world.session, task_id, world.actor("lead"), 10, "进展", (), [attachment])
    assert caught.value.code == code
    assert caught.value.extra["field"] == "attachments[0]"


def test_an_attachment_of_exactly_50_mb_is_accepted(world: World) -> None:
    task_id = world.task(TaskState.in_progress)
    big = Attachment("影像.zip", MAX_ATTACHMENT_BYTES, "Application/Zip", SHA.upper())
    report = add_progress(world.session, task_id, world.actor("lead"), 10, "进展", (), [big])
    assert report.attachments[0]["content_type"] == "application/zip"
    assert report.attachments[0]["sha256"] == SHA


def test_notification_is_queued_only_after_commit(world: World) -> None:
    sent: list[tuple[str, tuple[Any, ...]]] = []
    with recording_jobs(sent):
        task_id = world.task(TaskState.in_progress)
        world.session.commit()
        sent.clear()
        add_progress(world.session, task_id, world.actor("lead"), 10, "进展")
        assert sent == []
        world.session.commit()
    (event,) = events(world.session, task_id, "progress")
    assert sent == [("duban.notify_task_event", (event.id,))]


# --- contributions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [TaskState.assigned, TaskState.in_progress, TaskState.returned])
def test_a_cooperating_unit_contributes_and_the_lead_sees_it(world: World, state: TaskState) -> None:
    task_id = world.task(state)
    mine = add_contribution(world.session, task_id, world.actor("coop"), "已落实配套资金", 30, [PDF])
    assert (mine.kind, mine.department_id, mine.percent) == (ReportKind.contribution, world.ids["coop"], 30)
    assert [e.actor_department_id for e in events(world.session, task_id, "contribution")] == [
        world.ids["coop"]
    ]
    for reader in ("lead", "office"):  # after 退回 the lead's final report is listed too
        reports = list_reports(world.session, task_id, world.actor(reader))
        assert [r.id for r in reports if r.kind is ReportKind.contribution] == [mine.id]


@pytest.mark.parametrize("state", [TaskState.draft, TaskState.submitted, TaskState.completed])
def test_contributions_are_refused_outside_their_states(world: World, state: TaskState) -> None:
    task_id = world.task(state)
    with pytest.raises(RecordNotAllowed) as caught:
        add_contribution(world.session, task_id, world.actor("coop"), "配合情况")
    assert caught.value.code == "contribution_not_allowed"


@pytest.mark.parametrize("who", ["lead", "other", "office"])
def test_only_cooperating_units_contribute(world: World, who: str) -> None:
    task_id = world.task(TaskState.in_progress)
    with pytest.raises(ActionForbidden):
        add_contribution(world.session, task_id, world.actor(who), "配合情况")


def test_who_reads_which_reports(world: World) -> None:
    task_id = world.task(TaskState.in_progress)
    progress = add_progress(world.session, task_id, world.actor("lead"), 20, "进展")
    first = add_contribution(world.session, task_id, world.actor("coop"), "配合一")
    second = add_contribution(world.session, task_id, world.actor("coop2"), "配合二")
    everything = [progress.id, first.id, second.id]
    assert [r.id for r in list_reports(world.session, task_id, world.actor("lead"))] == everything
    assert [r.id for r in list_reports(world.session, task_id, world.actor("office"))] == everything
    assert [r.id for r in list_reports(world.session, task_id, world.actor("coop"))] == [
        progress.id,
        first.id,
    ]
    assert [r.id for r in list_reports(world.session, task_id, world.actor("coop2"))] == [
        progress.id,
        second.id,
    ]
    only = list_reports(world.session, task_id, world.actor("lead"), kind=ReportKind.contribution)
    assert [r.id for r in only] == [first.id, second.id]
    assert [r.id for r in list_reports(world.session, task_id, world.actor("lead"), after_id=first.id)] == [
        second.id
    ]
    with pytest.raises(ActionForbidden):
        list_reports(world.session, task_id, world.actor("other"))
