"""The action service: every accepted action moves the task and writes one event; refusals change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from duban.tasks.enums import TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Task, TaskAssignment, TaskEvent
from duban.workflow.errors import ActionForbidden, TransitionNotAllowed, WorkflowError
from duban.workflow.issuing import issue_plan
from duban.workflow.service import IssueRefused, StaleVersion, apply_action
from tests.fixtures.evidence import ready_to_submit
from tests.fixtures.tasks import TaskWorld


def _events(world: TaskWorld, task_id: int) -> list[TaskEvent]:
    query = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(col(TaskEvent.id))
    return list(world.session.exec(query).all())


def test_full_lifecycle_writes_one_event_per_action(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.draft)
    steps = [
        ("issue", "office", None),
        ("accept", "lead", None),
        ("submit", "lead", None),
        ("return", "office", "监测数据不全"),
        ("submit", "lead", None),
        ("approve", "office", None),
    ]
    for action, who, reason in steps:
        if action == "submit":
            ready_to_submit(world.session, task_id, world.actor(who))
        apply_action(world.session, task_id, action, world.actor(who), reason=reason, request_id="req-1")
    task = world.session.get(Task, task_id)
    assert task is not None
    world.session.refresh(task)
    assert task.state is TaskState.completed
    assert task.version == 1 + len(steps)
    assert task.issued_at and task.accepted_at and task.completed_at
    events = [e for e in _events(world, task_id) if e.kind != "progress"]  # the reports before 办结报送
    assert [e.kind for e in events] == ["created"] + [s[0] for s in steps]
    assert events[4].reason == "监测数据不全"
    assert events[4].from_state == "submitted" and events[4].to_state == "returned"
    assert all(e.request_id == "req-1" for e in events[1:])


def test_refusals_change_nothing(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.assigned)
    before = len(_events(world, task_id))
    with pytest.raises(ActionForbidden):
        apply_action(world.session, task_id, "accept", world.actor("cooperating"))
    with pytest.raises(ActionForbidden):
        apply_action(world.session, task_id, "approve", world.actor("lead"))
    with pytest.raises(TransitionNotAllowed) as conflict:
        apply_action(world.session, task_id, "submit", world.actor("lead"))
    assert conflict.value.extra["allowed_actions"] == ["accept", "dispute"]
    with pytest.raises(WorkflowError) as missing:
        apply_action(world.session, task_id, "dispute", world.actor("lead"), reason="  ")
    assert missing.value.code == "reason_required"
    with pytest.raises(StaleVersion):
        apply_action(world.session, task_id, "accept", world.actor("lead"), expected_version=1)
    with pytest.raises(NotFoundError):
        apply_action(world.session, 10**9, "accept", world.actor("lead"))
    assert len(_events(world, task_id)) == before


def test_dispute_returns_to_draft_and_reassign_changes_the_lead(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.assigned)
    apply_action(
        world.session, task_id, "dispute", world.actor("lead"), reason="不属于本厅职责，建议水利厅牵头"
    )
    apply_action(world.session, task_id, "reassign", world.actor("office"), new_lead_id=world.other_id)
    leads = world.session.exec(
        select(TaskAssignment.department_id).where(
            TaskAssignment.task_id == task_id, TaskAssignment.role == "lead"
        )
    ).all()
    assert leads == [world.other_id]
    task = world.session.get(Task, task_id)
    assert task is not None and task.state is TaskState.assigned
    # the old lead has lost its part; the new one may now accept
    with pytest.raises(ActionForbidden):
        apply_action(world.session, task_id, "accept", world.actor("lead"))
    apply_action(world.session, task_id, "accept", world.actor("other"))


def test_reassign_needs_a_real_department(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.in_progress)
    with pytest.raises(WorkflowError) as error:
        apply_action(world.session, task_id, "reassign", world.actor("office"), new_lead_id=10**9)
    assert error.value.code == "new_lead_required"


def test_return_loop_can_repeat(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.in_progress)
    for round_ in range(3):
        ready_to_submit(world.session, task_id, world.actor("lead"))
        apply_action(world.session, task_id, "submit", world.actor("lead"))
        apply_action(world.session, task_id, "return", world.actor("office"), reason=f"第{round_ + 1}次退回")
    ready_to_submit(world.session, task_id, world.actor("lead"))
    apply_action(world.session, task_id, "submit", world.actor("lead"))
    apply_action(world.session, task_id, "approve", world.actor("office"))
    kinds = [e.kind for e in _events(world, task_id)]
    assert kinds.count("return") == 3 and kinds[-1] == "approve"


def test_cancel_from_every_open_state(world: TaskWorld) -> None:
    for state in (
        TaskState.draft,
        TaskState.assigned,
        TaskState.in_progress,
        TaskState.submitted,
        TaskState.returned,
    ):
        task_id = world.task_in(state)
        apply_action(world.session, task_id, "cancel", world.actor("office"), reason="规划调整")
        task = world.session.get(Task, task_id)
        assert task is not None
        world.session.refresh(task)
        assert task.state is TaskState.cancelled
    done = world.task_in(TaskState.completed)
    with pytest.raises(TransitionNotAllowed):
        apply_action(world.session, done, "cancel", world.actor("office"), reason="x")


def test_plan_issue_is_all_or_nothing(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.draft)
    task = world.session.get(Task, task_id)
    assert task is not None
    plan_id = task.plan_id
    world.session.exec(select(TaskAssignment)).all()
    for row in world.session.exec(select(TaskAssignment).where(TaskAssignment.task_id == task_id)).all():
        world.session.delete(row)
    world.session.flush()
    with pytest.raises(IssueRefused) as refused:
        issue_plan(world.session, plan_id, world.actor("office"))
    assert [t["id"] for t in refused.value.extra["tasks"]] == [task_id]
    assert refused.value.extra["tasks"][0]["missing"] == ["lead"]
    states = world.session.exec(select(Task.state).where(Task.plan_id == plan_id)).all()
    assert set(states) == {TaskState.draft}
    with pytest.raises(ActionForbidden):
        issue_plan(world.session, plan_id, world.actor("lead"))


def test_plan_issue_moves_every_draft_with_an_event(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.draft)
    task = world.session.get(Task, task_id)
    assert task is not None
    issued = issue_plan(world.session, task.plan_id, world.actor("office"), request_id="r-9")
    assert len(issued) == 2
    count = world.session.exec(
        select(func.count())
        .select_from(TaskEvent)
        .where(TaskEvent.kind == "issue", TaskEvent.request_id == "r-9")
    ).one()
    assert count == 2
    assert issue_plan(world.session, task.plan_id, world.actor("office")) == []
