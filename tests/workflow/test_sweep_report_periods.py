"""Recurring reports with two live periods of one frequency in one sweep: each period at its own step, its
own issue and deadline bounds and its own "already reported" window (one SELECT per frequency).

On 2025-10-15 two monthly periods are live: August's report, due 09-05, stands at its 约谈 proposal (15
working days late, to the office); September's, due 10-14 (国庆 and the 调休 Saturday 10-11 count), at
its first 催办 (to the lead). A progress report counts for a period from the day after the previous
period's report fell due: 08-08 for August (July's was due 08-07), 09-06 for September.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from duban.core import clock
from duban.workflow.records import add_progress
from tests.notifications.scenario import Scenario, at, open_scenario

D = dt.date
FAR = D(2026, 6, 30)
AUGUST = ("monthly:2025-08", "propose_interview", "office", D(2025, 9, 5), 6, "immediate")
SEPTEMBER = ("monthly:2025-09", "urge", "lead", D(2025, 10, 14), 2, "digest")


@pytest.fixture
def scene(session: Session) -> Iterator[Scenario]:
    yield from open_scenario(session)


def _reported(scene: Scenario, task_id: int, moment: str) -> None:
    clock.set_now(at(moment))
    add_progress(scene.session, task_id, scene.actor("lead"), 40, "本月进展")
    scene.session.flush()


def _report_notices(scene: Scenario, task_id: int) -> list[tuple[object, ...]]:
    """(period, step, addressee, due, urgency, delivery) of the task's report e-mails, by period."""
    names: dict[int | None, str] = {department_id: who for who, department_id in scene.ids.items()}
    rows = scene.outbox(task_id=task_id, rule="report", channel="email")
    return sorted(
        (row.period, row.step, names[row.department_id], row.due, row.urgency, row.delivery) for row in rows
    )


def test_two_live_periods_of_one_frequency_in_one_sweep(scene: Scenario) -> None:
    silent = scene.task(FAR, issued="2025-07-21T09:00", recurrence="monthly")
    august_covered = scene.task(FAR, issued="2025-07-21T09:00", recurrence="monthly")
    _reported(scene, august_covered, "2025-09-03T10:00")
    both_covered = scene.task(FAR, issued="2025-07-21T09:00", recurrence="monthly")
    _reported(scene, both_covered, "2025-09-10T10:00")
    issued_in_september = scene.task(FAR, issued="2025-09-10T09:00", recurrence="monthly")
    ended_in_august = scene.task(D(2025, 8, 31), issued="2025-07-21T09:00", recurrence="monthly")

    first = scene.sweep("2025-10-15T09:00")

    assert _report_notices(scene, silent) == [AUGUST, SEPTEMBER]
    assert _report_notices(scene, august_covered) == [SEPTEMBER]
    assert _report_notices(scene, both_covered) == []
    assert _report_notices(scene, issued_in_september) == [SEPTEMBER]
    assert _report_notices(scene, ended_in_august) == [AUGUST]
    assert first.by_step["report:propose_interview"] >= 2
    # The same day again: every notice is there already.
    assert scene.sweep("2025-10-15T15:00").by_step == {}


def test_a_frequency_with_one_live_period_and_another_with_none(scene: Scenario) -> None:
    monthly = scene.task(FAR, issued="2025-07-21T09:00", recurrence="monthly")
    quarterly = scene.task(FAR, issued="2025-07-21T09:00", recurrence="quarterly")
    # On 10-09 August's report stands at its 约谈 proposal and September's at its first reminder; the
    # third quarter's (due 10-21) has no step yet.
    scene.sweep("2025-10-09T09:00")
    assert _report_notices(scene, monthly) == [
        AUGUST,
        ("monthly:2025-09", "remind_5", "lead", D(2025, 10, 14), 1, "digest"),
    ]
    assert _report_notices(scene, quarterly) == []
