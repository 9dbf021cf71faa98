"""Step definitions for the Gherkin features (中文)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session, func, select

from duban.tasks.departments import load_departments
from duban.tasks.models import Department


@pytest.fixture
def context() -> dict[str, Any]:
    """What one scenario's steps hand each other."""
    return {}


@given("部门名录已经载入")
def registry_loaded(departments: Session) -> None:
    """Load the bundled registry."""


@when("调用接口查询部门名录")
def query_registry(client: TestClient, context: dict[str, Any]) -> None:
    context["response"] = client.get("/api/v1/departments")


@when(parsers.parse('调用接口查询类别为 "{kind}" 的单位'))
def query_by_kind(client: TestClient, context: dict[str, Any], kind: str) -> None:
    context["response"] = client.get("/api/v1/departments", params={"kind": kind})


@when("再次载入部门名录")
def load_again(session: Session, context: dict[str, Any]) -> None:
    context["before"] = session.exec(select(func.count()).select_from(Department)).one()
    load_departments(session)
    session.flush()


@then(parsers.parse("返回至少 {count:d} 个自治区部门"))
def at_least_bodies(context: dict[str, Any], count: int) -> None:
    bodies = context["response"].json()
    assert len([b for b in bodies if b["kind"] != "盟市"]) >= count


@then(parsers.parse("返回全部 {count:d} 个盟市"))
def all_leagues(context: dict[str, Any], count: int) -> None:
    assert len([b for b in context["response"].json() if b["kind"] == "盟市"]) == count


@then(parsers.parse('名录中有 "{name}"，简称包括 "{alias}"'))
def has_body(context: dict[str, Any], name: str, alias: str) -> None:
    match = [b for b in context["response"].json() if b["name"] == name]
    assert match and alias in match[0]["aliases"]


@then(parsers.parse('只返回 {count:d} 个盟市，其中有 "{name}"'))
def only_leagues(context: dict[str, Any], count: int, name: str) -> None:
    bodies = context["response"].json()
    assert len(bodies) == count
    assert all(b["kind"] == "盟市" for b in bodies)
    assert name in {b["name"] for b in bodies}


@then("名录中的单位数量不变")
def count_unchanged(session: Session, context: dict[str, Any]) -> None:
    assert session.exec(select(func.count()).select_from(Department)).one() == context["before"]


@then(parsers.parse("返回 {status:d} 错误，说明中先中文后英文"))
def problem_in_two_languages(context: dict[str, Any], status: int) -> None:
    response = context["response"]
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    zh, _, en = response.json()["detail"].partition(" / ")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert en and en.isascii()


@given("我以委员会办公室身份登录", target_fixture="office")
def office_login(auth_headers: Any) -> dict[str, str]:
    """Bearer headers of an office user."""
    headers: dict[str, str] = auth_headers("office")
    return headers


@given("我已导入以下文件：")
@when("我导入以下文件：")
def import_document(
    client: TestClient, office: dict[str, str], context: dict[str, Any], docstring: str
) -> None:
    document = docstring
    context["document"] = document
    context["response"] = client.post("/api/v1/plans", json={"text": document}, headers=office)


@when("我再次导入同一份文件")
def import_again(client: TestClient, office: dict[str, str], context: dict[str, Any]) -> None:
    context["response"] = client.post("/api/v1/plans", json={"text": context["document"]}, headers=office)


@when("我导入一个空文件")
def import_empty(client: TestClient, office: dict[str, str], context: dict[str, Any]) -> None:
    context["response"] = client.post(
        "/api/v1/plans", files={"file": ("空.txt", b"", "text/plain")}, headers=office
    )


@given(parsers.parse("每份规划至多允许 {limit:d} 条措施"))
def measure_limit(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, limit: int) -> None:
    from duban.core.config import get_settings

    monkeypatch.setenv("DUBAN_MAX_PLAN_MEASURES", str(limit))
    get_settings.cache_clear()
    request.addfinalizer(get_settings.cache_clear)  # after monkeypatch has put the environment back


@then("没有导入任何规划")
def no_plan_imported(client: TestClient, office: dict[str, str]) -> None:
    assert client.get("/api/v1/plans", headers=office).json() == []


@then(parsers.parse('导入结果为 "{status}"'))
def import_status(context: dict[str, Any], status: str) -> None:
    assert context["response"].json()["status"] == status, context["response"].text


@then(parsers.parse('规划 "{title}" 有 {measures:d} 条措施和 {tasks:d} 条拟办任务'))
def plan_counts(client: TestClient, office: dict[str, str], title: str, measures: int, tasks: int) -> None:
    plans = [p for p in client.get("/api/v1/plans", headers=office).json() if p["title"] == title]
    assert len(plans) == 1
    assert (plans[0]["measures"], plans[0]["tasks"]) == (measures, tasks)


@then(parsers.parse('措施 "{path}" 的任务由 "{lead}" 牵头、"{cooperating}" 配合，时限为 "{deadline}"'))
def task_assignment(context: dict[str, Any], path: str, lead: str, cooperating: str, deadline: str) -> None:
    plan = context["response"].json()["plan"]
    task = next(t for t in plan["task_list"] if "/".join(t["path"]) == path)
    assert [d["name"] for d in task["lead"]] == [lead]
    assert [d["name"] for d in task["cooperating"]] == [cooperating]
    assert task["deadline"] == deadline


@then(parsers.parse('新增的措施是 "{added}"，修改的措施是 "{changed}"'))
def revision_diff(context: dict[str, Any], added: str, changed: str) -> None:
    body = context["response"].json()
    assert body["added"] == [added]
    assert body["changed"] == [changed]


# ===== 进展报送 · 延期申请 · 配合单位报送 (records) =========================================================

# Imports of this block stay here so the blocks of other features are not disturbed.
import datetime as dt  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402

from duban.core import clock  # noqa: E402
from duban.tasks.enums import AssignmentRole, LeadSource, Role, TaskState  # noqa: E402
from duban.tasks.models import Plan, Target, Task, TaskAssignment, TaskEvent  # noqa: E402
from duban.workflow.machines import Actor  # noqa: E402
from duban.workflow.models import ExtensionRequest  # noqa: E402
from duban.workflow.records import request_extension  # noqa: E402
from duban.workflow.service import apply_action  # noqa: E402
from tests.fixtures.evidence import ready_to_submit  # noqa: E402


def _records_dept(session: Session, name: str) -> Department:
    department = session.exec(select(Department).where(Department.name == name)).one()
    return department


