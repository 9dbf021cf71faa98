"""Builders for the scheduler tests: departments, tasks issued at a moment, sweeps at a moment, the outbox."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from duban.core import clock, jobs
from duban.notifications.models import NotificationOutbox
from duban.notifications.outbox import SweepResult, run_sweep
from duban.tasks.enums import AssignmentRole, Role
from duban.tasks.models import Department, Measure, MeasureKind, Plan, Task, TaskEvent
from duban.workflow.machines import Actor
from duban.workflow.service import apply_action
from tests.fixtures.evidence import ready_to_submit
from tests.fixtures.records import assign

CODES = {"lead": "sthjt", "coop": "fgw", "coop2": "lcj", "other": "slt", "office": "sthbwbgs"}
_serial = itertools.count(1)


def at(moment: str | dt.datetime) -> dt.datetime:
    """A moment in Asia/Shanghai ("2025-10-09T09:00")."""
    parsed = dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=clock.TZ)


@dataclass
class Scenario:
    """Departments of the bundled registry and a plan to hang tasks on."""

    session: Session
    ids: dict[str, int]
    plan_id: int
    sent_jobs: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def actor(self, who: str) -> Actor:
        """office, or a department by its role in CODES."""
        if who == "office":
            return Actor(role=Role.office)
        return Actor(role=Role.department, department_id=self.ids[who])

    def task(
        self,
        deadline: dt.date,
        *,
        issued: str | None = None,
        accept: bool = True,
        leads: tuple[str, ...] = ("lead",),
        cooperating: tuple[str, ...] = ("coop",),
        recurrence: str | None = None,
        title: str = "推进燃煤锅炉整治",
    ) -> int:
        """A task issued at `issued` (and signed for then unless accept=False)."""
        measure_id = None
        if recurrence:
            measure = Measure(
                plan_id=self.plan_id,
                kind=MeasureKind.measure,
                path=[str(next(_serial))],
                path_key=uuid.uuid4().hex,
                title=title,
                recurrence={"frequency": recurrence, "text": "每月报送"},
            )
            self.session.add(measure)
            self.session.flush()
            measure_id = measure.id
        task = Task(
            plan_id=self.plan_id,
            measure_id=measure_id,
            title=title,
            deadline=deadline,
            original_deadline=deadline,
        )
        self.session.add(task)
        self.session.flush()
        assert task.id is not None
        holders = [(who, AssignmentRole.lead) for who in leads]
        holders += [(who, AssignmentRole.cooperating) for who in cooperating]
        assign(self.session, task.id, self.ids, holders)
        if issued is not None:
            clock.set_now(at(issued))
            apply_action(self.session, task.id, "issue", self.actor("office"))
            if accept:
                apply_action(self.session, task.id, "accept", self.actor(leads[0]))
            self.session.flush()
        return task.id

    def act(self, task_id: int, action: str, who: str, moment: str, reason: str | None = None) -> None:
        """Apply a task action at a moment (before 办结报送, what it needs: `ready_to_submit`)."""
        clock.set_now(at(moment))
        if action == "submit":
            ready_to_submit(self.session, task_id, self.actor(who))
        apply_action(self.session, task_id, action, self.actor(who), reason=reason)
        self.session.flush()

    def sweep(self, moment: str | dt.datetime) -> SweepResult:
        """One sweep at `moment`, committed (so after-commit jobs are recorded)."""
        clock.set_now(at(moment))
        result = run_sweep(self.session)
        self.session.commit()
        return result

    def outbox(self, **where: Any) -> list[NotificationOutbox]:
        """Outbox rows, oldest first, filtered by column values."""
        query = select(NotificationOutbox).order_by(col(NotificationOutbox.id))
        for name, value in where.items():
            query = query.where(getattr(NotificationOutbox, name) == value)
        self.session.expire_all()
        return list(self.session.exec(query).all())

    def level(self, task_id: int) -> tuple[str, str | None]:
        """The task's (supervision level, notice colour)."""
        row = self.session.connection().execute(
            sa.select(col(Task.supervision_level), col(Task.notice_colour)).where(col(Task.id) == task_id)
        )
        level, colour = row.one()
        return str(level), colour

    def events(self, task_id: int, *kinds: str) -> list[TaskEvent]:
        """The task's events (of these kinds), in order."""
        query = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(col(TaskEvent.id))
        if kinds:
            query = query.where(col(TaskEvent.kind).in_(kinds))
        return list(self.session.exec(query).all())


def build_scenario(session: Session) -> Scenario:
    """Departments loaded, a plan, and a recording job sender."""
    from duban.tasks.departments import load_departments

    load_departments(session)
    session.flush()
    ids = {
        who: session.exec(select(Department.id).where(Department.code == code)).one()
        for who, code in CODES.items()
    }
    plan = Plan(key=uuid.uuid4().hex, title="关于加强大气污染防治的工作方案", content_hash="0" * 64)
    session.add(plan)
    session.flush()
    assert plan.id is not None
    return Scenario(session, {k: v for k, v in ids.items() if v is not None}, plan.id)


@contextmanager
def recording_jobs(into: list[tuple[str, tuple[Any, ...]]]) -> Iterator[None]:
    """Record jobs queued after commit instead of sending them to a broker."""
    previous = getattr(jobs, "_sender", None)
    jobs.set_sender(lambda name, args: into.append((name, args)))
    try:
        yield
    finally:
        jobs.set_sender(previous)


def open_scenario(session: Session) -> Iterator[Scenario]:
    """A Scenario over the rolled-back test session with jobs recorded (yield from it in a fixture)."""
    built = build_scenario(session)
    with recording_jobs(built.sent_jobs):
        yield built


def run_jobs(scenario: Scenario, moment: str | dt.datetime) -> list[str]:
    """Run the recorded notify jobs in this process at `moment` (delivery is left to deliver_due)."""
    from duban.notifications.events import notify_plan_issued, notify_task_event

    clock.set_now(at(moment))
    ran: list[str] = []
    pending, scenario.sent_jobs[:] = list(scenario.sent_jobs), []
    for name, args in pending:
        if name == "duban.notify_task_event":
            notify_task_event(scenario.session, *args)
        elif name == "duban.notify_plan_issued":
            notify_plan_issued(scenario.session, *args)
        else:
            continue
        ran.append(name)
    scenario.session.commit()
    return ran


def deliver_at(scenario: Scenario, moment: str | dt.datetime) -> dict[str, int]:
    """What the dispatcher and a worker would do at `moment`: digests, weekly summary, delivery."""
    from duban.notifications.calendars import working_calendar
    from duban.notifications.delivery import deliver_due
    from duban.notifications.digest import dispatch
    from duban.workflow.policy import bundled_policy

    clock.set_now(at(moment))
    counts = dispatch(scenario.session, None, working_calendar(scenario.session), bundled_policy())
    scenario.session.commit()
    outcomes = deliver_due(at(moment))
    scenario.session.commit()
    scenario.sent_jobs[:] = [job for job in scenario.sent_jobs if job[0] != "duban.deliver"]
    return {**counts, **outcomes}
