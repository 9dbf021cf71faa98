"""我的任务 and the task page for a department: buckets, sign for, report, submit, extension; bad input shows
the form again with the message; a department sees only its own tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, func, select

from duban.tasks.enums import TaskState
from duban.tasks.models import Target, Task, TaskEvent
from duban.workflow.models import ExtensionRequest, TaskReport
from tests.api.pages.helpers import PageClient, text_of
from tests.fixtures.evidence import ready_to_submit
from tests.fixtures.tasks import TaskWorld


def _state(session: Session, task_id: int) -> TaskState:
    task = session.get(Task, task_id, populate_existing=True)
    assert task is not None
    return task.state


def _count(session: Session, model: Any, task_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(model).where(model.task_id == task_id)).one())


def test_buckets_sort_the_departments_tasks(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    clock_at("2026-01-05T09:00")
    to_sign, working = world.task_in(TaskState.assigned), world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    page = lead.get("/tasks")
    assert page.status_code == 200
    assert 'class="tab here" id="bucket-to_sign"' in page.text
    assert f'id="task-{to_sign}"' in page.text and f'id="task-{working}"' not in page.text
    waiting = lead.get("/tasks", bucket="waiting").text  # 发展改革委 has sent no contribution
    assert f'id="task-{working}"' in waiting
    coop = signed_in("cooperating").get("/tasks", bucket="contribute").text
    assert f'id="task-{working}"' in coop and "我单位配合" in coop
    clock_at("2027-01-04T09:00")
    assert f'id="task-{working}"' in lead.get("/tasks", bucket="overdue").text
    assert lead.get("/tasks", bucket="nonsense").status_code == 200


def test_a_department_signs_for_reports_and_submits_from_its_pages(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    clock_at("2026-03-02T09:00")
    task_id = world.task_in(TaskState.assigned)
    task = world.session.get(Task, task_id)
    assert task is not None
    world.session.add(
        Target(plan_id=task.plan_id, indicator="森林覆盖率", value="23%", unit="%", text="森林覆盖率达到23%")
    )
    world.session.flush()
    lead = signed_in("lead")
    signed = lead.post(f"/tasks/{task_id}/actions/accept", {"version": task.version})
    assert "已签收：已交办 → 办理中" in lead.follow(signed).text
    assert _state(world.session, task_id) is TaskState.in_progress
    target = world.session.exec(select(Target.id).where(Target.plan_id == task.plan_id)).one()
    report = lead.post(
        f"/tasks/{task_id}/progress",
        {"form": "progress", "percent": "60", "text": "已完成120台锅炉改造", f"indicator_{target}": "22.4"},
    )
    page = text_of(lead.follow(report).text)
    assert "进展已报送" in page and "已完成120台锅炉改造" in page and "22.4%" in page
    asked = lead.post(
        f"/tasks/{task_id}/extensions",
        {"form": "extension", "requested_deadline": "2027-03-31", "reason": "设备到货延迟"},
    )
    assert "延期申请已提交" in lead.follow(asked).text
    assert world.session.exec(select(ExtensionRequest).where(ExtensionRequest.task_id == task_id)).one()
    ready_to_submit(world.session, task_id, world.actor("lead"))  # the final report with its evidence
    world.session.flush()
    submitted = lead.post(f"/tasks/{task_id}/actions/submit", {})
    assert submitted.status_code == 303
    assert _state(world.session, task_id) is TaskState.submitted
    kinds = world.session.exec(
        select(TaskEvent.kind).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)  # type: ignore[arg-type]
    ).all()
    assert kinds[-5:] == ["accept", "progress", "extension_requested", "progress", "submit"]


def test_bad_input_shows_the_form_again_with_the_message_and_writes_nothing(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task_id = world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    for data, message in (
        ({"percent": "150", "text": "部分完成"}, "完成百分比须为 0–100 的整数"),
        ({"percent": "50", "text": "   "}, "不能为空"),
        ({"percent": "50", "text": "部分完成", "indicator_999999": "abc"}, "指标值须为数字"),
    ):
        response = lead.post(f"/tasks/{task_id}/progress", {"form": "progress", **data})
        assert response.status_code == 422, response.text[:300]
        assert message in response.text
        assert f'value="{data["percent"]}"' in response.text  # the form keeps what was typed
    unknown = lead.post(
        f"/tasks/{task_id}/progress",
        {"form": "progress", "percent": "5", "text": "x", "indicator_999999": "1"},
    )
    assert unknown.status_code == 422 and "不是本任务所属规划的指标" in unknown.text
    late = lead.post(
        f"/tasks/{task_id}/extensions", {"form": "extension", "requested_deadline": "明年", "reason": "x"}
    )
    assert late.status_code == 422 and "YYYY-MM-DD" in late.text
    dispute = lead.post(f"/tasks/{task_id}/actions/dispute", {"form": "action-dispute", "reason": ""})
    assert dispute.status_code == 409
    assert _count(world.session, TaskReport, task_id) == 0
    assert _count(world.session, ExtensionRequest, task_id) == 0
    assert _state(world.session, task_id) is TaskState.in_progress


def test_a_department_sees_only_its_own_tasks(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task_id = world.task_in(TaskState.assigned)
    other = signed_in("other")
    page = other.get(f"/tasks/{task_id}")
    assert page.status_code == 403 and "不是此任务的牵头或配合单位" in page.text
    assert f'id="task-{task_id}"' not in other.get("/tasks", bucket="all").text
    refused = other.post(f"/tasks/{task_id}/actions/accept", {})
    assert refused.status_code == 403
    assert _state(world.session, task_id) is TaskState.assigned
    coop = signed_in("cooperating")
    assert coop.get(f"/tasks/{task_id}").status_code == 200
    assert coop.post(f"/tasks/{task_id}/actions/accept", {}).status_code == 403
    sent = coop.post(f"/tasks/{task_id}/contribution", {"form": "contribution", "text": "已提供项目资金安排"})
    assert "配合情况已报送牵头单位" in coop.follow(sent).text


def test_the_office_is_sent_from_my_tasks_to_the_full_board(signed_in: Callable[[str], PageClient]) -> None:
    response = signed_in("office").get("/tasks")
    assert response.headers["location"] == "/overdue?light=red&light=yellow&light=green"