@pytest.fixture
def records_api(client: TestClient) -> TestClient:
    """The app over the test transaction."""
    return client


@pytest.fixture
def records_headers(auth_headers: Any, session: Session) -> Callable[[str], dict[str, str]]:
    """Bearer headers of a department user by the department's name, or of the office ("委员会办公室")."""

    def headers(name: str) -> dict[str, str]:
        if name == "委员会办公室":
            return dict(auth_headers("office"))
        return dict(auth_headers("department", _records_dept(session, name).code))

    return headers


@given(parsers.parse('系统日期为 "{day}"'))
def records_today(day: str) -> None:
    clock.set_now(f"{day}T09:00")


@given(
    parsers.parse(
        '一项任务由 "{lead}" 牵头、"{cooperating}" 配合，完成时限为 "{deadline}"，当前状态为 "{state}"'
    )
)
def records_task(
    session: Session, context: dict[str, Any], lead: str, cooperating: str, deadline: str, state: str
) -> None:
    from tests.fixtures.records import PATH

    plan = Plan(key=uuid.uuid4().hex, title="大气污染防治工作方案", content_hash="0" * 64)
    session.add(plan)
    session.flush()
    assert plan.id is not None
    day = dt.date.fromisoformat(deadline)
    task = Task(plan_id=plan.id, title="推进燃煤锅炉整治", deadline=day, original_deadline=day)
    session.add(task)
    session.flush()
    assert task.id is not None
    lead_id = _records_dept(session, lead).id
    assert lead_id is not None
    holders = [(lead_id, AssignmentRole.lead)] + [
        (_records_dept(session, name).id, AssignmentRole.cooperating) for name in cooperating.split("、")
    ]
    for position, (department_id, role) in enumerate(holders):
        assert department_id is not None
        session.add(
            TaskAssignment(
                task_id=task.id,
                department_id=department_id,
                role=role,
                source=LeadSource.explicit,
                position=position,
            )
        )
    session.flush()
    target = next(s for s in TaskState if s.label == state)
    for action, who, reason in PATH[target]:
        actor = (
            Actor(role=Role.office) if who == "office" else Actor(role=Role.department, department_id=lead_id)
        )
        if action == "submit":
            ready_to_submit(session, task.id, actor)
        apply_action(session, task.id, action, actor, reason=reason)
    session.flush()
    context.update(task_id=task.id, plan_id=plan.id, lead_id=lead_id)


@given(parsers.parse('任务所属规划有指标 "{indicator}"，目标值 "{value}"'))
def records_target(session: Session, context: dict[str, Any], indicator: str, value: str) -> None:
    session.add(
        Target(plan_id=context["plan_id"], indicator=indicator, value=value, text=f"{indicator}达到{value}")
    )
    session.flush()


@given(parsers.parse('"{name}" 已报送办结'))
def records_submitted(session: Session, context: dict[str, Any], name: str) -> None:
    """办结报送, after what it needs (a 100% report with evidence; a reason for each silent unit)."""
    actor = Actor(role=Role.department, department_id=_records_dept(session, name).id)
    ready_to_submit(session, context["task_id"], actor)
    apply_action(session, context["task_id"], "submit", actor)
    session.flush()


def _records_post_progress(
    api: TestClient, headers: dict[str, str], context: dict[str, Any], body: dict[str, Any]
) -> None:
    context["response"] = api.post(f"/api/v1/tasks/{context['task_id']}/progress", json=body, headers=headers)


@when(parsers.parse('"{name}" 报送进展 {percent:d}%，内容为 "{text}"，并填报指标 "{indicator}" 为 "{value}"'))
def records_progress_with_indicator(
    records_api: TestClient,
    records_headers: Callable[[str], dict[str, str]],
    context: dict[str, Any],
    name: str,
    percent: int,
    text: str,
    indicator: str,
    value: str,
) -> None:
    body = {
        "percent": percent,
        "text": text,
        "indicator_values": [{"indicator": indicator, "value": float(value)}],
    }
    _records_post_progress(records_api, records_headers(name), context, body)


@when(parsers.re(r'"(?P<name>[^"]+)" 报送进展 (?P<percent>\d+)%，内容为 "(?P<text>[^"]+)"$'))
def records_progress(
    records_api: TestClient,
    records_headers: Callable[[str], dict[str, str]],
    context: dict[str, Any],
    name: str,
    percent: str,
    text: str,
) -> None:
    _records_post_progress(
        records_api, records_headers(name), context, {"percent": int(percent), "text": text}
    )


@given(parsers.parse('"{name}" 已报送配合情况 "{text}"'))
@when(parsers.parse('"{name}" 报送配合情况 "{text}"'))
def records_contribution(
    records_api: TestClient,
    records_headers: Callable[[str], dict[str, str]],
    context: dict[str, Any],
    name: str,
    text: str,
) -> None:
    _records_post_progress(records_api, records_headers(name), context, {"text": text})


@then(parsers.parse('报送成功，记为 "{label}"'))
def records_accepted(context: dict[str, Any], label: str) -> None:
    response = context["response"]
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == {"进展报送": "progress", "配合情况": "contribution"}[label]


@then(parsers.parse('报送记录中指标 "{indicator}" 的数值为 "{value}"，目标值为 "{target}"'))
def records_indicator(context: dict[str, Any], indicator: str, value: str, target: str) -> None:
    (reported,) = context["response"].json()["indicator_values"]
    assert (reported["indicator"], reported["value"], reported["target_value"]) == (
        indicator,
        float(value),
        target,
    )


@then(parsers.parse('任务的审计记录中有 {count:d} 条 "{kind}" 事件'))
def records_event_count(session: Session, context: dict[str, Any], count: int, kind: str) -> None:
    query = select(func.count()).select_from(TaskEvent)
    query = query.where(TaskEvent.task_id == context["task_id"], TaskEvent.kind == kind)
    assert session.exec(query).one() == count


@then(parsers.parse('错误代码为 "{code}"'))
def records_error_code(context: dict[str, Any], code: str) -> None:
    assert context["response"].json()["code"] == code, context["response"].text


@then(parsers.parse('"{name}" 查看报送记录时能看到 "{text}"'))
def records_can_see(
    records_api: TestClient,
    records_headers: Callable[[str], dict[str, str]],
    context: dict[str, Any],
    name: str,
    text: str,
) -> None:
    page = records_api.get(f"/api/v1/tasks/{context['task_id']}/reports", headers=records_headers(name))
    assert page.status_code == 200, page.text
    assert text in [item["text"] for item in page.json()["items"]]


