"""The scheduler's ladder moves (`raise_levels`): one statement on PostgreSQL, the row-locking path for
what it leaves; the same moves, positions and events on both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from duban.tasks.models import Task
from duban.workflow.errors import WorkflowError
from duban.workflow.machines import Rung
from duban.workflow.sweep import LadderTarget, raise_levels
from duban.workflow.sweep.ladder import POSITIONS
from tests.notifications.scenario import Scenario, at, open_scenario

DEADLINE = dt.date(2025, 9, 30)
NOW = at("2025-10-20T09:00")


@pytest.fixture
def scene(session: Session) -> Iterator[Scenario]:
    yield from open_scenario(session)


def _place(scene: Scenario, task_id: int, level: str, colour: str | None) -> None:
    scene.session.execute(
        sa.update(Task).where(col(Task.id) == task_id).values(supervision_level=level, notice_colour=colour)
    )


def _version(scene: Scenario, task_id: int) -> int:
    return int(
        scene.session.execute(sa.select(col(Task.version)).where(col(Task.id) == task_id)).scalar_one()
    )


def test_every_position_below_the_target_climbs_with_its_event_and_the_rest_stay(scene: Scenario) -> None:
    tasks = {
        name: scene.task(DEADLINE, issued="2025-09-01T09:00") for name in ("none", "blue", "urged", "red")
    }
    _place(scene, tasks["blue"], "supervised", "blue")
    _place(scene, tasks["urged"], "urged", "blue")  # a colour kept from an earlier notice: still urged
    _place(scene, tasks["red"], "supervised", "red")
    versions = {name: _version(scene, task_id) for name, task_id in tasks.items()}
    target = LadderTarget(Rung.supervised_orange, "deadline", "supervise_orange", "2025-09-30")
    moved = raise_levels(scene.session, dict.fromkeys(tasks.values(), target), NOW)
    assert moved == 3
    for name in ("none", "blue", "urged"):
        assert scene.level(tasks[name]) == ("supervised", "orange")
        assert _version(scene, tasks[name]) == versions[name] + 1
    assert scene.level(tasks["red"]) == ("supervised", "red")  # never down
    assert _version(scene, tasks["red"]) == versions["red"]
    assert scene.events(tasks["red"], "supervise") == []
    (event,) = scene.events(tasks["none"], "supervise")
    assert (event.from_level, event.to_level, event.created_at) == ("none", "supervised", NOW)
    assert event.actor_label == "调度程序 / scheduler"
    assert event.data == {
        "rule": "deadline",
        "step": "supervise_orange",
        "period": "2025-09-30",
        "from_rung": "none",
        "to_rung": "supervised_orange",
        "colour": "orange",
        "actions": ["supervise", "supervise"],
    }
    (event,) = scene.events(tasks["blue"], "supervise")
    assert (event.data["from_rung"], event.data["actions"]) == ("supervised_blue", ["supervise"])
    (event,) = scene.events(tasks["urged"], "supervise")
    assert (event.data["from_rung"], event.data["actions"]) == ("urged", ["supervise", "supervise"])


def test_a_move_without_a_colour_keeps_the_stored_one(scene: Scenario) -> None:
    task = scene.task(DEADLINE, issued="2025-09-01T09:00")
    _place(scene, task, "reminded", "red")
    target = LadderTarget(Rung.urged, "report", "urge", "monthly:2025-09")
    assert raise_levels(scene.session, {task: target}, NOW) == 1
    assert scene.level(task) == ("urged", "red")
    (event,) = scene.events(task, "urge")
    assert (event.data["from_rung"], event.data["colour"], event.data["period"]) == (
        "reminded",
        None,
        "monthly:2025-09",
    )


def test_a_position_that_names_no_rung_is_refused_as_before(scene: Scenario) -> None:
    task = scene.task(DEADLINE, issued="2025-09-01T09:00")
    _place(scene, task, "supervised", None)  # supervised without a colour: no rung
    assert ("supervised", None) not in {(level.value, colour) for level, colour in POSITIONS}
    target = LadderTarget(Rung.supervised_red, "deadline", "supervise_red", "2025-09-30")
    with pytest.raises(WorkflowError):
        raise_levels(scene.session, {task: target}, NOW)
