"""The plan review page's warning about deadlines already past (issue 14 item 7), and the board's 待催办."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import select

from duban.tasks.enums import TaskState
from duban.tasks.models import Task, TaskEvent
from duban.tasks.parser import parse
from duban.tasks.plans import import_plan
from tests.api.pages.helpers import PageClient, text_of

OLD_PLAN = """关于推进生态环境治理的工作方案

一、重点任务
（一）整治燃煤锅炉。2019年底前完成燃煤小锅炉淘汰。（自治区生态环境厅牵头）
（二）保护草原生态。2021年6月底前落实草畜平衡制度。（自治区林业和草原局牵头）
（三）推进污水处理。2030年底前完善城镇污水管网。（自治区住房和城乡建设厅牵头）
"""


def _tasks(session: Any, plan_id: int) -> list[Task]:
    session.expire_all()
    return list(session.exec(select(Task).where(Task.plan_id == plan_id).order_by(Task.id)).all())  # type: ignore[arg-type]


def test_the_review_page_lists_past_deadlines_and_sets_new_ones_for_the_ticked(
    signed_in: Callable[[str], PageClient], departments: Any, clock_at: Callable[[str], None]
) -> None:
    clock_at("2025-09-01T09:00")
    result = import_plan(departments, OLD_PLAN, parse(OLD_PLAN), None)
    boilers, grass, sewage = _tasks(departments, result.plan_id)
    office = signed_in("office")
    page = office.get(f"/plans/{result.plan_id}")
    assert page.status_code == 200
    assert 'id="past-deadlines"' in page.text and "完成时限早于交办日期" in text_of(page.text)
    assert f'id="past-{boilers.id}"' in page.text and f'id="past-{grass.id}"' in page.text
    assert f'id="past-{sewage.id}"' not in page.text
    chosen = office.post(
        f"/plans/{result.plan_id}/bulk-edit",
        {"form": "past_deadlines", "task": [f"{boilers.id}:{boilers.version}"], "deadline": "2025-12-31"},
    )
    after = office.follow(chosen)
    assert "批量修改完成：1 项任务有变化" in after.text
    assert f'id="past-{boilers.id}"' not in after.text and f'id="past-{grass.id}"' in after.text
    edit = departments.exec(
        select(TaskEvent).where(TaskEvent.task_id == boilers.id, TaskEvent.kind == "edit")
    ).one()
    assert edit.data["before"]["deadline"] == "2019-12-31" and edit.data["after"]["deadline"] == "2025-12-31"


def test_issued_as_they_are_the_board_shows_urge_due_never_none(
    signed_in: Callable[[str], PageClient], departments: Any, clock_at: Callable[[str], None]
) -> None:
    clock_at("2025-09-01T09:00")
    result = import_plan(departments, OLD_PLAN, parse(OLD_PLAN), None)
    boilers, grass, _ = _tasks(departments, result.plan_id)
    office = signed_in("office")
    issued = office.post(f"/plans/{result.plan_id}/issue", {"form": "issue", "confirm_past_deadlines": "1"})
    assert "已交办 3 项任务" in office.follow(issued).text
    assert {t.state for t in _tasks(departments, result.plan_id)} == {TaskState.assigned}
    board = office.get("/overdue")
    assert board.status_code == 200
    for task in (boilers, grass):
        row = board.text.split(f'id="task-{task.id}"', 1)[1].split("</tr>", 1)[0]
        assert "rung-urge_due" in row and "待催办" in row and ">无<" not in row