@then(parsers.parse('"{name}" 查看报送记录时看不到 "{text}"'))
def records_cannot_see(
    records_api: TestClient,
    records_headers: Callable[[str], dict[str, str]],
    context: dict[str, Any],
    name: str,
    text: str,
) -> None:
    page = records_api.get(f"/api/v1/tasks/{context['task_id']}/reports", headers=records_headers(name))
    assert page.status_code == 200, page.text
    assert text not in [item["text"] for item in page.json()["items"]]


@when(parsers.parse('"{name}" 申请把时限延至 "{day}"，理由为 "{reason}"'))
def records_ask_extension(
    records_api: TestClient,
    records_headers: Callable[[str], dict[str, str]],
    context: dict[str, Any],
    name: str,
    day: str,
    reason: str,
) -> None:
    response = records_api.post(
        f"/api/v1/tasks/{context['task_id']}/extensions",
        json={"requested_deadline": day, "reason": reason},
        headers=records_headers(name),
    )
    context["response"] = response
    if response.status_code == 201:
        context["extension_id"] = response.json()["id"]


@given(parsers.parse('"{name}" 已申请把时限延至 "{day}"'))
def records_asked_extension(session: Session, context: dict[str, Any], name: str, day: str) -> None:
    actor = Actor(role=Role.department, department_id=_records_dept(session, name).id)
    asked = request_extension(session, context["task_id"], actor, dt.date.fromisoformat(day), "工期紧张")
    session.flush()
    context["extension_id"] = asked.id


def _records_decide(
    api: TestClient, headers: Callable[[str], dict[str, str]], context: dict[str, Any], body: dict[str, Any]
) -> None:
    context["response"] = api.post(
        f"/api/v1/extensions/{context['extension_id']}/decision", json=body, headers=headers("委员会办公室")
    )


@when("委员会办公室批准该延期申请")
def records_grant(
    records_api: TestClient, records_headers: Callable[[str], dict[str, str]], context: dict[str, Any]
) -> None:
    _records_decide(records_api, records_headers, context, {"grant": True, "reason": "同意"})


@when(parsers.parse('委员会办公室以理由 "{reason}" 驳回该延期申请'))
def records_refuse(
    records_api: TestClient,
    records_headers: Callable[[str], dict[str, str]],
    context: dict[str, Any],
    reason: str,
) -> None:
    _records_decide(records_api, records_headers, context, {"grant": False, "reason": reason})


@when("委员会办公室不写理由驳回该延期申请")
def records_refuse_silently(
    records_api: TestClient, records_headers: Callable[[str], dict[str, str]], context: dict[str, Any]
) -> None:
    _records_decide(records_api, records_headers, context, {"grant": False})


@then(parsers.parse('延期申请的状态为 "{label}"'))
def records_extension_status(session: Session, context: dict[str, Any], label: str) -> None:
    extension = session.get(ExtensionRequest, context["extension_id"])
    assert extension is not None
    session.refresh(extension)
    assert extension.status == {"待审批": "pending", "已批准": "granted", "已驳回": "refused"}[label]


@then(parsers.parse('任务的完成时限为 "{deadline}"，原定时限为 "{original}"'))
def records_deadlines(session: Session, context: dict[str, Any], deadline: str, original: str) -> None:
    task = session.get(Task, context["task_id"])
    assert task is not None
    session.refresh(task)
    assert (task.deadline, task.original_deadline) == (
        dt.date.fromisoformat(deadline),
        dt.date.fromisoformat(original),
    )


# ===== end of records ======================================================================================


# ---- 任务办理（签收与办理、办结审核与退回、越权操作被拒绝） ----------------------------------------


def quoted(template: str) -> Any:
    """A step parser whose "{name}" fields never swallow a quote (so longer steps cannot match shorter ones)."""
    import re as _re

    pattern = _re.escape(template)
    pattern = _re.sub(r'"\\{(\w+)\\}"', lambda m: f'"(?P<{m.group(1)}>[^"]+)"', pattern)
    return parsers.re(pattern)


ACTIONS_ZH = {
    "交办": "issue",
    "签收": "accept",
    "异议": "dispute",
    "办结报送": "submit",
    "审核通过": "approve",
    "退回": "return",
    "改派": "reassign",
    "撤销": "cancel",
}


def _department_code(session: Session, name: str) -> str:
    from duban.tasks.registry import default_registry

    entry = default_registry().match_department(name)
    assert entry is not None, name
    return entry.code


def _department_headers(session: Session, auth_headers: Any, name: str) -> dict[str, str]:
    headers: dict[str, str] = auth_headers("department", _department_code(session, name))
    return headers


def _act(
    client: TestClient,
    context: dict[str, Any],
    headers: dict[str, str],
    action_zh: str,
    body: dict[str, Any] | None = None,
) -> None:
    action = ACTIONS_ZH[action_zh]
    url = f"/api/v1/tasks/{context['task_id']}"
    # The task's ETag as the caller reads it; one who may not read it sends `*` and meets the 403/401.
    if_match = client.get(url, headers=headers).headers.get("etag", "*")
    context["response"] = client.post(
        f"{url}/actions/{action}", json=body or {}, headers={**headers, "If-Match": if_match}
    )


@given(quoted('有一项由 "{lead}" 牵头、"{cooperating}" 配合的拟办任务'))
def a_draft_task(
    client: TestClient, auth_headers: Any, context: dict[str, Any], lead: str, cooperating: str
) -> None:
    text = f"工作方案\n\n一、重点任务\n（一）推进燃煤锅炉整治。2026年年底前完成。（{lead}牵头，{cooperating}配合）\n"
    response = client.post("/api/v1/plans", json={"text": text}, headers=auth_headers("office"))
    assert response.status_code == 201, response.text
    context["task_id"] = response.json()["plan"]["task_list"][0]["id"]


@given("委员会办公室已交办该任务")
def issued(client: TestClient, auth_headers: Any, context: dict[str, Any]) -> None:
    _act(client, context, auth_headers("office"), "交办")
    assert context["response"].status_code == 200, context["response"].text


@given(quoted('"{department}" 已签收该任务'))
def accepted(
    client: TestClient, session: Session, auth_headers: Any, context: dict[str, Any], department: str
) -> None:
    _act(client, context, _department_headers(session, auth_headers, department), "签收")
    assert context["response"].status_code == 200, context["response"].text


