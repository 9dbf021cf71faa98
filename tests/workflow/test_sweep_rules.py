"""The sweep's rules one by one: what stops, pauses and re-times the ladder; contributions; recurring
reports; late issue; missed sweeps; several leads; webhooks; policy versions; event notices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from duban.core import clock
from duban.notifications.events import notify_plan_issued, notify_task_event
from duban.notifications.models import OutboxStatus
from duban.notifications.outbox import run_sweep
from duban.tasks.models import Department
from duban.workflow.issuing import issue_plan
from duban.workflow.policy import bundled_policy, parse_policy
from duban.workflow.records import add_contribution, add_progress, decide_extension, request_extension
from tests.fixtures.policies import freeze_onto
from tests.notifications.scenario import Scenario, at, deliver_at, open_scenario

D = dt.date
DEADLINE = D(2025, 9, 30)


@pytest.fixture
def scene(session: Session) -> Iterator[Scenario]:
    yield from open_scenario(session)


def steps(scene: Scenario, task_id: int, rule: str = "deadline") -> list[str]:
    return [row.step for row in scene.outbox(task_id=task_id, rule=rule)]


def test_submission_pauses_return_resumes_and_approval_stops(scene: Scenario) -> None:
    task = scene.task(DEADLINE, issued="2025-09-01T09:00")
    scene.sweep("2025-10-09T09:00")
    assert steps(scene, task) == ["urge"]
    scene.act(task, "submit", "lead", "2025-10-09T11:00")
    scene.sweep("2025-10-11T09:00")  # blue would be due; the office has the file
    assert steps(scene, task) == ["urge"]
    scene.act(task, "return", "office", "2025-10-13T10:00", reason="材料不全")
    scene.sweep("2025-10-13T11:00")
    assert steps(scene, task) == ["urge", "supervise_blue"]
    assert scene.level(task) == ("supervised", "blue")
    scene.act(task, "submit", "lead", "2025-10-14T10:00")
    scene.act(task, "approve", "office", "2025-10-14T11:00")
    for day in ("2025-10-15", "2025-10-21", "2025-10-28", "2025-11-18"):
        scene.sweep(f"{day}T09:00")
    assert steps(scene, task) == ["urge", "supervise_blue"]
    assert scene.level(task) == ("supervised", "blue")  # completion keeps the history


def test_cancellation_stops_and_undelivered_notices_are_dropped(scene: Scenario) -> None:
    task = scene.task(DEADLINE, issued="2025-09-01T09:00")
    scene.sweep("2025-10-11T00:05")  # blue, written at night, waiting for office hours
    scene.act(task, "cancel", "office", "2025-10-11T07:00", reason="政策调整")
    deliver_at(scene, "2025-10-11T09:00")
    (blue,) = scene.outbox(task_id=task, step="supervise_blue")
    assert blue.status == OutboxStatus.skipped
    scene.sweep("2025-10-15T09:00")
    assert steps(scene, task) == ["supervise_blue"]


def test_granted_extension_restarts_the_ladder_from_the_new_deadline(scene: Scenario) -> None:
    task = scene.task(DEADLINE, issued="2025-09-01T09:00")
    scene.sweep("2025-09-24T09:00")
    assert steps(scene, task) == ["remind_5"]
    clock.set_now(at("2025-09-25T10:00"))
    asked = request_extension(scene.session, task, scene.actor("lead"), D(2025, 11, 28), "设备到货延迟")
    scene.sweep("2025-10-09T09:00")  # not decided yet: the ladder runs on the deadline in force
    assert steps(scene, task)[-1] == "urge"
    assert scene.level(task) == ("urged", None)
    clock.set_now(at("2025-10-10T10:00"))
    assert asked.id is not None
    decide_extension(scene.session, asked.id, scene.actor("office"), grant=True, reason="同意")
    scene.session.commit()
    assert scene.level(task) == ("none", None)
    # The new deadline is Friday 11-28: reminders on 11-21 and 11-25, 催办 on Monday 12-01.
    for day in ("2025-10-11", "2025-11-20", "2025-11-21", "2025-11-25", "2025-12-01"):
        scene.sweep(f"{day}T09:00")
    rows = scene.outbox(task_id=task, rule="deadline")
    assert [(row.step, row.period) for row in rows] == [
        ("remind_5", "2025-09-30"),
        ("urge", "2025-09-30"),
        ("remind_5", "2025-11-28"),
        ("remind_3", "2025-11-28"),
        ("urge", "2025-11-28"),
    ]
    assert scene.level(task) == ("urged", None)


def test_contribution_stops_once_the_unit_reports(scene: Scenario) -> None:
    task = scene.task(DEADLINE, issued="2025-09-01T09:00", cooperating=("coop", "coop2"))
    scene.sweep("2025-09-19T09:00")
    clock.set_now(at("2025-09-22T10:00"))
    add_contribution(scene.session, task, scene.actor("coop"), "已完成配合工作")
    for day in ("2025-09-23", "2025-09-25"):
        scene.sweep(f"{day}T09:00")
    by_unit = sorted((row.step, row.department_id) for row in scene.outbox(task_id=task, rule="contribution"))
    assert by_unit == sorted(
        [
            ("contribution_remind_3", scene.ids["coop"]),
            ("contribution_remind_3", scene.ids["coop2"]),
            ("contribution_remind_1", scene.ids["coop2"]),
            ("contribution_urge_1", scene.ids["coop2"]),
        ]
    )
    # A unit's lateness is not the lead's ladder: only the deadline's own reminder (09-24) moved it.
    assert [event.data["rule"] for event in scene.events(task, "remind", "urge", "supervise")] == ["deadline"]


def test_monthly_report_obligation_follows_the_ladder(scene: Scenario) -> None:
    task = scene.task(D(2026, 6, 30), issued="2025-08-20T09:00", recurrence="monthly")
    # August's report is due on the fifth working day of September (09-05).
    scene.sweep("2025-08-29T09:00")
    clock.set_now(at("2025-09-03T10:00"))
    add_progress(scene.session, task, scene.actor("lead"), 30, "八月进展")
    scene.sweep("2025-09-08T09:00")
    assert [(row.period, row.step) for row in scene.outbox(task_id=task, rule="report")] == [
        ("monthly:2025-08", "remind_5"),
    ]
    # September's report is due 10-14 (国庆, and the 调休 Saturday 10-11 counts): the August report made
    # on 09-03 does not cover it, nothing arrives, so the ladder climbs.
    for day in ("2025-09-30", "2025-10-14", "2025-10-15", "2025-10-17"):
        scene.sweep(f"{day}T09:00")
    assert [(row.period, row.step) for row in scene.outbox(task_id=task, rule="report")][1:] == [
        ("monthly:2025-09", "remind_5"),
        ("monthly:2025-09", "remind_1"),
        ("monthly:2025-09", "urge"),
        ("monthly:2025-09", "supervise_blue"),
    ]
    assert scene.level(task) == ("supervised", "blue")
    assert scene.outbox(task_id=task, rule="deadline") == []


def test_task_issued_after_its_deadline_counts_from_the_issue_day(scene: Scenario) -> None:
    task = scene.task(D(2020, 12, 31), issued="2025-10-13T09:00")
    scene.sweep("2025-10-13T10:00")
    assert steps(scene, task) == []  # no reminders for a deadline it never saw, no 问责 on day one
    scene.sweep("2025-10-14T09:00")
    assert steps(scene, task) == ["urge"]
    assert [row.period for row in scene.outbox(task_id=task, rule="deadline")] == ["2020-12-31"]


def test_missed_sweeps_send_only_the_step_the_task_stands_at(scene: Scenario) -> None:
    task = scene.task(DEADLINE, issued="2025-09-01T09:00")
    scene.sweep("2025-10-16T09:00")  # the scheduler was down since before the deadline
    assert steps(scene, task) == ["supervise_orange"]
    (event,) = scene.events(task, "supervise")
    assert (event.from_level, event.to_level) == ("none", "supervised")
    assert event.data["actions"] == ["supervise", "supervise"]
    assert scene.level(task) == ("supervised", "orange")
    # Beyond the catch-up horizon (10 working days after the last step) nothing is sent late.
    stale = scene.task(D(2025, 6, 30), issued="2025-06-02T09:00")
    scene.sweep("2025-10-17T09:00")
    assert steps(scene, stale) == []


def test_every_lead_is_told_and_the_office_once(scene: Scenario) -> None:
    task = scene.task(DEADLINE, issued="2025-09-01T09:00", leads=("lead", "coop2"), cooperating=())
    scene.sweep("2025-10-09T09:00")
    scene.sweep("2025-10-28T09:00")
    rows = scene.outbox(task_id=task, rule="deadline")
    assert sorted((row.step, row.department_id) for row in rows) == sorted(
        [
            ("urge", scene.ids["lead"]),
            ("urge", scene.ids["coop2"]),
            ("propose_interview", scene.ids["office"]),
        ]
    )
    assert len(scene.events(task, "urge")) == 1  # one ladder move however many leads


def test_a_department_with_a_robot_gets_the_webhook_too(scene: Scenario) -> None:
    scene.session.execute(
        sa.update(Department)
        .where(col(Department.id) == scene.ids["lead"])
        .values(webhook="https://oapi.dingtalk.com/robot/send?access_token=t", webhook_secret="SEC1")
    )
    task = scene.task(DEADLINE, issued="2025-09-01T09:00")
    scene.sweep("2025-10-11T09:00")
    rows = scene.outbox(task_id=task, step="supervise_blue")
    assert [(row.channel, row.recipient) for row in rows] == [
        ("email", "sthjt@duban.example"),
        ("webhook", "https://oapi.dingtalk.com/robot/send?access_token=t"),
    ]
    assert len({row.dedupe_key for row in rows}) == 2
    assert scene.sent_jobs[-1][0] == "duban.deliver"
    assert sorted(scene.sent_jobs[-1][1]) == sorted(row.id or 0 for row in rows)


def test_each_task_keeps_the_policy_it_was_issued_under(scene: Scenario) -> None:
    old = scene.task(DEADLINE, issued="2025-09-01T09:00")
    data = bundled_policy().to_mapping()
    data["version"] = bundled_policy().version + 1
    data["deadline"]["ladder"] = [{"after": 2, "step": "urge"}, {"after": 4, "step": "supervise_red"}]
    strict = parse_policy(data)
    freeze_onto(scene.session, old, bundled_policy())
    new = scene.task(DEADLINE, issued="2025-09-01T09:00")
    freeze_onto(scene.session, new, strict)
    for day in ("2025-10-09", "2025-10-10", "2025-10-13"):
        clock.set_now(at(f"{day}T09:00"))
        result = run_sweep(scene.session, policy=strict)
        scene.session.commit()
        assert result.versions == [bundled_policy().version, strict.version]
    assert steps(scene, old) == ["urge", "supervise_blue"]
    assert steps(scene, new) == ["urge", "supervise_red"]


def test_lazy_freeze_and_event_notices(scene: Scenario) -> None:
    plan_task = scene.task(DEADLINE)
    clock.set_now(at("2025-09-01T09:00"))
    issued = issue_plan(scene.session, scene.plan_id, scene.actor("office"))
    assert issued == [plan_task]
    scene.session.commit()
    assert scene.sent_jobs == [("duban.notify_plan_issued", (scene.plan_id,))]
    result = scene.sweep("2025-09-01T10:00")
    assert result.frozen == 0  # issue_plan froze the policy in force when it issued the task
    assert notify_plan_issued(scene.session, scene.plan_id) == 1
    assert notify_plan_issued(scene.session, scene.plan_id) == 0  # the event id keys it: once only
    (notice,) = scene.outbox(task_id=plan_task, rule="event")
    assert (notice.step, notice.delivery, notice.department_id) == ("issue", "digest", scene.ids["lead"])
    assert "3 个工作日内签收" in notice.payload["headline"]
    scene.act(plan_task, "accept", "lead", "2025-09-02T09:00")
    scene.act(plan_task, "submit", "lead", "2025-09-02T10:00")
    submit = scene.events(plan_task, "submit")[0]
    assert submit.id is not None
    assert notify_task_event(scene.session, submit.id) == 1
    (to_office,) = [row for row in scene.outbox(task_id=plan_task, rule="event") if row.step == "submit"]
    assert to_office.department_id == scene.ids["office"]
    accept = scene.events(plan_task, "accept")[0]
    assert accept.id is not None
    assert notify_task_event(scene.session, accept.id) == 0  # nobody needs a mail for a 签收
