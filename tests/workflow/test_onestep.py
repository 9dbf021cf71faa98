"""Actions in one statement (PostgreSQL): the same moves, events and refusals as `apply_action`, one round trip
when the action is allowed; SQLite takes the general path and answers the same."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, col, select

from duban.core.config import get_settings
from duban.core.db import dispose_engine, get_engine, unit_scope
from duban.tasks.departments import load_departments
from duban.tasks.enums import Role, TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Task, TaskEvent
from duban.tasks.parser import parse
from duban.tasks.plans import import_plan
from duban.workflow.errors import ActionForbidden, TransitionNotAllowed, WorkflowError
from duban.workflow.evidence.completion import CompletionIncomplete
from duban.workflow.machines import TASK_TABLES, Actor
from duban.workflow.onestep import MOVES, take_action
from duban.workflow.policy import bundled_policy
from duban.workflow.policy_store import frozen_rules, policy_t
from duban.workflow.service import IssueRefused, StaleVersion, apply_action
from tests.conftest import database_url_for
from tests.fixtures.evidence import ready_to_submit
from tests.fixtures.policies import freeze_onto
from tests.fixtures.tasks import LEAD, PLAN_TEXT, TaskWorld

task_t = Task.__table__  # type: ignore[attr-defined]
NO_COMPLETION = dataclasses.replace(bundled_policy(), version=1, completion=None)


class Statements:
    """Counts the statements sent on one connection."""

    def __init__(self, session: Session) -> None:
        self.conn = session.connection()
        self.sent: list[str] = []
        event.listen(self.conn, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.sent.append(str(args[2]))

    def take(self) -> list[str]:
        """The statements since the last call."""
        sent, self.sent = self.sent, []
        return sent


@pytest.fixture
def sent(world: TaskWorld) -> Iterator[Statements]:
    statements = Statements(world.session)
    yield statements
    event.remove(statements.conn, "before_cursor_execute", statements._seen)


def _postgres(world: TaskWorld) -> bool:
    return world.session.connection().dialect.name == "postgresql"


def _events(world: TaskWorld, task_id: int) -> list[TaskEvent]:
    query = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(col(TaskEvent.id))
    return list(world.session.exec(query).all())


def _without_completion(world: TaskWorld, task_id: int) -> None:
    freeze_onto(world.session, task_id, NO_COMPLETION)


def test_moves_come_from_the_machine() -> None:
    assert MOVES["submit"].sources == ("in_progress", "returned")
    assert MOVES["cancel"].target is TaskState.cancelled
    for (state, action), target in TASK_TABLES.moves.items():
        assert state in MOVES[action].sources and MOVES[action].target == target


def test_lifecycle_is_one_statement_per_step(world: TaskWorld, sent: Statements) -> None:
    task_id = world.task_in(TaskState.draft)
    steps: list[tuple[str, str, str | None]] = [("issue", "office", None), ("accept", "lead", None)]
    steps += [("submit", "lead", None)]
    steps += [("return", "office", "数据不全"), ("submit", "lead", None), ("approve", "office", None)]
    version = 1
    for action, who, reason in steps:
        if action == "accept":
            _without_completion(world, task_id)  # the policy frozen at issue, but without completion rules
        sent.take()
        outcome = take_action(
            world.session, task_id, action, world.actor(who), reason=reason, request_id="r1", actor_label="x"
        )
        statements = sent.take()
        if _postgres(world):
            assert len(statements) == 1 and statements[0].startswith(("WITH t AS", "WITH registered AS"))
        assert outcome.version == version + 1 and outcome.to_state is MOVES[action].target
        assert outcome.header.state is outcome.to_state and outcome.header.lead_ids == {world.lead_id}
        version += 1
    task = world.session.get(Task, task_id)
    assert task is not None
    world.session.refresh(task)
    assert task.state is TaskState.completed and task.version == version
    assert task.issued_at and task.accepted_at and task.submitted_at and task.completed_at
    assert task.policy_version == 1  # a policy already frozen is kept
    events = _events(world, task_id)[1:]
    assert [(e.kind, e.from_state, e.to_state) for e in events] == [
        ("issue", "draft", "assigned"),
        ("accept", "assigned", "in_progress"),
        ("submit", "in_progress", "submitted"),
        ("return", "submitted", "returned"),
        ("submit", "returned", "submitted"),
        ("approve", "submitted", "completed"),
    ]
    assert events[3].reason == "数据不全" and events[1].actor_department_id == world.lead_id
    assert all(e.request_id == "r1" and e.actor_label == "x" and e.data == {} for e in events)


def test_issue_freezes_the_policy_in_force(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.draft)
    take_action(world.session, task_id, "issue", world.actor("office"), expected_version=1)
    frozen = world.session.connection().execute(sa.select(frozen_rules()).where(task_t.c.id == task_id))
    assert frozen.scalar() == bundled_policy().snapshot()


def test_issue_keeps_a_new_versions_rules_once(world: TaskWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    # A version no task has named yet: the issue keeps its rules (inside its one statement on PostgreSQL).
    newer = dataclasses.replace(bundled_policy(), version=99, name="督办升级规则（第 99 版）")
    for module in ("duban.workflow.onestep", "duban.workflow.service"):
        monkeypatch.setattr(f"{module}.bundled_policy", lambda: newer)
    first, second = world.task_in(TaskState.draft), world.task_in(TaskState.draft)
    for task_id in (first, second):
        take_action(world.session, task_id, "issue", world.actor("office"), expected_version=1)
    conn = world.session.connection()
    kept = conn.execute(sa.select(policy_t.c.name, policy_t.c.body).where(policy_t.c.version == 99)).all()
    assert [tuple(row) for row in kept] == [("督办升级规则（第 99 版）", newer.snapshot())]
    named = conn.execute(sa.select(task_t.c.policy_version).where(task_t.c.id.in_([first, second])))
    assert named.scalars().all() == [99, 99]


def test_refusals_answer_as_before_and_change_nothing(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.assigned)
    before = len(_events(world, task_id))
    with pytest.raises(StaleVersion) as stale:
        take_action(world.session, task_id, "accept", world.actor("lead"), expected_version=1)
    assert stale.value.extra["current_version"] == 2
    for who in ("cooperating", "other"):
        with pytest.raises(ActionForbidden):
            take_action(world.session, task_id, "accept", world.actor(who), expected_version=2)
    with pytest.raises(ActionForbidden):
        take_action(world.session, task_id, "approve", world.actor("lead"))
    with pytest.raises(ActionForbidden):
        take_action(world.session, task_id, "accept", Actor(role=Role.department))
    with pytest.raises(TransitionNotAllowed) as illegal:
        take_action(world.session, task_id, "submit", world.actor("lead"), expected_version=2)
    assert illegal.value.extra["allowed_actions"] == ["accept", "dispute"]
    with pytest.raises(WorkflowError) as missing:
        take_action(world.session, task_id, "dispute", world.actor("lead"), reason="  ")
    assert missing.value.code == "reason_required"
    with pytest.raises(WorkflowError) as unknown:
        take_action(world.session, task_id, "finish", world.actor("office"))
    assert unknown.value.code == "unknown_action"
    with pytest.raises(NotFoundError):
        take_action(world.session, 10**9, "accept", world.actor("lead"))
    assert len(_events(world, task_id)) == before


def test_issue_without_a_deadline_is_refused_as_before(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.draft)
    world.session.connection().execute(task_t.update().where(task_t.c.id == task_id).values(deadline=None))
    with pytest.raises(IssueRefused):
        take_action(world.session, task_id, "issue", world.actor("office"))
    assert [e.kind for e in _events(world, task_id)] == ["created"]


def test_submit_under_completion_rules_checks_them(world: TaskWorld, sent: Statements) -> None:
    task_id = world.task_in(TaskState.in_progress)
    with pytest.raises(CompletionIncomplete):
        take_action(world.session, task_id, "submit", world.actor("lead"))
    ready_to_submit(world.session, task_id, world.actor("lead"))
    sent.take()
    outcome = take_action(world.session, task_id, "submit", world.actor("lead"))
    assert outcome.to_state is TaskState.submitted
    if _postgres(world):  # the statement moves nothing; the checks read what the policy asks, then write
        statements = sent.take()
        assert statements[0].startswith("WITH t AS") and len(statements) > 2, statements


def test_apply_action_with_a_header_is_unchanged(world: TaskWorld, sent: Statements) -> None:
    task_id = world.task_in(TaskState.assigned)
    sent.take()
    outcome = apply_action(world.session, task_id, "accept", world.actor("lead"))
    assert outcome.to_state is TaskState.in_progress
    assert not any(s.startswith("WITH t AS") for s in sent.take())


@pytest.fixture
def committed_postgres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for url in database_url_for("postgres", tmp_path):
        monkeypatch.setenv("DUBAN_DATABASE_URL", url)
        get_settings.cache_clear()
        dispose_engine()
        yield url
        dispose_engine()


def _race(task_id: int, actors: dict[str, Actor], version: int | None) -> dict[str, object]:
    """Each action from its own thread and connection, in autocommit, at once: outcome or error by action."""
    outcomes: dict[str, object] = {}
    barrier = threading.Barrier(len(actors))

    def act(action: str) -> None:
        barrier.wait()
        try:
            with unit_scope(atomic=False) as unit:
                outcomes[action] = take_action(
                    unit, task_id, action, actors[action], reason="撤销", expected_version=version
                )
        except WorkflowError as error:
            outcomes[action] = error

    threads = [threading.Thread(target=act, args=(action,)) for action in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_actors_at_once_one_wins(committed_postgres: str) -> None:
    """Two actions on one task at once, each in autocommit on its own connection: exactly one moves it."""
    with Session(get_engine()) as session:
        load_departments(session)
        tasks: list[int] = []
        for round_ in range(12):
            text = PLAN_TEXT.replace("工作方案", f"工作方案（并发 {round_}）")
            result = import_plan(session, text, parse(text), None)
            task = session.exec(select(Task).where(Task.plan_id == result.plan_id).order_by(Task.id)).first()  # type: ignore[arg-type]
            assert task is not None and task.id is not None
            apply_action(session, task.id, "issue", Actor(role=Role.office))
            tasks.append(task.id)
        lead = session.exec(sa.text("SELECT id FROM department WHERE code = :c").bindparams(c=LEAD)).one()[0]  # type: ignore[call-overload]
        session.commit()
    lead_actor = Actor(role=Role.department, department_id=lead)
    for index, task_id in enumerate(tasks):
        # Named versions: the lead accepts while the office cancels (the loser: 412). No version: accept
        # and dispute, which no state after the other allows (the loser: 409).
        versioned = index % 2 == 0
        actors = {"accept": lead_actor}
        actors.update({"cancel": Actor(role=Role.office)} if versioned else {"dispute": lead_actor})
        outcomes = _race(task_id, actors, 2 if versioned else None)
        won = [a for a, o in outcomes.items() if not isinstance(o, WorkflowError)]
        assert len(won) == 1, outcomes
        lost = next(o for o in outcomes.values() if isinstance(o, WorkflowError))
        assert isinstance(lost, StaleVersion if versioned else TransitionNotAllowed), lost
        with Session(get_engine()) as session:
            kinds = session.exec(
                select(TaskEvent.kind).where(TaskEvent.task_id == task_id).order_by(col(TaskEvent.id))
            ).all()
            final = session.get(Task, task_id)
        assert kinds[-2:] == ["issue", won[0]]
        assert final is not None and final.version == 3 and final.state is MOVES[won[0]].target