@given(quoted('"{department}" 已报送该任务'))
def submitted(
    client: TestClient, session: Session, auth_headers: Any, context: dict[str, Any], department: str
) -> None:
    """办结报送, after what it needs (a 100% report with evidence; a reason for each silent unit)."""
    lead = Actor(role=Role.department, department_id=_records_dept(session, department).id)
    ready_to_submit(session, context["task_id"], lead)
    session.flush()
    _act(client, context, _department_headers(session, auth_headers, department), "办结报送")
    assert context["response"].status_code == 200, context["response"].text


@when(quoted('委员会办公室对任务执行 "{action}"'))
def office_acts(client: TestClient, auth_headers: Any, context: dict[str, Any], action: str) -> None:
    _act(client, context, auth_headers("office"), action)


@when(quoted('委员会办公室以理由 "{reason}" 对任务执行 "{action}"'))
def office_acts_with_reason(
    client: TestClient, auth_headers: Any, context: dict[str, Any], reason: str, action: str
) -> None:
    _act(client, context, auth_headers("office"), action, {"reason": reason})


@when(quoted('委员会办公室不写理由对任务执行 "{action}"'))
def office_acts_without_reason(
    client: TestClient, auth_headers: Any, context: dict[str, Any], action: str
) -> None:
    _act(client, context, auth_headers("office"), action)


@when(quoted('委员会办公室把任务改派给 "{department}"'))
def office_reassigns(
    client: TestClient, session: Session, auth_headers: Any, context: dict[str, Any], department: str
) -> None:
    code = _department_code(session, department)
    department_id = session.exec(select(Department.id).where(Department.code == code)).one()
    _act(client, context, auth_headers("office"), "改派", {"new_lead_id": department_id})


@when(quoted('"{department}" 对任务执行 "{action}"'))
@when(quoted('"{department}" 不写理由对任务执行 "{action}"'))
def department_acts(
    client: TestClient,
    session: Session,
    auth_headers: Any,
    context: dict[str, Any],
    department: str,
    action: str,
) -> None:
    _act(client, context, _department_headers(session, auth_headers, department), action)


@when(quoted('"{department}" 以理由 "{reason}" 对任务执行 "{action}"'))
def department_acts_with_reason(
    client: TestClient,
    session: Session,
    auth_headers: Any,
    context: dict[str, Any],
    department: str,
    reason: str,
    action: str,
) -> None:
    _act(client, context, _department_headers(session, auth_headers, department), action, {"reason": reason})


@when(quoted('"{department}" 以幂等键 "{key}" 对任务执行 "{action}" 两次'))
def department_acts_twice(
    client: TestClient,
    session: Session,
    auth_headers: Any,
    context: dict[str, Any],
    department: str,
    key: str,
    action: str,
) -> None:
    headers = {**_department_headers(session, auth_headers, department), "Idempotency-Key": key}
    context["responses"] = []
    for _ in range(2):
        _act(client, context, headers, action)
        context["responses"].append(context["response"])


@then("两次答复相同")
def same_answers(context: dict[str, Any]) -> None:
    first, second = context["responses"]
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert first.json() == second.json()
    assert first.headers["ETag"] == second.headers["ETag"]


@then(quoted('答复中的任务状态为 "{label}"，版本与 ETag 和任务当前的版本一致'))
def answer_matches_task(client: TestClient, auth_headers: Any, context: dict[str, Any], label: str) -> None:
    from duban.tasks.enums import TaskState

    response = context["response"]
    assert response.status_code == 200, response.text
    answered = response.json()["task"]
    current = _task(client, auth_headers, context)
    assert TaskState(answered["state"]).label == label
    assert answered["version"] == current["version"]
    assert response.headers["ETag"] == f'"v{current["version"]}"'


@then(quoted('答复中下一步可执行的操作为 "{actions}"'))
def answer_allows(context: dict[str, Any], actions: str) -> None:
    assert context["response"].json()["task"]["allowed_actions"] == [a.strip() for a in actions.split(",")]


@when(quoted('"{department}" 查看该任务'))
def department_views(
    client: TestClient, session: Session, auth_headers: Any, context: dict[str, Any], department: str
) -> None:
    headers = _department_headers(session, auth_headers, department)
    context["response"] = client.get(f"/api/v1/tasks/{context['task_id']}", headers=headers)


@when(quoted('未登录的调用方对任务执行 "{action}"'))
def anonymous_acts(client: TestClient, context: dict[str, Any], action: str) -> None:
    _act(client, context, {}, action)


