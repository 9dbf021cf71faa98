"""Step definitions for 交办时已过期限.feature: deadlines already past when a plan is issued (issue 14 item 7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pytest_bdd import given, then, when
from sqlmodel import col, select

from duban.core import clock
from duban.notifications.calendars import working_calendar
from duban.tasks.enums import TaskState
from duban.tasks.models import Task, TaskEvent
from duban.workflow.board import BoardFilter, board_page
from duban.workflow.errors import WorkflowError
from duban.workflow.issuing import issue_plan, set_deadlines
from tests.bdd.conftest import SweepWorld, quoted
from tests.notifications.scenario import at, run_jobs


@given(quoted('规划中有拟办任务 "{name}" 由 "{lead}" 牵头，完成时限为 "{deadline}"'))
def past_draft(sweep_world: SweepWorld, name: str, lead: str, deadline: str) -> None:
    """A draft task of the scene's plan, not yet issued."""
    sweep_world.tasks[name] = sweep_world.scene.task(
        dt.date.fromisoformat(deadline), leads=(sweep_world.department(lead),), cooperating=(), title=name
    )
    sweep_world.scene.session.commit()


def _issue(sweep_world: SweepWorld, context: dict[str, Any], moment: str, *, confirm: bool) -> None:
    clock.set_now(at(moment))
    scene = sweep_world.scene
    try:
        issue_plan(
            scene.session,
            scene.plan_id,
            scene.actor("office"),
            confirm_past_deadlines=confirm,
            calendar=working_calendar(scene.session),
        )
    except WorkflowError as error:
        scene.session.rollback()
        context["past_refusal"] = error
        return
    scene.session.commit()
    run_jobs(scene, moment)


@when(quoted('委员会办公室在 "{moment}" 交办该规划'))
def past_issue(sweep_world: SweepWorld, context: dict[str, Any], moment: str) -> None:
    """Issue as the API and page will: past deadlines refused unless confirmed."""
    _issue(sweep_world, context, moment, confirm=False)


@when(quoted('委员会办公室在 "{moment}" 确认按原时限交办该规划'))
def past_issue_confirmed(sweep_world: SweepWorld, context: dict[str, Any], moment: str) -> None:
    """Issue with the past deadlines confirmed as they are."""
    _issue(sweep_world, context, moment, confirm=True)


@when(quoted('委员会办公室在 "{moment}" 将任务 "{name}" 的完成时限改为 "{deadline}"'))
def past_new_deadline(sweep_world: SweepWorld, moment: str, name: str, deadline: str) -> None:
    """A new deadline through the bulk setting (audited as a draft edit)."""
    clock.set_now(at(moment))
    scene = sweep_world.scene
    set_deadlines(scene.session, scene.plan_id, {sweep_world.tasks[name]: dt.date.fromisoformat(deadline)})
    scene.session.commit()


@then(quoted('交办被拒绝，列出完成时限已过的任务 "{names}"'))
def past_refused(sweep_world: SweepWorld, context: dict[str, Any], names: str) -> None:
    error = context["past_refusal"]
    assert error.code == "past_deadlines"
    wanted = [sweep_world.tasks[n.strip()] for n in names.split(",")]
    assert [item["id"] for item in error.extra["tasks"]] == wanted


@then(quoted('任务 "{name}" 仍为拟办'))
def past_still_draft(sweep_world: SweepWorld, name: str) -> None:
    sweep_world.scene.session.expire_all()
    task = sweep_world.scene.session.get(Task, sweep_world.tasks[name])
    assert task is not None and task.state is TaskState.draft


@then("该规划的任务全部已交办")
def past_all_issued(sweep_world: SweepWorld) -> None:
    scene = sweep_world.scene
    scene.session.expire_all()
    states = scene.session.exec(select(Task.state).where(Task.plan_id == scene.plan_id)).all()
    assert set(states) == {TaskState.assigned}


@then(quoted('任务 "{name}" 的修改记录中完成时限由 "{before}" 改为 "{after}"'))
def past_edit_recorded(sweep_world: SweepWorld, name: str, before: str, after: str) -> None:
    edits = sweep_world.scene.session.exec(
        select(TaskEvent)
        .where(TaskEvent.task_id == sweep_world.tasks[name], TaskEvent.kind == "edit")
        .order_by(col(TaskEvent.id))
    ).all()
    assert [(e.data["before"]["deadline"], e.data["after"]["deadline"]) for e in edits] == [(before, after)]


@then(quoted('逾期督办看板上任务 "{name}" 的督办级别显示为 "{label}"'))
def past_board_label(sweep_world: SweepWorld, name: str, label: str) -> None:
    scene = sweep_world.scene
    flt = BoardFilter(task_ids=(sweep_world.tasks[name],), lights=("red",))
    (row,) = board_page(scene.session, flt, working_calendar(scene.session)).rows
    assert row.rung.label == label
