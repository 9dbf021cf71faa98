"""Two sweeps at once (two beats by mistake) on PostgreSQL: every notice and every ladder move once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from duban.core import clock
from duban.core.db import build_engine
from duban.notifications.outbox import SweepResult, department_t, outbox_t, run_sweep
from duban.tasks.departments import load_departments
from duban.tasks.enums import AssignmentRole, LeadSource, TaskState
from duban.tasks.models import Plan, TaskAssignment
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.policy import task_t
from duban.workflow.sweep.ladder import event_t
from tests.conftest import database_url_for
from tests.notifications.scenario import at

TASKS = 3000
CALENDAR = WorkingCalendar.from_bundled()
assignment_t = TaskAssignment.__table__  # type: ignore[attr-defined]


@pytest.fixture
def pg_engine(tmp_path: Path) -> Iterator[Engine]:
    urls = database_url_for("postgres", tmp_path)
    url = next(urls)
    engine = build_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        next(urls, None)


def _populate(engine: Engine) -> None:
    """TASKS in-progress tasks whose deadlines spread over every step of the ladder on 2025-10-28."""
    with Session(engine) as session:
        load_departments(session)
        session.flush()
        departments = [
            row.id for row in session.execute(sa.select(department_t.c.id).order_by(department_t.c.id))
        ]
        plan = Plan(key="race", title="并发测试", content_hash="0" * 64)
        session.add(plan)
        session.flush()
        issued = at("2025-06-02T09:00")
        deadlines = [CALENDAR.add_working_days(dt.date(2025, 10, 28), -n).date for n in range(-8, 34)]
        task_rows: list[dict[str, object]] = [
            {
                "plan_id": plan.id,
                "title": f"任务{i}",
                "state": TaskState.in_progress.value,
                "supervision_level": "none",
                "deadline": deadlines[i % len(deadlines)],
                "original_deadline": deadlines[i % len(deadlines)],
                "version": 3,
                "issued_at": issued,
                "accepted_at": issued,
                "created_at": issued,
                "updated_at": issued,
                "region_code": str(i),
            }
            for i in range(TASKS)
        ]
        ids = session.execute(task_t.insert().returning(task_t.c.id), task_rows).scalars().all()
        session.execute(
            assignment_t.insert(),
            [
                {
                    "task_id": task_id,
                    "department_id": departments[(n + offset) % len(departments)],
                    "role": (AssignmentRole.lead if offset < 2 else AssignmentRole.cooperating).value,
                    "source": LeadSource.explicit.value,
                    "evidence": [],
                    "position": offset,
                }
                for n, task_id in enumerate(ids)
                for offset in range(1 if n % 3 else 3)
            ],
        )
        session.commit()


def _sweep_twice_at_once(engine: Engine, moment: dt.datetime) -> list[SweepResult]:
    barrier = threading.Barrier(2)
    results: list[SweepResult] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            with Session(engine) as session:
                session.connection()  # both connections open before either starts
                barrier.wait(timeout=30)
                result = run_sweep(session, moment)
                time.sleep(0.05)  # hold the transaction a moment so the other one collides with it
                session.commit()
                results.append(result)
        except BaseException as error:  # re-raised in the test thread
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == 2
    return results


def test_two_concurrent_sweeps_write_each_notice_once(pg_engine: Engine) -> None:
    _populate(pg_engine)
    inserted = 0
    for day in ("2025-10-27", "2025-10-28"):
        clock.set_now(at(f"{day}T09:00"))
        results = _sweep_twice_at_once(pg_engine, at(f"{day}T09:00"))
        inserted += sum(result.notices for result in results)
        assert sum(result.moved for result in results) == max(result.moved for result in results)
    with Session(pg_engine) as session:
        rows = session.execute(
            sa.select(
                outbox_t.c.task_id,
                outbox_t.c.rule,
                outbox_t.c.step,
                outbox_t.c.period,
                outbox_t.c.department_id,
                outbox_t.c.channel,
            )
        ).all()
        assert len(rows) == inserted > TASKS  # every step of the ladder is represented
        duplicates = [key for key, count in Counter(rows).items() if count > 1]
        assert duplicates == []
        rung = event_t.c.data["to_rung"].as_string()
        moves = session.execute(
            sa.select(event_t.c.task_id, rung, sa.func.count())
            .where(event_t.c.actor_label.like("调度%"))
            .group_by(event_t.c.task_id, rung)
            .having(sa.func.count() > 1)
        ).all()
        assert moves == []
        steps = Counter(step for _, _, step, *_ in rows)
        assert {"remind_5", "urge", "supervise_blue", "supervise_red", "propose_interview"} <= set(steps)
        # Each ladder move bumped the version once: version = 3 + the task's scheduler events.
        events = (
            sa.select(sa.func.count())
            .where(event_t.c.task_id == task_t.c.id, event_t.c.actor_label.like("调度%"))
            .scalar_subquery()
        )
        mismatched = session.execute(sa.select(task_t.c.id).where(task_t.c.version != 3 + events)).all()
        assert mismatched == []