def _task(client: TestClient, auth_headers: Any, context: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/api/v1/tasks/{context['task_id']}", headers=auth_headers("office"))
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


@then(quoted('任务状态为 "{label}"'))
def task_state_is(client: TestClient, auth_headers: Any, context: dict[str, Any], label: str) -> None:
    from duban.tasks.enums import TaskState

    assert TaskState(_task(client, auth_headers, context)["state"]).label == label


@then(quoted('办理记录依次为 "{kinds}"'))
def events_in_order(client: TestClient, auth_headers: Any, context: dict[str, Any], kinds: str) -> None:
    events = client.get(f"/api/v1/tasks/{context['task_id']}/events", headers=auth_headers("office")).json()
    assert [e["kind"] for e in events] == [k.strip() for k in kinds.split(",")]


@then(quoted('办理记录中 "{kind}" 的理由是 "{reason}"'))
def event_reason(
    client: TestClient, auth_headers: Any, context: dict[str, Any], kind: str, reason: str
) -> None:
    events = client.get(f"/api/v1/tasks/{context['task_id']}/events", headers=auth_headers("office")).json()
    assert [e["reason"] for e in events if e["kind"] == kind] == [reason]


@then(quoted('任务的牵头单位是 "{name}"'))
def lead_is(client: TestClient, auth_headers: Any, context: dict[str, Any], name: str) -> None:
    assert [d["name"] for d in _task(client, auth_headers, context)["lead"]] == [name]


@then(quoted('"{department}" 对该任务已无可执行的操作'))
def nothing_left(
    client: TestClient, session: Session, auth_headers: Any, context: dict[str, Any], department: str
) -> None:
    headers = _department_headers(session, auth_headers, department)
    task = client.get(f"/api/v1/tasks/{context['task_id']}", headers=headers).json()
    assert task["allowed_actions"] == []


@then(quoted('返回的可执行操作为 "{actions}"'))
def allowed_listed(context: dict[str, Any], actions: str) -> None:
    assert context["response"].json()["allowed_actions"] == [a.strip() for a in actions.split(",")]


# ===== 分工导入 · 异议后重新交办 (issue 4: responsibility, review, 分工方案) ===================================

# Imports of this block stay here so the blocks of other features are not disturbed.
import io as _io  # noqa: E402
import re as _re  # noqa: E402

from openpyxl import load_workbook as _load_workbook  # noqa: E402


@pytest.fixture
def review_api(client: TestClient) -> TestClient:
    """The app over the test transaction."""
    return client


def _review_plan_id(context: dict[str, Any]) -> int:
    """The plan the background imported (remembered before later steps replace the response)."""
    if "review_plan_id" not in context:
        context["review_plan_id"] = context["response"].json()["plan"]["id"]
    plan_id: int = context["review_plan_id"]
    return plan_id


def _review_task(
    api: TestClient, office: dict[str, str], context: dict[str, Any], path: str
) -> dict[str, Any]:
    plan = api.get(f"/api/v1/plans/{_review_plan_id(context)}", headers=office).json()
    brief = next(t for t in plan["task_list"] if "/".join(t["path"]) == path)
    task: dict[str, Any] = api.get(f"/api/v1/tasks/{brief['id']}", headers=office).json()
    return task


def _review_upload(api: TestClient, office: dict[str, str], context: dict[str, Any], book: Any) -> None:
    out = _io.BytesIO()
    book.save(out)
    context["response"] = api.post(
        f"/api/v1/plans/{_review_plan_id(context)}/division",
        files={"file": ("分工方案.xlsx", out.getvalue(), "application/octet-stream")},
        headers=office,
    )


def _review_sheet(api: TestClient, office: dict[str, str], context: dict[str, Any]) -> Any:
    download = api.get(f"/api/v1/plans/{_review_plan_id(context)}/division.xlsx", headers=office)
    assert download.status_code == 200, download.text
    return _load_workbook(_io.BytesIO(download.content))


def _review_cell(book: Any, number: int, column: str) -> Any:
    sheet = book["分工方案"]
    header = [cell.value for cell in sheet[2]]
    return sheet.cell(row=number + 2, column=header.index(column) + 1)


@then(quoted('措施 "{path}" 的牵头单位为 "{name}"，来源为 "{source}"，依据规则 "{rule}"'))
def review_rule_lead(
    review_api: TestClient,
    office: dict[str, str],
    context: dict[str, Any],
    path: str,
    name: str,
    source: str,
    rule: str,
) -> None:
    lead = _review_task(review_api, office, context, path)["lead"]
    assert [(d["name"], d["source"]) for d in lead] == [(name, source)]
    assert lead[0]["evidence"][0]["rule_ids"][0] == rule


@then(quoted('措施 "{path}" 的牵头单位为 "{name}"，来源为 "{source}"'))
def review_text_lead(
    review_api: TestClient, office: dict[str, str], context: dict[str, Any], path: str, name: str, source: str
) -> None:
    lead = _review_task(review_api, office, context, path)["lead"]
    assert [(d["name"], d["source"]) for d in lead] == [(name, source)]


@then(quoted('措施 "{path}" 的完成时限为 "{deadline}"，注明为默认时限'))
def review_default_deadline(
    review_api: TestClient, office: dict[str, str], context: dict[str, Any], path: str, deadline: str
) -> None:
    task = _review_task(review_api, office, context, path)
    assert (task["deadline"], task["deadline_source"]) == (deadline, "default")
    assert "默认" in task["deadline_note"]


@when(
    parsers.re(
        r'我导出分工方案，把第 (?P<number>\d+) 项任务的 "(?P<column>[^"]+)" 改为 "(?P<value>[^"]+)"'
        r'(?:、"(?P<column2>[^"]+)" 改为 "(?P<value2>[^"]+)")?，再导回'
    )
)
def review_edit_and_upload(
    review_api: TestClient,
    office: dict[str, str],
    context: dict[str, Any],
    number: str,
    column: str,
    value: str,
    column2: str | None,
    value2: str | None,
) -> None:
    book = _review_sheet(review_api, office, context)
    _review_cell(book, int(number), column).value = value
    if column2 and value2:
        _review_cell(book, int(number), column2).value = value2
    _review_upload(review_api, office, context, book)


@when(parsers.re(r"我导出分工方案，删除第 (?P<number>\d+) 项任务所在的行，再导回"))
def review_delete_row_and_upload(
    review_api: TestClient, office: dict[str, str], context: dict[str, Any], number: str
) -> None:
    book = _review_sheet(review_api, office, context)
    book["分工方案"].delete_rows(int(number) + 2)
    _review_upload(review_api, office, context, book)


@then(parsers.re(r"导入成功，修改了 (?P<count>\d+) 项任务"))
def review_import_ok(context: dict[str, Any], count: str) -> None:
    response = context["response"]
    assert response.status_code == 200, response.text
    assert len(response.json()["changed"]) == int(count)


@then(quoted('措施 "{path}" 的任务现由 "{lead}" 牵头，时限为 "{deadline}"'))
def review_lead_and_deadline(
    review_api: TestClient,
    office: dict[str, str],
    context: dict[str, Any],
    path: str,
    lead: str,
    deadline: str,
) -> None:
    task = _review_task(review_api, office, context, path)
    assert [d["name"] for d in task["lead"]] == [lead]
    assert task["deadline"] == deadline


@then(quoted('措施 "{path}" 的办理记录依次为 "{kinds}"'))
def review_events(
    review_api: TestClient, office: dict[str, str], context: dict[str, Any], path: str, kinds: str
) -> None:
    task = _review_task(review_api, office, context, path)
    events = review_api.get(f"/api/v1/tasks/{task['id']}/events", headers=office).json()
    assert [e["kind"] for e in events] == [k.strip() for k in kinds.split(",")]


@then(parsers.re(r'错误指出第 (?P<row>\d+) 行 "(?P<column>[^"]+)" 列(?:，建议 "(?P<suggestion>[^"]+)")?'))
def review_error_cell(context: dict[str, Any], row: str, column: str, suggestion: str | None) -> None:
    errors = context["response"].json()["errors"]
    found = [e for e in errors if e["row"] == int(row) and e["column"] == column]
    assert found, errors
    if suggestion:
        assert suggestion in found[0]["suggestions"]


@then("错误说明行数已改变")
def review_error_row_count(context: dict[str, Any]) -> None:
    errors = context["response"].json()["errors"]
    assert any(e.get("code") == "row_count" and "行数" in e["message_zh"] for e in errors), errors


@given("委员会办公室已交办该规划")
def review_plan_issued(review_api: TestClient, office: dict[str, str], context: dict[str, Any]) -> None:
    response = review_api.post(
        f"/api/v1/plans/{_review_plan_id(context)}/issue",
        headers=office,
        json={"confirm_past_deadlines": True},
    )
    assert response.status_code == 200, response.text


@when(quoted('"{department}" 以理由 "{reason}" 对措施 "{path}" 的任务提出异议'))
def review_dispute(
    review_api: TestClient,
    session: Session,
    auth_headers: Any,
    office: dict[str, str],
    context: dict[str, Any],
    department: str,
    reason: str,
    path: str,
) -> None:
    task = _review_task(review_api, office, context, path)
    headers = _department_headers(session, auth_headers, department)
    context["response"] = review_api.post(
        f"/api/v1/tasks/{task['id']}/actions/dispute",
        json={"reason": reason},
        headers={**headers, "If-Match": f'"v{task["version"]}"'},
    )
    assert context["response"].status_code == 200, context["response"].text


@then(quoted('审定清单的第 1 项是措施 "{path}" 的任务，异议理由为 "{reason}"'))
def review_first_is_disputed(
    review_api: TestClient, office: dict[str, str], context: dict[str, Any], path: str, reason: str
) -> None:
    listing = review_api.get(f"/api/v1/plans/{_review_plan_id(context)}/review", headers=office).json()
    first = listing["items"][0]
    assert "/".join(first["path"]) == path and first["disputed"]
    assert first["dispute"]["reason"] == reason


@when(quoted('委员会办公室把措施 "{path}" 的任务改由 "{department}" 牵头'))
def review_patch_lead(
    review_api: TestClient, office: dict[str, str], context: dict[str, Any], path: str, department: str
) -> None:
    task = _review_task(review_api, office, context, path)
    context["response"] = review_api.patch(
        f"/api/v1/tasks/{task['id']}",
        json={"lead": [department]},
        headers={**office, "If-Match": f'"v{task["version"]}"'},
    )


@when(quoted('委员会办公室重新交办措施 "{path}" 的任务'))
def review_reissue(
    review_api: TestClient, office: dict[str, str], context: dict[str, Any], path: str
) -> None:
    task = _review_task(review_api, office, context, path)
    context["response"] = review_api.post(
        f"/api/v1/tasks/{task['id']}/actions/issue", headers={**office, "If-Match": f'"v{task["version"]}"'}
    )
    assert context["response"].status_code == 200, context["response"].text


@then(quoted('措施 "{path}" 的任务状态为 "{label}"，由 "{lead}" 牵头'))
def review_state_and_lead(
    review_api: TestClient, office: dict[str, str], context: dict[str, Any], path: str, label: str, lead: str
) -> None:
    from duban.tasks.enums import TaskState as _State

    task = _review_task(review_api, office, context, path)
    assert _State(task["state"]).label == label
    assert [d["name"] for d in task["lead"]] == [lead]


@then(quoted('"{department}" 可以签收措施 "{path}" 的任务'))
def review_new_lead_accepts(
    review_api: TestClient,
    session: Session,
    auth_headers: Any,
    office: dict[str, str],
    context: dict[str, Any],
    department: str,
    path: str,
) -> None:
    task = _review_task(review_api, office, context, path)
    headers = _department_headers(session, auth_headers, department)
    response = review_api.post(
        f"/api/v1/tasks/{task['id']}/actions/accept", headers={**headers, "If-Match": f'"v{task["version"]}"'}
    )
    assert response.status_code == 200, response.text
    assert _re.fullmatch(r'"v\d+"', response.headers["ETag"])


@then("审定清单中没有待处理的异议")
def review_no_disputes(review_api: TestClient, office: dict[str, str], context: dict[str, Any]) -> None:
    listing = review_api.get(f"/api/v1/plans/{_review_plan_id(context)}/review", headers=office).json()
    assert listing["disputed"] == 0 and not any(item["disputed"] for item in listing["items"])


# ===== end of 分工导入 · 异议后重新交办 =====================================================================


# ===== 临近提醒 · 逾期催办 · 督办升级 · 约谈确认 · 节假日不发送 · 部门每日摘要 · 延期后重新计时 (issue 6) =====

import email as _email  # noqa: E402
import email.policy as _email_policy  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402
from dataclasses import field as _field  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

from duban.core.config import get_settings as _get_settings  # noqa: E402
from duban.notifications.messages import EVENT_LABELS as _EVENT_LABELS  # noqa: E402
from duban.notifications.models import NotificationOutbox as _Outbox  # noqa: E402
from duban.notifications.models import OutboxKind as _OutboxKind  # noqa: E402
from duban.workflow.errors import WorkflowError as _WorkflowError  # noqa: E402
from duban.workflow.machines import rung_of as _rung_of  # noqa: E402
from duban.workflow.policy import LADDER_KINDS as _LADDER_KINDS  # noqa: E402
from duban.workflow.records import decide_extension as _decide_extension  # noqa: E402
from duban.workflow.sweep import apply_ladder_action as _apply_ladder_action  # noqa: E402
from tests.notifications.scenario import Scenario as _Scenario  # noqa: E402
from tests.notifications.scenario import at as _at  # noqa: E402
from tests.notifications.scenario import deliver_at as _deliver_at  # noqa: E402
from tests.notifications.scenario import open_scenario as _open_scenario  # noqa: E402
from tests.notifications.scenario import run_jobs as _run_jobs  # noqa: E402

_LADDER_ACTIONS_ZH = {"约谈": "interview", "问责": "hold_accountable"}


@_dataclass
class SweepWorld:
    """The scheduler scenarios' state: named tasks, actions planned for a moment, the mail folder."""

    scene: _Scenario
    mail_dir: _Path
    tasks: dict[str, int] = _field(default_factory=dict)
    agenda: list[tuple[dt.datetime, Callable[[], None]]] = _field(default_factory=list)
    extensions: dict[str, int] = _field(default_factory=dict)

    def department(self, name: str) -> str:
        """The scene key of a department named as documents write it (registered on first use)."""
        if name not in self.scene.ids:
            code = _department_code(self.scene.session, name)
            found = self.scene.session.exec(select(Department.id).where(Department.code == code)).one()
            assert found is not None
            self.scene.ids[name] = found
        return name

    def run_agenda(self, until: dt.datetime) -> None:
        """Carry out the planned actions due by `until`, in time order."""
        due = sorted((item for item in self.agenda if item[0] <= until), key=lambda item: item[0])
        self.agenda = [item for item in self.agenda if item[0] > until]
        for moment, action in due:
            clock.set_now(moment)
            action()
            self.scene.session.commit()

    def advance(self, moment: dt.datetime, *, sweep: bool) -> None:
        """Planned actions, a sweep (if asked), the queued notices, and delivery at `moment`."""
        self.run_agenda(moment)
        if sweep:
            self.scene.sweep(moment)
        _run_jobs(self.scene, moment)
        _deliver_at(self.scene, moment)

    def notices(self, department: str) -> list[_Outbox]:
        """The department's notices by mail (one row per notice), oldest first."""
        return self.scene.outbox(
            department_id=self.scene.ids[self.department(department)],
            channel="email",
            kind=_OutboxKind.notice,
        )

    def mails(self) -> list[_email.message.EmailMessage]:
        """Every mail written to the folder."""
        return [
            _email.message_from_bytes(path.read_bytes(), policy=_email_policy.default)
            for path in sorted(self.mail_dir.glob("*.eml"))
        ]


def _notice_label(row: _Outbox) -> str:
    if row.rule == "event":
        return _EVENT_LABELS.get(row.step, row.step)
    if row.step.startswith("remind_"):
        return "临近提醒"
    if row.step.startswith("contribution_remind"):
        return "配合报送提醒"
    if row.step.startswith("contribution_urge"):
        return "配合报送催办"
    if row.step == "accept":
        return "签收提醒"
    return _LADDER_KINDS[row.step].label


@pytest.fixture
def sweep_world(session: Session, tmp_path: _Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SweepWorld]:
    """Scheduler scenarios over the rolled-back session; mail goes to a folder of this test."""
    monkeypatch.setenv("DUBAN_MAIL_DIR", str(tmp_path / "mail"))
    _get_settings.cache_clear()
    for scene in _open_scenario(session):
        yield SweepWorld(scene, tmp_path / "mail")


@given(
    quoted(
        '任务 "{name}" 由 "{lead}" 牵头、"{cooperating}" 配合，于 "{issued}" 交办并签收，完成时限为 "{deadline}"'
    )
)
def sweep_task(
    sweep_world: SweepWorld, name: str, lead: str, cooperating: str, issued: str, deadline: str
) -> None:
    sweep_world.tasks[name] = sweep_world.scene.task(
        dt.date.fromisoformat(deadline),
        issued=f"{issued}T09:00",
        leads=(sweep_world.department(lead),),
        cooperating=(sweep_world.department(cooperating),),
        title=name,
    )
    sweep_world.scene.session.commit()
    _run_jobs(sweep_world.scene, f"{issued}T09:00")


@given(quoted('"{department}" 将于 "{moment}" 报送任务 "{name}" 办结'))
def sweep_plan_submit(sweep_world: SweepWorld, department: str, moment: str, name: str) -> None:
    who = sweep_world.department(department)
    sweep_world.agenda.append(
        (_at(moment), lambda: sweep_world.scene.act(sweep_world.tasks[name], "submit", who, moment))
    )


@given(quoted('委员会办公室将于 "{moment}" 审核通过任务 "{name}"'))
def sweep_plan_approve(sweep_world: SweepWorld, moment: str, name: str) -> None:
    sweep_world.agenda.append(
        (_at(moment), lambda: sweep_world.scene.act(sweep_world.tasks[name], "approve", "office", moment))
    )


@given(quoted('"{department}" 将于 "{moment}" 申请把任务 "{name}" 的时限延至 "{day}"'))
def sweep_plan_extension(sweep_world: SweepWorld, department: str, moment: str, name: str, day: str) -> None:
    who = sweep_world.department(department)

    def ask() -> None:
        asked = request_extension(
            sweep_world.scene.session,
            sweep_world.tasks[name],
            sweep_world.scene.actor(who),
            dt.date.fromisoformat(day),
            "工程量增加",
        )
        assert asked.id is not None
        sweep_world.extensions[name] = asked.id

    sweep_world.agenda.append((_at(moment), ask))


@given(quoted('委员会办公室将于 "{moment}" 批准任务 "{name}" 的延期申请'))
def sweep_plan_grant(sweep_world: SweepWorld, moment: str, name: str) -> None:
    def grant() -> None:
        office = sweep_world.scene.actor("office")
        _decide_extension(
            sweep_world.scene.session, sweep_world.extensions[name], office, grant=True, reason="同意"
        )

    sweep_world.agenda.append((_at(moment), grant))


@when(quoted('调度程序从 "{start}" 到 "{end}" 每天 "{time}" 巡查一次'))
def sweep_daily(sweep_world: SweepWorld, start: str, end: str, time: str) -> None:
    day, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    while day <= last:
        sweep_world.advance(_at(f"{day.isoformat()}T{time}"), sweep=True)
        day += dt.timedelta(days=1)


@given(quoted('在 "{moment}" 投递到期的消息'))
@when(quoted('在 "{moment}" 投递到期的消息'))
def sweep_deliver(sweep_world: SweepWorld, moment: str) -> None:
    sweep_world.advance(_at(moment), sweep=False)


@when(quoted('委员会办公室在 "{moment}" 确认对任务 "{name}" "{action}"'))
def sweep_office_confirms(sweep_world: SweepWorld, moment: str, name: str, action: str) -> None:
    clock.set_now(_at(moment))
    scene = sweep_world.scene
    _apply_ladder_action(
        scene.session, sweep_world.tasks[name], _LADDER_ACTIONS_ZH[action], scene.actor("office")
    )
    scene.session.commit()
    sweep_world.advance(_at(moment), sweep=False)


@when(quoted('"{department}" 在 "{moment}" 试图对任务 "{name}" 确认 "{action}"'))
def sweep_department_confirms(
    sweep_world: SweepWorld, context: dict[str, Any], department: str, moment: str, name: str, action: str
) -> None:
    clock.set_now(_at(moment))
    scene = sweep_world.scene
    context["ladder_level"] = scene.level(sweep_world.tasks[name])
    context["ladder_task"] = sweep_world.tasks[name]
    actor = scene.actor(sweep_world.department(department))
    try:
        _apply_ladder_action(scene.session, sweep_world.tasks[name], _LADDER_ACTIONS_ZH[action], actor)
    except _WorkflowError as error:
        context["ladder_error"] = error.code
    else:
        context["ladder_error"] = None


@when(quoted('委员会办公室在 "{moment}" 对任务 "{name}" 发出督办单'))
def sweep_office_supervises(sweep_world: SweepWorld, moment: str, name: str) -> None:
    clock.set_now(_at(moment))
    scene = sweep_world.scene
    _apply_ladder_action(
        scene.session, sweep_world.tasks[name], "supervise", scene.actor("office"), reason="专项督办"
    )
    scene.session.commit()
    _run_jobs(scene, moment)


@when(quoted('委员会办公室在 "{moment}" 撤销任务 "{name}"，而消息队列恰好中断'))
def sweep_cancel_while_broker_down(sweep_world: SweepWorld, moment: str, name: str) -> None:
    scene = sweep_world.scene
    scene.act(sweep_world.tasks[name], "cancel", "office", moment, reason="已并入其他专项任务")
    scene.session.commit()
    scene.sent_jobs.clear()  # the broker never took the notify job


@then("该确认被拒绝")
def sweep_confirmation_refused(sweep_world: SweepWorld, context: dict[str, Any]) -> None:
    assert context["ladder_error"] == "forbidden"
    assert sweep_world.scene.level(context["ladder_task"]) == context["ladder_level"]


@then(quoted('"{department}" 收到 "{label}" 的日期依次为 "{days}"'))
def sweep_notice_days(sweep_world: SweepWorld, department: str, label: str, days: str) -> None:
    found = [
        row.created_at.astimezone(clock.TZ).date().isoformat()
        for row in sweep_world.notices(department)
        if _notice_label(row) == label
    ]
    assert found == [day.strip() for day in days.split(",")], found


@then(quoted('"{department}" 没有收到 "{label}"'))
def sweep_no_notice(sweep_world: SweepWorld, department: str, label: str) -> None:
    assert [row.step for row in sweep_world.notices(department) if _notice_label(row) == label] == []


@then(quoted('任务 "{name}" 的督办层级为 "{label}"'))
def sweep_level(sweep_world: SweepWorld, name: str, label: str) -> None:
    level, colour = sweep_world.scene.level(sweep_world.tasks[name])
    assert _rung_of(level, colour).label == label


@then(quoted('"{department}" 在 "{day}" 收到 1 封每日摘要，事项依次为 "{titles}"'))
def sweep_digest(sweep_world: SweepWorld, department: str, day: str, titles: str) -> None:
    digests = [
        row
        for row in sweep_world.scene.outbox(
            kind=_OutboxKind.digest, department_id=sweep_world.scene.ids[sweep_world.department(department)]
        )
        if row.channel == "email" and row.created_at.astimezone(clock.TZ).date().isoformat() == day
    ]
    assert len(digests) == 1
    (digest,) = digests
    assert [item["title"] for item in digest.payload["items"]] == [t.strip() for t in titles.split(",")]
    (mail,) = [m for m in sweep_world.mails() if m["Message-ID"] == digest.message_id]
    assert mail["Subject"].startswith("【每日督办摘要】")


@then(
    parsers.re(
        r'"(?P<department>[^"]+)" 收到主题以 "(?P<prefix>[^"]+)" 开头的邮件 (?P<count>\d+) 封'
        r'(?:，发于 "(?P<moment>[^"]+)")?'
    )
)
def sweep_mail_count(
    sweep_world: SweepWorld, department: str, prefix: str, count: str, moment: str | None
) -> None:
    address = sweep_world.scene.session.get(
        Department, sweep_world.scene.ids[sweep_world.department(department)]
    )
    assert address is not None
    mails = [m for m in sweep_world.mails() if m["To"] == address.email and m["Subject"].startswith(prefix)]
    assert len(mails) == int(count)
    if moment:
        sent = _email.utils.parsedate_to_datetime(mails[0]["Date"])
        assert sent == _at(moment)


@then(quoted('"{department}" 没有收到主题以 "{prefix}" 开头的邮件'))
def sweep_no_mail(sweep_world: SweepWorld, department: str, prefix: str) -> None:
    sweep_mail_count(sweep_world, department, prefix, "0", None)


@then(quoted('"{start}" 至 "{end}" 之间没有产生或发出任何通知'))
def sweep_quiet(sweep_world: SweepWorld, start: str, end: str) -> None:
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)

    def inside(moment: dt.datetime | None) -> bool:
        return moment is not None and first <= moment.astimezone(clock.TZ).date() <= last

    assert [
        row.id for row in sweep_world.scene.outbox() if inside(row.created_at) or inside(row.sent_at)
    ] == []
    assert [
        m["Subject"] for m in sweep_world.mails() if inside(_email.utils.parsedate_to_datetime(m["Date"]))
    ] == []


