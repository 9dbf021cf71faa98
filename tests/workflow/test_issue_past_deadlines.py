"""Issuing a plan whose deadlines are already past (issue 14 item 7): the warning, new deadlines in bulk,
the ladder counted from the issue date, and the board that never says 无 beside an overdue task.

Issue date Monday 2025-09-01; its working days after: 09-02 (1), 09-04 (3), 09-09 (6), 09-15 (10), then
15 and 30 across 国庆 (10-01..10-08 off, Sunday 09-28 worked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from duban.core import clock
from duban.core.config import get_settings
from duban.notifications.calendars import working_calendar
from duban.workflow.board import BoardFilter, PendingRung, board_page
from duban.workflow.issuing import PastDeadlinesFound, issue_plan, past_deadlines, set_deadlines
from duban.workflow.machines import Rung
from tests.notifications.scenario import Scenario, at, open_scenario

OLD = dt.date(2021, 6, 30)
OLDER = dt.date(2019, 12, 31)
FUTURE = dt.date(2025, 12, 31)
ISSUED = "2025-09-01T09:00"


@pytest.fixture
def scene(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scenario]:
    monkeypatch.setenv("DUBAN_MAIL_DIR", str(tmp_path / "mail"))
    get_settings.cache_clear()
    yield from open_scenario(session)


def _drafts(scene: Scenario) -> tuple[int, int, int]:
    return (
        scene.task(OLD, title="2021年底前完成燃煤锅炉整治"),
        scene.task(OLDER, title="2019年底前完成排查"),
        scene.task(FUTURE, title="年底前完成评估"),
    )


def test_past_deadlines_lists_every_draft_due_before_the_issue_date(scene: Scenario) -> None:
    old, older, _ = _drafts(scene)
    clock.set_now(at(ISSUED))
    found = past_deadlines(scene.session, scene.plan_id, working_calendar(scene.session))
    assert [(p.task_id, p.deadline) for p in found] == [(older, OLDER), (old, OLD)]
    calendar = working_calendar(scene.session)
    assert found[1].working_days_overdue == calendar.working_days_between(OLD, dt.date(2025, 9, 1)) > 1000
    assert "已过" in found[1].message()[0] and "passed" in found[1].message()[1]


def test_issuing_refuses_unconfirmed_past_deadlines_and_writes_nothing(scene: Scenario) -> None:
    old, older, future = _drafts(scene)
    clock.set_now(at(ISSUED))
    with pytest.raises(PastDeadlinesFound) as refused:
        issue_plan(scene.session, scene.plan_id, scene.actor("office"), confirm_past_deadlines=False)
    assert refused.value.code == "past_deadlines"
    assert [t["id"] for t in refused.value.extra["tasks"]] == [older, old]
    assert "有 2 项任务的完成时限早于交办日期" in refused.value.message_zh
    assert scene.events(old) == [] and scene.events(future) == []


def test_new_deadlines_in_bulk_are_audited_then_the_plan_issues(scene: Scenario) -> None:
    old, older, future = _drafts(scene)
    clock.set_now(at(ISSUED))
    new = dt.date(2025, 10, 31)
    assert sorted(
        set_deadlines(scene.session, scene.plan_id, {old: new, older: new}, remark="重定")
    ) == sorted([old, older])
    edit = scene.events(old, "edit")[0]
    assert edit.data["before"]["deadline"] == OLD.isoformat()
    assert edit.data["after"]["deadline"] == new.isoformat()
    assert edit.data["via"] == "bulk" and edit.reason == "重定"
    assert past_deadlines(scene.session, scene.plan_id, working_calendar(scene.session)) == []
    issued = issue_plan(scene.session, scene.plan_id, scene.actor("office"), confirm_past_deadlines=False)
    assert sorted(issued) == sorted([old, older, future])


def test_confirmed_past_deadlines_issue_and_the_event_says_the_ladder_starts_today(scene: Scenario) -> None:
    old, _, future = _drafts(scene)
    clock.set_now(at(ISSUED))
    issue_plan(scene.session, scene.plan_id, scene.actor("office"), confirm_past_deadlines=True)
    (late,) = scene.events(old, "issue")
    assert late.data == {"plan_id": scene.plan_id, "past_deadline": True, "ladder_from": "2025-09-01"}
    (on_time,) = scene.events(future, "issue")
    assert on_time.data == {"plan_id": scene.plan_id}


def test_a_task_overdue_when_issued_climbs_the_ladder_from_the_issue_date(scene: Scenario) -> None:
    old, _, future = _drafts(scene)
    clock.set_now(at(ISSUED))
    issue_plan(scene.session, scene.plan_id, scene.actor("office"))
    scene.session.commit()
    calendar = working_calendar(scene.session)
    issue_day = dt.date(2025, 9, 1)
    ladder = (
        (1, "urge"),
        (3, "supervise_blue"),
        (6, "supervise_orange"),
        (10, "supervise_red"),
        (15, "propose_interview"),
        (30, "propose_accountability"),
    )
    expected = {calendar.add_working_days(issue_day, after).date.isoformat(): step for after, step in ladder}
    assert expected["2025-09-02"] == "urge" and expected["2025-09-15"] == "supervise_red"
    raised: dict[str, list[str]] = {}
    levels: dict[str, Rung | PendingRung] = {}
    day = issue_day
    while day <= dt.date(2025, 10, 31):
        result = scene.sweep(f"{day.isoformat()}T09:00")
        steps = [step.split(":")[1] for step in result.by_step if step.startswith("deadline:")]
        if steps:
            raised[day.isoformat()] = steps
        (row,) = board_page(scene.session, BoardFilter(task_ids=(old,)), calendar).rows
        levels[day.isoformat()] = row.rung
        day += dt.timedelta(days=1)
    assert raised == {d: [s] for d, s in expected.items()}
    assert levels["2025-09-01"] is PendingRung.urge_due  # overdue, not yet urged: never 无
    assert levels["2025-09-02"] is Rung.urged
    assert levels["2025-09-04"] is Rung.supervised_blue
    assert levels["2025-09-09"] is Rung.supervised_orange
    assert levels["2025-09-15"] is Rung.supervised_red
    moves = [(e.from_level, e.to_level) for e in scene.events(old) if e.actor_label.startswith("调度")]
    assert moves[0] == ("none", "urged")  # no reminder for a deadline the task never saw ahead of it
    assert all(e.kind != "remind" for e in scene.events(old))
    assert scene.level(future) == ("reminded", None)  # 签收提醒 only: its own deadline is months away


def test_the_board_never_shows_none_beside_an_overdue_task(scene: Scenario) -> None:
    old, _, future = _drafts(scene)
    clock.set_now(at(ISSUED))
    issue_plan(scene.session, scene.plan_id, scene.actor("office"))
    calendar = working_calendar(scene.session)
    rows = {r.id: r for r in board_page(scene.session, BoardFilter(plan_id=scene.plan_id), calendar).rows}
    assert rows[old].light == "red" and rows[old].rung is PendingRung.urge_due
    assert rows[old].rung.label == "待催办" and rows[old].level.value == "none"
    assert rows[future].light == "green" and rows[future].rung is Rung.none
    shown = [r.rung for r in rows.values() if r.light == "red"]
    assert Rung.none not in shown
