"""Steps of 用户与登录 (imported by tests/bdd/conftest.py): the administrator's users page, a disabled user
stopped at once, and sign-in throttling seen from the sign-in endpoint at two addresses (页面提示 "…" is
the page features' step)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session, select

from duban.api.users import create_api_token, create_user
from duban.core import clock
from duban.tasks.enums import Role
from duban.tasks.models import User
from duban.tasks.registry import default_registry
from tests.api.pages.helpers import PageClient, ensure_user, page_clients, text_of
from tests.bdd.conftest import quoted

ROLES = {"委员会办公室": "office", "成员单位": "department", "系统管理员": "admin"}


@pytest.fixture
def people(session: Session) -> Iterator[Callable[[], PageClient]]:
    """Fresh page clients (each its own cookie jar) over the scenario's transaction."""
    with page_clients() as open_client:
        yield open_client


@pytest.fixture
def addresses(session: Session) -> Iterator[Callable[[str], TestClient]]:
    """An API client per address, as if each came from that address."""
    from duban.api.app import create_app

    with ExitStack() as stack:
        made: dict[str, TestClient] = {}

        def client_at(address: str) -> TestClient:
            if address not in made:
                made[address] = stack.enter_context(
                    TestClient(create_app(), client=(address, 5000), raise_server_exceptions=False)
                )
            return made[address]

        yield client_at


def _code(name: str) -> str:
    entry = default_registry().match_department(name)
    assert entry is not None, name
    return entry.code


def _user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


@given("系统管理员已登录")
def admin_signed_in(session: Session, people: Callable[[], PageClient], context: dict[str, Any]) -> None:
    ensure_user(session, "bdd-admin", Role.admin)
    admin = people()
    assert admin.login("bdd-admin").status_code == 303
    context["admin"] = admin
    clock.set_now("2026-03-02T09:00:00")


@given(quoted('有 "{department}" 的用户 "{username}"，密码 "{password}"，并有一个 API 令牌'))
def user_with_token(
    session: Session, context: dict[str, Any], department: str, username: str, password: str
) -> None:
    create_user(session, username, Role.department, password, _code(department))
    context.setdefault("tokens", {})[username] = create_api_token(session, username, "OA").token
    session.flush()


@given(quoted('有 "{department}" 的用户 "{username}"，密码 "{password}"'))
def user_with_password(session: Session, department: str, username: str, password: str) -> None:
    create_user(session, username, Role.department, password, _code(department))
    session.flush()


@given(quoted('"{username}" 已用密码 "{password}" 在页面上登录'))
def signed_in_on_a_page(
    people: Callable[[], PageClient], context: dict[str, Any], username: str, password: str
) -> None:
    page = people()
    assert page.login(username, password).status_code == 303
    assert page.get("/tasks").status_code == 200
    context.setdefault("pages", {})[username] = page


def _create(
    context: dict[str, Any], role: str, username: str, department: str, password: str, again: str
) -> None:
    form = {
        "form": "create",
        "username": username,
        "role": ROLES[role],
        "department": _code(department) if department else "",
        "password": password,
        "password_again": again,
    }
    context["page"] = context["admin"].post("/users", form)


@when(quoted('系统管理员新建 "{role}" 用户 "{username}"，单位 "{department}"，密码 "{password}"'))
def admin_creates(context: dict[str, Any], role: str, username: str, department: str, password: str) -> None:
    _create(context, role, username, department, password, password)
    assert context["page"].status_code == 303, context["page"].text[:500]


@when(quoted('系统管理员新建 "{role}" 用户 "{username}"，密码 "{password}"，再次输入 "{again}"'))
def admin_creates_mistyped(
    context: dict[str, Any], role: str, username: str, password: str, again: str
) -> None:
    _create(context, role, username, "", password, again)


@when(quoted('系统管理员停用 "{username}"'))
def admin_disables(session: Session, context: dict[str, Any], username: str) -> None:
    response = context["admin"].post(f"/users/{_user(session, username).id}/disable")
    assert response.status_code == 303, response.text[:500]


@when(quoted('系统管理员启用 "{username}"'))
def admin_enables(session: Session, context: dict[str, Any], username: str) -> None:
    response = context["admin"].post(f"/users/{_user(session, username).id}/enable")
    assert response.status_code == 303, response.text[:500]


