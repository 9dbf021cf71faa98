"""Extension requests: before the deadline only, one pending, grant re-times and keeps the original, refusal needs a reason."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from duban.tasks.enums import SupervisionLevel, TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Task
from duban.workflow.errors import ActionForbidden, RecordInvalid, RecordNotAllowed
from duban.workflow.models import ExtensionRequest, ExtensionStatus
from duban.workflow.records import (
    decide_extension,
    list_extensions,
    request_extension,
)
from duban.workflow.service import apply_action
from tests.fixtures.records import World, build_world, events


@pytest.fixture
def world(departments: Session, clock_at: Callable[[Any], None]) -> World:
    """Departments (lead 生态环境厅, cooperating 发展改革委 and 林业和草原局, unrelated 水利厅), a plan, 2025-10-15."""
    return build_world(departments, clock_at)


# --- extensions -------------------------------------------------------------------------------------------


def test_the_lead_asks_before_the_deadline_and_one_request_stays_pending(world: World) -> None:
    task_id = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 31))
    lead = world.actor("lead")
    asked = request_extension(world.session, task_id, lead, dt.date(2025, 12, 31), "  设备到货延迟 ")
    assert (asked.status, asked.current_deadline, asked.reason) == (
        ExtensionStatus.pending,
        dt.date(2025, 10, 31),
        "设备到货延迟",
    )
    (event,) = events(world.session, task_id, "extension_requested")
    assert event.data == {
        "extension_id": asked.id,
        "current_deadline": "2025-10-31",
        "requested_deadline": "2025-12-31",
        "files": 0,
    }
    with pytest.raises(RecordNotAllowed) as again:
        request_extension(world.session, task_id, lead, dt.date(2026, 1, 31), "再次申请")
    assert again.value.code == "extension_pending"
    assert again.value.extra["extension_id"] == asked.id


def test_asking_on_the_deadline_day_is_in_time_the_day_after_is_too_late(
    world: World, clock_at: Callable[[Any], None]
) -> None:
    task_id = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 31))
    clock_at("2025-10-31T23:59")
    request_extension(world.session, task_id, world.actor("lead"), dt.date(2025, 11, 30), "理由")
    late_task = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 31))
    clock_at("2025-11-01T00:01")
    with pytest.raises(RecordInvalid) as caught:
        request_extension(world.session, late_task, world.actor("lead"), dt.date(2025, 11, 30), "理由")
    assert caught.value.code == "extension_too_late"


@pytest.mark.parametrize(
    ("requested", "reason", "code"),
    [
        (dt.date(2025, 10, 31), "理由", "extension_not_later"),
        (dt.date(2025, 10, 1), "理由", "extension_not_later"),
        (dt.date(2025, 12, 31), "  ", "reason_required"),
    ],
)
def test_bad_extension_requests_are_refused(world: World, requested: dt.date, reason: str, code: str) -> None:
    task_id = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 31))
    with pytest.raises(RecordInvalid) as caught:
        request_extension(world.session, task_id, world.actor("lead"), requested, reason)
    assert caught.value.code == code


@pytest.mark.parametrize("who", ["coop", "other", "office"])
def test_only_the_lead_asks_for_an_extension(world: World, who: str) -> None:
    task_id = world.task(TaskState.in_progress)
    with pytest.raises(ActionForbidden):
        request_extension(world.session, task_id, world.actor(who), dt.date(2026, 3, 31), "理由")


@pytest.mark.parametrize("state", [TaskState.draft, TaskState.submitted, TaskState.completed])
def test_extensions_are_asked_only_while_the_task_is_open_work(world: World, state: TaskState) -> None:
    task_id = world.task(state)
    with pytest.raises((RecordNotAllowed, ActionForbidden)) as caught:
        request_extension(world.session, task_id, world.actor("lead"), dt.date(2026, 3, 31), "理由")
    assert caught.value.code in ("extension_not_allowed", "forbidden")


def test_assigned_and_returned_tasks_may_ask(world: World) -> None:
    for state in (TaskState.assigned, TaskState.returned):
        task_id = world.task(state)
        asked = request_extension(world.session, task_id, world.actor("lead"), dt.date(2026, 3, 31), "理由")
        assert asked.status is ExtensionStatus.pending


def _task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    assert task is not None
    session.refresh(task)
    return task


def test_a_grant_re_times_the_task_and_keeps_the_original_deadline(world: World) -> None:
    task_id = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 31))
    asked = request_extension(world.session, task_id, world.actor("lead"), dt.date(2025, 12, 31), "理由")
    # a fixture: the scheduler had already reminded the lead
    world.session.execute(
        sa.update(Task).where(col(Task.id) == task_id).values(supervision_level=SupervisionLevel.reminded)
    )
    version = _task(world.session, task_id).version
    assert asked.id is not None
    decided = decide_extension(world.session, asked.id, world.actor("office"), grant=True, reason="同意")
    assert (decided.status, decided.granted_deadline, decided.decision_reason) == (
        ExtensionStatus.granted,
        dt.date(2025, 12, 31),
        "同意",
    )
    task = world.session.get(Task, task_id)  # expired by the grant, reloaded here
    assert task is not None
    assert (task.deadline, task.original_deadline, task.version) == (
        dt.date(2025, 12, 31),
        dt.date(2025, 10, 31),
        version + 1,
    )
    assert task.supervision_level is SupervisionLevel.none
    (event,) = events(world.session, task_id, "extension_granted")
    assert (event.from_level, event.to_level) == ("reminded", "none")
    assert event.data["previous_deadline"] == "2025-10-31"
    assert event.data["original_deadline"] == "2025-10-31"


def test_a_second_grant_still_keeps_the_first_original_deadline(world: World) -> None:
    task_id = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 31))
    office = world.actor("office")
    first = request_extension(world.session, task_id, world.actor("lead"), dt.date(2025, 11, 30), "理由")
    assert first.id is not None
    decide_extension(world.session, first.id, office, grant=True)
    second = request_extension(world.session, task_id, world.actor("lead"), dt.date(2026, 1, 31), "再延")
    assert second.id is not None
    decide_extension(world.session, second.id, office, grant=True, granted_deadline=dt.date(2025, 12, 31))
    task = _task(world.session, task_id)
    assert (task.deadline, task.original_deadline) == (dt.date(2025, 12, 31), dt.date(2025, 10, 31))
    (_, event) = events(world.session, task_id, "extension_granted")
    assert event.from_level is None and event.to_level is None  # nothing to reset
    assert event.data["granted_deadline"] == "2025-12-31"


def test_a_grant_to_a_day_already_past_keeps_the_ladder(
    world: World, clock_at: Callable[[Any], None]
) -> None:
    task_id = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 20))
    asked = request_extension(world.session, task_id, world.actor("lead"), dt.date(2025, 10, 25), "理由")
    world.session.execute(
        sa.update(Task).where(col(Task.id) == task_id).values(supervision_level=SupervisionLevel.urged)
    )
    clock_at("2025-11-03T09:00")  # the office decides late
    assert asked.id is not None
    decide_extension(world.session, asked.id, world.actor("office"), grant=True)
    task = _task(world.session, task_id)
    assert (task.deadline, task.supervision_level) == (dt.date(2025, 10, 25), SupervisionLevel.urged)


def test_a_refusal_needs_a_reason_and_leaves_the_deadline(world: World) -> None:
    task_id = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 31))
    asked = request_extension(world.session, task_id, world.actor("lead"), dt.date(2025, 12, 31), "理由")
    assert asked.id is not None
    office = world.actor("office")
    with pytest.raises(RecordInvalid) as caught:
        decide_extension(world.session, asked.id, office, grant=False, reason=" ")
    assert caught.value.code == "reason_required"
    version = _task(world.session, task_id).version
    refused = decide_extension(world.session, asked.id, office, grant=False, reason="理由不充分")
    assert (refused.status, refused.granted_deadline) == (ExtensionStatus.refused, None)
    task = _task(world.session, task_id)
    assert (task.deadline, task.version) == (dt.date(2025, 10, 31), version)
    (event,) = events(world.session, task_id, "extension_refused")
    assert event.reason == "理由不充分"
    with pytest.raises(RecordNotAllowed) as twice:
        decide_extension(world.session, asked.id, office, grant=True)
    assert twice.value.code == "extension_already_decided"
    # the refusal frees the task for a new request
    request_extension(world.session, task_id, world.actor("lead"), dt.date(2025, 11, 30), "补充理由")


def test_deciding_is_for_the_office_and_the_granted_day_must_be_later(world: World) -> None:
    task_id = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 31))
    asked = request_extension(world.session, task_id, world.actor("lead"), dt.date(2025, 12, 31), "理由")
    assert asked.id is not None
    for who in ("lead", "coop", "other"):
        with pytest.raises(ActionForbidden):
            decide_extension(world.session, asked.id, world.actor(who), grant=True)
    with pytest.raises(RecordInvalid) as earlier:
        decide_extension(
            world.session, asked.id, world.actor("office"), grant=True, granted_deadline=dt.date(2025, 10, 30)
        )
    assert earlier.value.code == "extension_not_later"
    with pytest.raises(RecordInvalid) as stray:
        decide_extension(
            world.session,
            asked.id,
            world.actor("office"),
            grant=False,
            reason="不同意",
            granted_deadline=dt.date(2025, 12, 1),
        )
    assert stray.value.code == "granted_deadline_unexpected"
    with pytest.raises(NotFoundError):
        decide_extension(world.session, 987_654, world.actor("office"), grant=True)


def test_a_closed_task_cannot_be_extended_but_its_request_can_be_refused(world: World) -> None:
    task_id = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 31))
    asked = request_extension(world.session, task_id, world.actor("lead"), dt.date(2025, 12, 31), "理由")
    assert asked.id is not None
    apply_action(world.session, task_id, "cancel", world.actor("office"), reason="任务调整")
    with pytest.raises(RecordNotAllowed) as caught:
        decide_extension(world.session, asked.id, world.actor("office"), grant=True)
    assert caught.value.code == "extension_not_allowed"
    decide_extension(world.session, asked.id, world.actor("office"), grant=False, reason="任务已撤销")


def test_listing_extensions(world: World) -> None:
    mine = world.task(TaskState.in_progress)
    theirs = world.task(TaskState.in_progress, lead="other", cooperating=())
    a = request_extension(world.session, mine, world.actor("lead"), dt.date(2026, 6, 30), "理由")
    b = request_extension(world.session, theirs, world.actor("other"), dt.date(2026, 6, 30), "理由")
    office = world.actor("office")
    assert [e.id for e in list_extensions(world.session, office, status=ExtensionStatus.pending)] == [
        a.id,
        b.id,
    ]
    assert [e.id for e in list_extensions(world.session, world.actor("lead"))] == [a.id]
    assert [e.id for e in list_extensions(world.session, world.actor("coop"), task_id=mine)] == [a.id]
    with pytest.raises(ActionForbidden):
        list_extensions(world.session, world.actor("lead"), task_id=theirs)


# --- concurrency (PostgreSQL, committed transactions in a database of its own) ----------------------------


@pytest.fixture
def own_postgres(tmp_path: Any) -> Iterator[sa.Engine]:
    """A fresh migrated PostgreSQL database whose commits do not leak into the shared test database."""
    from duban.core.db import build_engine
    from tests.conftest import POSTGRES_URL, database_url_for

    if not POSTGRES_URL:
        pytest.skip("DUBAN_TEST_POSTGRES 未设置 / PostgreSQL tests need DUBAN_TEST_POSTGRES")
    urls = database_url_for("postgres", tmp_path)
    engine = build_engine(next(urls), pool_size=24)
    try:
        yield engine
    finally:
        engine.dispose()
        next(urls, None)


def _race(engine: sa.Engine, attempts: int, work: Callable[[Session], object]) -> list[str]:
    """Run `work` from many threads at once, each in its own committed transaction; 'ok' or the error code."""
    barrier = threading.Barrier(attempts)

    def one() -> str:
        with Session(engine) as session:
            barrier.wait()
            try:
                work(session)
                session.commit()
                return "ok"
            except (RecordNotAllowed, RecordInvalid) as error:
                session.rollback()
                return error.code

    with ThreadPoolExecutor(attempts) as pool:
        return list(pool.map(lambda _: one(), range(attempts)))


@pytest.mark.postgres
def test_concurrent_requests_and_decisions_each_happen_once(
    own_postgres: sa.Engine, clock_at: Callable[[Any], None]
) -> None:
    from duban.tasks.departments import load_departments

    with Session(own_postgres) as session:
        load_departments(session)
        session.flush()
        world = build_world(session, clock_at)
        task_id = world.task(TaskState.in_progress, deadline=dt.date(2025, 10, 31))
        session.commit()
        lead, office = world.actor("lead"), world.actor("office")
    asked = _race(
        own_postgres, 16, lambda s: request_extension(s, task_id, lead, dt.date(2025, 12, 31), "并发申请")
    )
    assert sorted(asked) == ["extension_pending"] * 15 + ["ok"]
    with Session(own_postgres) as session:
        (extension_id,) = session.exec(
            select(ExtensionRequest.id).where(ExtensionRequest.task_id == task_id)
        ).all()
        version = session.exec(select(Task.version).where(Task.id == task_id)).one()
    assert extension_id is not None
    decided = _race(own_postgres, 16, lambda s: decide_extension(s, extension_id, office, grant=True))
    assert sorted(decided) == ["extension_already_decided"] * 15 + ["ok"]
    with Session(own_postgres) as session:
        assert session.exec(select(Task.version).where(Task.id == task_id)).one() == version + 1
        assert len(events(session, task_id, "extension_requested")) == 1
        assert len(events(session, task_id, "extension_granted")) == 1
