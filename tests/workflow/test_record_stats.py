"""Scoring inputs per department, computed in SQL, on a small history lived through on its dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from duban.tasks.enums import SupervisionLevel, TaskState
from duban.tasks.models import Task
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.records import DepartmentStats, decide_extension, department_stats, request_extension
from tests.fixtures.records import World, build_scored, build_world


@pytest.fixture
def world(departments: Session, clock_at: Callable[[Any], None]) -> World:
    """Departments (lead 生态环境厅, cooperating 发展改革委 and 林业和草原局, unrelated 水利厅), a plan, 2025-10-15."""
    return build_world(departments, clock_at)


# --- statistics -------------------------------------------------------------------------------------------


@pytest.fixture
def scored(world: World, clock_at: Callable[[Any], None]) -> World:
    """The small history of `build_scored`."""
    return build_scored(world, clock_at)


def _by_code(rows: list[DepartmentStats]) -> dict[str, DepartmentStats]:
    return {row.code: row for row in rows}


def test_department_stats_on_a_small_history(scored: World) -> None:
    stats = _by_code(department_stats(scored.session))
    assert set(stats) == {"sthjt", "fgw"}
    a = stats["sthjt"]
    assert (a.tasks_led, a.completed, a.completed_on_time, a.due) == (5, 2, 1, 4)
    assert a.on_time_rate == 0.25
    assert (a.overdue_now, a.overdue_now_days, a.overdue_now_working_days) == (1, 19, 9)
    assert (a.late_tasks, a.days_late_total, a.days_late_avg) == (3, 74, 24.67)
    assert a.working_days_late_total == 2 + 9 + 29
    assert (a.returns, a.extensions_requested, a.extensions_granted) == (1, 2, 1)
    assert a.highest_level is SupervisionLevel.supervised
    b = stats["fgw"]
    assert (b.tasks_led, b.completed, b.completed_on_time, b.due, b.on_time_rate) == (1, 1, 0, 1, 0.0)
    assert (b.late_tasks, b.days_late_total, b.working_days_late_total, b.overdue_now) == (1, 1, 1, 0)
    assert (b.returns, b.extensions_requested, b.highest_level) == (0, 0, SupervisionLevel.none)


def test_working_day_numbers_agree_with_the_calendar(scored: World) -> None:
    calendar = WorkingCalendar.from_bundled()
    assert calendar.working_days_between(dt.date(2025, 9, 30), dt.date(2025, 10, 10)) == 2
    assert calendar.working_days_between(dt.date(2025, 9, 26), dt.date(2025, 10, 15)) == 9
    assert calendar.working_days_between(dt.date(2025, 8, 31), dt.date(2025, 10, 15)) == 29


def test_department_stats_for_a_period_and_one_department(scored: World) -> None:
    summer = _by_code(department_stats(scored.session, dt.date(2025, 7, 1), dt.date(2025, 9, 30)))
    assert set(summer) == {"sthjt"}
    a = summer["sthjt"]  # T2, T3, T4
    assert (a.tasks_led, a.completed, a.completed_on_time, a.due, a.days_late_total) == (3, 1, 0, 3, 74)
    assert a.on_time_rate == 0.0
    assert (a.returns, a.extensions_requested, a.extensions_granted) == (1, 1, 1)
    only = department_stats(scored.session, department_id=scored.ids["coop"])
    assert [row.code for row in only] == ["fgw"]
    assert department_stats(scored.session, dt.date(2030, 1, 1), None) == []


def test_stats_before_anything_is_late(world: World) -> None:
    world.task(TaskState.in_progress, dt.date(2025, 12, 31))
    (row,) = department_stats(world.session)
    assert (row.due, row.on_time_rate, row.late_tasks, row.days_late_avg, row.working_days_late_total) == (
        0,
        None,
        0,
        None,
        0,
    )


def test_a_level_reset_by_a_grant_still_counts_as_reached(world: World) -> None:
    task_id = world.task(TaskState.in_progress, dt.date(2025, 10, 31))
    world.session.execute(
        sa.update(Task).where(col(Task.id) == task_id).values(supervision_level=SupervisionLevel.urged)
    )
    asked = request_extension(world.session, task_id, world.actor("lead"), dt.date(2025, 12, 31), "理由")
    assert asked.id is not None
    decide_extension(world.session, asked.id, world.actor("office"), grant=True)
    (row,) = department_stats(world.session)
    assert row.highest_level is SupervisionLevel.urged