# ===== end of issue 6 =====================================================================================
from tests.bdd.steps_audit import *  # noqa: E402, F403  (the audit log refuses change: issue 14)
from tests.bdd.steps_batch import *  # noqa: E402, F403  (batch work: issue 15)
from tests.bdd.steps_deadlines import *  # noqa: E402, F403  (deadlines: issue 13)
from tests.bdd.steps_documents import *  # noqa: E402, F403  (files as offices receive them: issue 13)
from tests.bdd.steps_every_day import *  # noqa: E402, F403  (a phone, the board's batches: issue 15)
from tests.bdd.steps_evidence import *  # noqa: E402, F403  (佐证材料 and what 办结 needs: issue 16)
from tests.bdd.steps_first_day import *  # noqa: E402, F403  (the first day: issue 15)
from tests.bdd.steps_identity import *  # noqa: E402, F403  (plan identity: issue 14)
from tests.bdd.steps_pages import *  # noqa: E402, F403  (the page features: issue 7)
from tests.bdd.steps_paperwork import *  # noqa: E402, F403  (督办单, 通报, 分工方案: issue 16)
from tests.bdd.steps_past_deadlines import *  # noqa: E402, F403  (past deadlines at issue: issue 14)
from tests.bdd.steps_reading import *  # noqa: E402, F403  (the responsibility grammar and layouts: issue 13)
from tests.bdd.steps_review_tree import *  # noqa: E402, F403  (plan review as the outline: issue 15)
from tests.bdd.steps_runtime import *  # noqa: E402, F403  (reminders keep running: issue 14)
from tests.bdd.steps_units import *  # noqa: E402, F403  (written, proposed, resolved units: issue 13)
from tests.bdd.steps_users import *  # noqa: E402, F403  (users: issue 14)
