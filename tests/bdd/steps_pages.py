"""Steps of the page features (委员会办公室查看逾期事项, 部门在页面上签收和报送, 导出台账): people signed in
through the login form, forms posted with the session's CSRF token, the 台账 read back with openpyxl."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session, func, select

from duban.tasks.enums import AssignmentRole, Role, SupervisionLevel, TaskState
from duban.tasks.models import Department, Plan, Task
from duban.tasks.registry import default_registry
from duban.workflow.machines import rung_of
from duban.workflow.models import TaskReport
from duban.workflow.service import office_actor
from duban.workflow.sweep import apply_ladder_action
from tests.api.pages.helpers import PageClient, ensure_user, page_clients, text_of
from tests.bdd.conftest import quoted
from tests.fixtures.records import World, assign, move

OFFICE = "委员会办公室"
BUCKETS = {"待签收": "to_sign", "即将到期": "due_soon", "已逾期": "overdue", "待配合单位报送": "waiting"}
LIGHTS = {"红": "red", "黄": "yellow", "绿": "green"}


@pytest.fixture
def pages_clients(session: Session) -> Iterator[Callable[[str], PageClient]]:
    """A signed-in page client per person ("委员会办公室" or a department's name), made on first use."""
    with page_clients() as open_client:
        made: dict[str, PageClient] = {}

        def client_of(who: str) -> PageClient:
            if who not in made:
                if who == OFFICE:
                    user = ensure_user(session, "page-office", Role.office)
                else:
                    code = _code(who)
                    user = ensure_user(session, f"page-{code}", Role.department, code)
                made[who] = open_client()
                assert made[who].login(user.username).status_code == 303
            return made[who]

        yield client_of


def _code(name: str) -> str:
    entry = default_registry().match_department(name)
    assert entry is not None, name
    return entry.code


def _department_id(session: Session, name: str) -> int:
    found = session.exec(select(Department.id).where(Department.code == _code(name))).one()
    assert found is not None
    return found


def _task_id(context: dict[str, Any], name: str) -> int:
    task_id: int = context["page_tasks"][name]
    return task_id


def _show(context: dict[str, Any], client: PageClient, response: Any) -> None:
    """Remember the page now shown (following a redirect after a form, as a browser does)."""
    if response.status_code == 303 and not response.headers["location"].startswith("/login"):
        response = client.follow(response)
    context["page"] = response


@given(
    quoted(
        '页面任务 "{name}" 由 "{lead}" 牵头、"{cooperating}" 配合，完成时限为 "{deadline}"，当前状态为 "{state}"'
    )
)
def page_task(
    session: Session,
    context: dict[str, Any],
    name: str,
    lead: str,
    cooperating: str,
    deadline: str,
    state: str,
) -> None:
    import datetime as dt

    plan = Plan(key=uuid.uuid4().hex, title=f"关于{name}的工作方案", content_hash="0" * 64)
    session.add(plan)
    session.flush()
    assert plan.id is not None
    day = dt.date.fromisoformat(deadline)
    task = Task(plan_id=plan.id, title=name, deadline=day, original_deadline=day)
    session.add(task)
    session.flush()
    assert task.id is not None
    ids = {"lead": _department_id(session, lead), "coop": _department_id(session, cooperating)}
    assign(session, task.id, ids, [("lead", AssignmentRole.lead), ("coop", AssignmentRole.cooperating)])
    move(World(session, ids, plan.id), task.id, next(s for s in TaskState if s.label == state))
    context.setdefault("page_tasks", {})[name] = task.id


@given(parsers.re(r'任务 "(?P<name>[^"]+)" 已发出 (?P<times>\d+) 次督办单'))
def page_supervised(session: Session, context: dict[str, Any], name: str, times: str) -> None:
    for _ in range(int(times)):
        apply_ladder_action(session, _task_id(context, name), "supervise", office_actor())
    session.flush()


@when(quoted('"{who}" 登录后打开逾期督办页面'))
def page_open_board(pages_clients: Callable[[str], PageClient], context: dict[str, Any], who: str) -> None:
    context["page"] = pages_clients(who).get("/overdue")


@when("委员会办公室登录后打开逾期督办页面")
def page_office_board(pages_clients: Callable[[str], PageClient], context: dict[str, Any]) -> None:
    context["page"] = pages_clients(OFFICE).get("/overdue")


@when(quoted('委员会办公室登录后按督办级别 "{label}" 筛选逾期督办页面'))
def page_filter_level(
    pages_clients: Callable[[str], PageClient], context: dict[str, Any], label: str
) -> None:
    level = next(level for level in SupervisionLevel if level.label == label)
    context["page"] = pages_clients(OFFICE).get("/overdue", level=level.value)


@when(quoted('委员会办公室在逾期督办页面上以说明 "{reason}" 确认对任务 "{name}" 约谈'))
def page_confirm_interview(
    pages_clients: Callable[[str], PageClient], context: dict[str, Any], reason: str, name: str
) -> None:
    office = pages_clients(OFFICE)
    task_id = _task_id(context, name)
    board = office.get("/overdue")
    row = _row(board.text, task_id)
    assert "确认约谈" in row, "the row offers no 约谈 to confirm"
    version = re.search(r'name="version" value="(\d+)"', row)
    assert version is not None
    response = office.post(
        f"/overdue/{task_id}/ladder/interview",
        {"reason": reason, "version": version.group(1), "back": "/overdue"},
    )
    _show(context, office, response)


def _row(page: str, task_id: int) -> str:
    start = page.index(f'id="task-{task_id}"')
    return page[start : page.index("</tr>", start)]


@then(quoted('任务 "{name}" 亮 "{colour}" 灯，逾期 "{days}" 个工作日'))
def page_row_light(context: dict[str, Any], name: str, colour: str, days: str) -> None:
    row = _row(context["page"].text, _task_id(context, name))
    assert f"light-{LIGHTS[colour]}" in row
    assert f'<td class="num">{days}' in row


@then(quoted('任务 "{name}" 一行显示牵头单位 "{lead}"、配合单位 "{cooperating}"'))
def page_row_holders(context: dict[str, Any], name: str, lead: str, cooperating: str) -> None:
    row = text_of(_row(context["page"].text, _task_id(context, name)))
    assert lead in row and cooperating in row


@then(quoted('页面只列出任务 "{name}"'))
def page_only(context: dict[str, Any], name: str) -> None:
    listed = {int(i) for i in re.findall(r'data-task="(\d+)"', context["page"].text)}
    assert listed == {_task_id(context, name)}, listed


@then(quoted('页面提示 "{text}"'))
def page_says(context: dict[str, Any], text: str) -> None:
    assert text in text_of(context["page"].text), text_of(context["page"].text)[:600]


@then("页面拒绝访问")
def page_refused(context: dict[str, Any]) -> None:
    assert context["page"].status_code == 403
    assert "无权访问" in context["page"].text


@then(quoted('任务 "{name}" 的督办级别显示为 "{label}"'))
def page_level(
    pages_clients: Callable[[str], PageClient],
    session: Session,
    context: dict[str, Any],
    name: str,
    label: str,
) -> None:
    task = session.get(Task, _task_id(context, name), populate_existing=True)
    assert task is not None and rung_of(task.supervision_level, task.notice_colour).label == label
    page = pages_clients(OFFICE).get(f"/tasks/{task.id}")
    assert f">{label}</span>" in page.text


# ---- 部门在页面上签收和报送 ----------------------------------------------------------------------------


@when(quoted('"{who}" 登录后打开我的任务页面'))
def page_my_tasks(pages_clients: Callable[[str], PageClient], context: dict[str, Any], who: str) -> None:
    context["page_client"] = pages_clients(who)
    context["page"] = context["page_client"].get("/tasks")


@then(quoted('"{bucket}" 中有任务 "{name}"'))
def page_in_bucket(context: dict[str, Any], bucket: str, name: str) -> None:
    assert f'id="bucket-{BUCKETS[bucket]}"' in context["page"].text
    listing = context["page_client"].get("/tasks", bucket=BUCKETS[bucket]).text
    assert f'data-task="{_task_id(context, name)}"' in listing


@given(quoted('"{who}" 已在页面上签收任务 "{name}"'))
@when(quoted('"{who}" 在页面上签收任务 "{name}"'))
def page_accept(
    pages_clients: Callable[[str], PageClient], context: dict[str, Any], who: str, name: str
) -> None:
    client = pages_clients(who)
    task_id = _task_id(context, name)
    context["page_task"] = task_id
    _show(context, client, client.post(f"/tasks/{task_id}/actions/accept", {}))


@when(parsers.re(r'"(?P<who>[^"]+)" 在任务页面上报送进展 (?P<percent>\d+)%，内容为 "(?P<text>[^"]+)"'))
def page_progress(
    pages_clients: Callable[[str], PageClient], context: dict[str, Any], who: str, percent: str, text: str
) -> None:
    client = pages_clients(who)
    response = client.post(
        f"/tasks/{context['page_task']}/progress", {"form": "progress", "percent": percent, "text": text}
    )
    _show(context, client, response)


@when(quoted('"{who}" 在任务页面上办结报送'))
def page_submit(pages_clients: Callable[[str], PageClient], context: dict[str, Any], who: str) -> None:
    client = pages_clients(who)
    _show(context, client, client.post(f"/tasks/{context['page_task']}/actions/submit", {}))


@then(quoted('任务页面的报送记录中有 "{text}"'))
def page_report_listed(
    pages_clients: Callable[[str], PageClient], context: dict[str, Any], text: str
) -> None:
    page = pages_clients(OFFICE).get(f"/tasks/{context['page_task']}").text
    reports = page[page.index('id="reports"') : page.index('id="timeline"')]
    assert text in text_of(reports)


@then(quoted('页面源码中没有未转义的 "{raw}"'))
def page_no_raw(pages_clients: Callable[[str], PageClient], context: dict[str, Any], raw: str) -> None:
    assert raw not in pages_clients(OFFICE).get(f"/tasks/{context['page_task']}").text
    assert raw not in context["page"].text


@then(quoted('任务 "{name}" 的状态为 "{label}"'))
def page_state(session: Session, context: dict[str, Any], name: str, label: str) -> None:
    task = session.get(Task, _task_id(context, name), populate_existing=True)
    assert task is not None and task.state.label == label


@then(quoted('表单保留了内容 "{text}"'))
def page_form_kept(context: dict[str, Any], text: str) -> None:
    assert f">{html.escape(text)}</textarea>" in context["page"].text


@then(quoted('任务 "{name}" 没有进展报送记录'))
def page_no_report(session: Session, context: dict[str, Any], name: str) -> None:
    count = session.exec(
        select(func.count()).select_from(TaskReport).where(TaskReport.task_id == _task_id(context, name))
    ).one()
    assert count == 0


@when(quoted('"{who}" 登录后打开任务 "{name}" 的页面'))
def page_open_task(
    pages_clients: Callable[[str], PageClient], context: dict[str, Any], who: str, name: str
) -> None:
    context["page"] = pages_clients(who).get(f"/tasks/{_task_id(context, name)}")


# ---- 导出台账 ----------------------------------------------------------------------------------------------


def _ledger(client: TestClient, headers: dict[str, str], fmt: str, params: dict[str, str]) -> list[list[str]]:
    response = client.get(f"/api/v1/exports/ledger.{fmt}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    if fmt == "csv":
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(response.content))["督办台账"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    return [
        ["" if v is None else (v.date().isoformat() if hasattr(v, "date") else str(v)) for v in r]
        for r in rows
    ]


@when(parsers.re(r'(?P<who>委员会办公室|"[^"]+" )(?:按 "(?P<colour>[^"]+)" 灯)?导出台账 "(?P<fmt>xlsx|csv)"'))
def page_export(
    client: TestClient,
    auth_headers: Callable[..., dict[str, str]],
    context: dict[str, Any],
    who: str,
    colour: str | None,
    fmt: str,
) -> None:
    who = who.strip().strip('"')
    headers = auth_headers("office") if who == OFFICE else auth_headers("department", _code(who))
    params = {"light": LIGHTS[colour]} if colour else {}
    context["ledger"] = _ledger(client, headers, fmt, params)


@then(quoted('台账的列依次为 "{columns}"'))
def ledger_columns(context: dict[str, Any], columns: str) -> None:
    assert context["ledger"][0] == [c.strip() for c in columns.split(",")]


@then(parsers.re(r"台账共 (?P<count>\d+) 行"))
def ledger_count(context: dict[str, Any], count: str) -> None:
    assert len(context["ledger"]) - 1 == int(count), context["ledger"]


@then(
    parsers.re(
        r'台账中任务 "(?P<name>[^"]+)" 的 "(?P<column>[^"]+)" 为 "(?P<value>[^"]*)"'
        r'(?:，"(?P<column2>[^"]+)" 为 "(?P<value2>[^"]*)")?'
    )
)
def ledger_cell(
    context: dict[str, Any], name: str, column: str, value: str, column2: str | None, value2: str | None
) -> None:
    header, *rows = context["ledger"]
    (row,) = [r for r in rows if r[1] == name]
    assert row[header.index(column)] == value
    if column2:
        assert row[header.index(column2)] == value2