@when(quoted('系统管理员把 "{username}" 的密码设为 "{password}"'))
def admin_sets_password(session: Session, context: dict[str, Any], username: str, password: str) -> None:
    response = context["admin"].post(
        f"/users/{_user(session, username).id}/password", {"password": password, "password_again": password}
    )
    assert response.status_code == 303, response.text[:500]


def _row(context: dict[str, Any], username: str) -> str | None:
    page = context["admin"].get("/users")
    assert page.status_code == 200
    for row in page.text.split("<tr")[1:]:
        cells = text_of("<tr" + row.split("</tr>")[0])
        if cells.startswith(username + " "):
            return cells
    return None


@then(quoted('用户列表中有 "{username}"，状态为 "{status}"'))
def listed_with(context: dict[str, Any], username: str, status: str) -> None:
    row = _row(context, username)
    assert row is not None and status in row, row


@then(quoted('用户列表中没有 "{username}"'))
def not_listed(context: dict[str, Any], username: str) -> None:
    assert _row(context, username) is None


@then(quoted('"{username}" 用密码 "{password}" 可以登录'))
def can_sign_in(people: Callable[[], PageClient], username: str, password: str) -> None:
    assert people().login(username, password).status_code == 303


@then(quoted('"{username}" 用密码 "{password}" 不能登录'))
def cannot_sign_in(people: Callable[[], PageClient], username: str, password: str) -> None:
    response = people().login(username, password)
    assert response.status_code == 401 and "用户名或密码不正确" in text_of(response.text)


@then(quoted('"{username}" 的页面会话要求重新登录'))
def session_ended(context: dict[str, Any], username: str) -> None:
    response = context["pages"][username].get("/tasks")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@then(quoted('"{username}" 的 API 令牌返回 401 错误'))
def token_refused(addresses: Callable[[str], TestClient], context: dict[str, Any], username: str) -> None:
    headers = {"Authorization": f"Bearer {context['tokens'][username]}"}
    response = addresses("10.9.0.1").get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def _sign_in(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


@when(
    parsers.re(
        r'从地址 "(?P<address>[^"]+)" 以 "(?P<username>[^"]+)" 和错误密码登录 (?P<times>\d+) 次，每次按 Retry-After 等候后再试'
    )
)
def fail_patiently(
    addresses: Callable[[str], TestClient], context: dict[str, Any], address: str, username: str, times: str
) -> None:
    client, waits, failed = addresses(address), [], 0
    while failed < int(times):
        response = _sign_in(client, username, "not-the-password")
        if response.status_code == 429:
            waits.append(int(response.headers["retry-after"]))
            clock.set_now(clock.now() + dt.timedelta(seconds=waits[-1]))
            continue
        assert response.status_code == 401, response.text
        failed += 1
        context.setdefault("answered_at_once", []).append(not waits or failed > len(waits))
    context["waits"] = waits


@then(quoted('前 5 次立即答复，此后依次等候 "{waits}" 秒'))
def waited(context: dict[str, Any], waits: str) -> None:
    assert context["waits"] == [int(w) for w in waits.split(", ")]
    assert context["answered_at_once"][:5] == [True] * 5


@when(quoted('从地址 "{address}" 以 "{username}" 和密码 "{password}" 登录'))
def sign_in_from(
    addresses: Callable[[str], TestClient],
    context: dict[str, Any],
    address: str,
    username: str,
    password: str,
) -> None:
    context["response"] = _sign_in(addresses(address), username, password)


@when(quoted('过了 15 分钟，从地址 "{address}" 以 "{username}" 和密码 "{password}" 登录'))
def sign_in_later(
    addresses: Callable[[str], TestClient],
    context: dict[str, Any],
    address: str,
    username: str,
    password: str,
) -> None:
    clock.set_now(clock.now() + dt.timedelta(minutes=15))
    context["response"] = _sign_in(addresses(address), username, password)


@then(parsers.parse("答复要求 {seconds:d} 秒后再试"))
def retry_after(context: dict[str, Any], seconds: int) -> None:
    response = context["response"]
    assert response.headers["retry-after"] == str(seconds)
    assert response.json()["code"] == "too_many_attempts"


@then("登录成功")
def signed_in(context: dict[str, Any]) -> None:
    response = context["response"]
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
