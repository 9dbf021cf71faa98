"""Steps of 批量办理: a department signs for many tasks on 我的任务, the office urges from the board's selection,
an OA system sends a list to `POST /api/v1/tasks/actions/{action}` (issue 15 item 4)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session, select

from duban.tasks.enums import Role
from duban.tasks.models import Task, TaskEvent
from duban.workflow.machines import Actor
from duban.workflow.service import apply_action
from tests.api.pages.helpers import PageClient, text_of
from tests.bdd.conftest import quoted
from tests.bdd.steps_pages import OFFICE, _code, _department_id, _show, _task_id

_NAMES = re.compile(r'"([^"]+)"')


def _version(session: Session, task_id: int) -> int:
    task = session.get(Task, task_id, populate_existing=True)
    assert task is not None
    return task.version


@when(quoted('"{who}" 在我的任务页面上签收本页全部待签收任务'))
def batch_sign_page(pages_clients: Callable[[str], PageClient], context: dict[str, Any], who: str) -> None:
    client = pages_clients(who)
    page = client.get("/tasks", bucket="to_sign").text
    form = page[page.index('id="batch-accept-page"') :]
    chosen = re.findall(r'name="task" value="([0-9:]+)"', form[: form.index("</form>")])
    _show(context, client, client.post("/tasks/batch/accept", {"task": chosen, "back": "/tasks"}))


@then("每项任务各有一条签收记录")
def batch_one_accept_each(session: Session, context: dict[str, Any]) -> None:
    for task_id in context["page_tasks"].values():
        events = session.exec(
            select(TaskEvent).where(TaskEvent.task_id == task_id, TaskEvent.kind == "accept")
        ).all()
        assert len(events) == 1, (task_id, events)


@given(quoted('"{who}" 打开了我的任务页面'))
def batch_opened_my_tasks(
    pages_clients: Callable[[str], PageClient], session: Session, context: dict[str, Any], who: str
) -> None:
    assert pages_clients(who).get("/tasks", bucket="to_sign").status_code == 200
    context["seen_versions"] = {
        name: _version(session, task_id) for name, task_id in context["page_tasks"].items()
    }


@given(quoted('此后任务 "{name}" 已被他人签收'))
def batch_signed_meanwhile(session: Session, context: dict[str, Any], name: str) -> None:
    lead = _department_id(session, "自治区生态环境厅")
    apply_action(session, _task_id(context, name), "accept", Actor(role=Role.department, department_id=lead))
    session.flush()


@when(parsers.re(r'"(?P<who>[^"]+)" 勾选任务 (?P<names>.+) 并批量签收$'))
def batch_sign_chosen(
    pages_clients: Callable[[str], PageClient],
    session: Session,
    context: dict[str, Any],
    who: str,
    names: str,
) -> None:
    seen = context.get("seen_versions", {})
    chosen = [
        f"{_task_id(context, name)}:{seen.get(name) or _version(session, _task_id(context, name))}"
        for name in _NAMES.findall(names)
    ]
    client = pages_clients(who)
    _show(context, client, client.post("/tasks/batch/accept?bucket=to_sign", {"task": chosen}))


@then(quoted('页面列出未能办理的任务 "{name}"，原因包括 "{why}"'))
def batch_refused_row_listed(context: dict[str, Any], name: str, why: str) -> None:
    page = context["page"].text
    assert 'id="batch-report"' in page, text_of(page)[:600]
    report = page[page.index('id="batch-report"') :]
    report = text_of(report[: report.index("</section>")])
    assert name in report and why in report, report
    assert "1 项未能办理" in report


@when(parsers.re(r"委员会办公室在逾期督办页面上勾选任务 (?P<names>.+) 并点击 \"(?P<button>[^\"]+)\"$"))
def batch_board_batch(
    pages_clients: Callable[[str], PageClient],
    session: Session,
    context: dict[str, Any],
    names: str,
    button: str,
) -> None:
    client = pages_clients(OFFICE)
    board = client.get("/overdue").text
    action = {"批量催办": "urge", "批量升级督办": "supervise", "批量批准延期": "grant_extension"}[button]
    assert f'id="batch-{action}"' in board
    chosen = []
    for name in _NAMES.findall(names):
        task_id = _task_id(context, name)
        found = re.search(rf'name="task" value="({task_id}:\d+)" form="board-batch"', board)
        assert found, f"task {name} has no checkbox on the board"
        chosen.append(found.group(1))
    _show(context, client, client.post("/overdue/batch", {"action": action, "task": chosen}))


@then(parsers.re(r"任务 (?P<names>.+) 处于 \"(?P<label>[^\"]+)\"$"))
def batch_ladder_level(session: Session, context: dict[str, Any], names: str, label: str) -> None:
    for name in _NAMES.findall(names):
        task = session.get(Task, _task_id(context, name), populate_existing=True)
        assert task is not None and task.supervision_level.label == label, (name, task)


def _oa_headers(auth_headers: Callable[..., dict[str, str]], who: str) -> dict[str, str]:
    return auth_headers("department", _code(who))


@when(
    parsers.re(
        r'"(?P<who>[^"]+)" 的 OA 系统批量签收任务 (?P<names>.+)，其中 "(?P<stale>[^"]+)" 带过期的 ETag$'
    )
)
def batch_oa_batch(
    client: TestClient,
    auth_headers: Callable[..., dict[str, str]],
    session: Session,
    context: dict[str, Any],
    who: str,
    names: str,
    stale: str,
) -> None:
    items = []
    for name in _NAMES.findall(names):
        task_id = _task_id(context, name)
        version = _version(session, task_id) - (1 if name == stale else 0)
        items.append({"id": task_id, "if_match": f'"v{version}"'})
    context["response"] = client.post(
        "/api/v1/tasks/actions/accept", json={"items": items}, headers=_oa_headers(auth_headers, who)
    )


@then(parsers.re(r"接口逐项返回 (?P<answers>.+)$"))
def batch_per_item(context: dict[str, Any], answers: str) -> None:
    response = context["response"]
    assert response.status_code == 200, response.text
    got = {item["id"]: item["status"] for item in response.json()["items"]}
    for name, status in re.findall(r'"([^"]+)" (\d{3})', answers):
        assert got[_task_id(context, name)] == int(status), (name, got)


@when(parsers.re(r'"(?P<who>[^"]+)" 的 OA 系统一次提交 (?P<count>\d+) 项任务批量签收$'))
def batch_oa_too_many(
    client: TestClient,
    auth_headers: Callable[..., dict[str, str]],
    context: dict[str, Any],
    who: str,
    count: str,
) -> None:
    task_id = next(iter(context["page_tasks"].values()))
    items = [{"id": task_id, "if_match": "*"}] * int(count)
    context["response"] = client.post(
        "/api/v1/tasks/actions/accept", json={"items": items}, headers=_oa_headers(auth_headers, who)
    )


@then(parsers.parse("接口拒绝整批请求，状态码为 {status:d}"))
def batch_whole_batch_refused(context: dict[str, Any], status: int) -> None:
    response = context["response"]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
