"""Steps of the daily work on the pages (imported by tests/bdd/conftest.py).

手机上办理: the task page in Chromium at 390 × 844, as 政务钉钉 or 企业微信 open a link, over the scenario's own
transaction: the browser's requests are answered by the app through a signed-in test client (Playwright's
request routing), so what is measured is the real page, its stylesheet and its forms. Screenshots go to
var/test-artifacts/screenshots/phone-*.png.

用户与登录: a password set or reset by the administrator is an initial one, changed at the first sign-in.

办公室批量督办与批准延期: the extension requests behind 批量批准延期 and what the batch leaves on each task (the
board's batch itself is a step of 批量办理)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session, select

from duban.tasks.enums import Role, TaskState
from duban.tasks.models import Task, TaskEvent, User
from duban.workflow.machines import Actor
from duban.workflow.records.extensions import request_extension
from duban.workflow.service import apply_action
from tests.api.pages.helpers import SHOTS, PageClient, ensure_user, page_clients, system_chromium, text_of
from tests.bdd.conftest import quoted
from tests.bdd.steps_pages import _department_id
from tests.fixtures.tasks import TaskWorld

ORIGIN = "http://testserver"  # the test client's host: the forms' origin check sees the same site
TAP = 44  # px: the smallest tap target WCAG 2.5.5 and the platforms' guidelines ask for
# Whether the page scrolls sideways: the document wider than the screen.
SCROLLS_SIDEWAYS = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


@pytest.fixture
def phone_browser() -> Iterator[Any]:
    """The system Chromium through Playwright (a missing browser fails under CI=true, skips elsewhere)."""
    yield from system_chromium()


def _answer(client: PageClient) -> Callable[[Any], None]:
    """A Playwright route handler: every request of the page answered by the app through `client` (its
    session cookie kept by the client; after a form, the page it redirects to)."""

    def answer(route: Any) -> None:
        request = route.request
        address = urlsplit(request.url)
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() in ("content-type", "origin", "accept", "referer")
        }
        response = client.client.request(
            request.method,
            address.path + (f"?{address.query}" if address.query else ""),
            content=request.post_data_buffer,
            headers=headers,
            # A redirect handed to the browser is followed outside the routing: follow it here instead.
            follow_redirects=True,
        )
        kept = {
            name: value
            for name, value in response.headers.items()
            if name.lower() in ("content-type", "content-security-policy", "cache-control")
        }
        route.fulfill(status=response.status_code, headers=kept, body=response.content)

    return answer


@pytest.fixture
def people_on_pages(session: Session) -> Iterator[Callable[[], PageClient]]:
    """Fresh page clients over the scenario's transaction (each its own cookie jar; a phone's requests go
    through one)."""
    with page_clients() as open_client:
        yield open_client


@given(quoted('"{department}" 牵头的一项已交办的任务'))
def issued_task(world: TaskWorld, context: dict[str, Any], department: str) -> None:
    assert department == "自治区生态环境厅"  # the world's lead
    context["task_id"] = world.task_in(TaskState.assigned)


def _on_phone(
    browser: Any, client: PageClient, context: dict[str, Any], request: pytest.FixtureRequest, width: int
) -> Any:
    """A phone-sized browser page whose requests the app answers through the signed-in `client`."""
    browser_context = browser.new_context(
        base_url=ORIGIN,
        viewport={"width": width, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    request.addfinalizer(browser_context.close)
    browser_context.set_default_timeout(15_000)
    browser_context.route("**/*", _answer(client))
    context["shots"] = 0
    context["phone"] = browser_context.new_page()
    return context["phone"]


@when(parsers.parse("牵头单位在 {width:d} 像素宽的手机上打开这项任务"))
def open_on_phone(
    session: Session,
    phone_browser: Any,
    people_on_pages: Callable[[], PageClient],
    context: dict[str, Any],
    request: pytest.FixtureRequest,
    width: int,
) -> None:
    ensure_user(session, "phone-lead", Role.department, "sthjt")
    client = people_on_pages()
    assert client.login("phone-lead").status_code == 303
    _on_phone(phone_browser, client, context, request, width).goto(f"/tasks/{context['task_id']}")


@when(parsers.parse("委员会办公室在 {width:d} 像素宽的手机上打开该规划的审定页面"))
def review_on_phone(
    session: Session,
    phone_browser: Any,
    people_on_pages: Callable[[], PageClient],
    context: dict[str, Any],
    request: pytest.FixtureRequest,
    width: int,
) -> None:
    ensure_user(session, "phone-office", Role.office)
    client = people_on_pages()
    assert client.login("phone-office").status_code == 303
    _on_phone(phone_browser, client, context, request, width).goto(f"/plans/{context['review_plan']}")


def _shot(context: dict[str, Any]) -> None:
    context["shots"] += 1
    page = context["phone"]
    tall = page.evaluate("() => document.documentElement.scrollHeight") > 8000  # an expanded plan: the top
    page.screenshot(path=str(SHOTS / f"phone-{context['shots']:02d}.png"), full_page=not tall)


@then("手机页面不需要横向滚动")
def no_sideways_scrolling(context: dict[str, Any]) -> None:
    page = context["phone"]
    _shot(context)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert not page.evaluate(SCROLLS_SIDEWAYS) and widths[0] <= widths[1], widths


@then(parsers.re(r"手机页面上的(?P<kind>按钮|链接) (?P<names>.+) 都不小于 44 像素见方$"))
def tappable(context: dict[str, Any], kind: str, names: str) -> None:
    page = context["phone"]
    for name in re.findall(r'"([^"]+)"', names):
        # A button is named by its label; a filter link may carry a count after it (需要处理 12).
        label = re.compile(rf"^{re.escape(name)}(\s+\d+)?$")
        target = page.get_by_role("button" if kind == "按钮" else "link", name=label)
        assert target.count() >= 1, f"no {kind} {name}"
        box = target.first.bounding_box()
        assert box is not None and box["height"] >= TAP and box["width"] >= TAP, (
            name,
            box,
            target.first.evaluate("e => e.outerHTML + ' in ' + e.parentElement.outerHTML.slice(0, 300)"),
        )


@when(quoted('在手机上点链接 "{name}"'))
def tap_link(context: dict[str, Any], name: str) -> None:
    page = context["phone"]
    with page.expect_navigation():
        page.get_by_role("link", name=name, exact=True).first.tap()


@when(quoted('在手机上点 "{name}"'))
def tap(context: dict[str, Any], name: str) -> None:
    page = context["phone"]
    with page.expect_navigation():  # the form's answer (or the page it redirects to) replaces this one
        page.get_by_role("button", name=name, exact=True).first.tap()


@when(parsers.re(r'在手机上报送进展 (?P<percent>\d{1,3})%，"(?P<text>[^"]+)"$'))
def report_on_phone(context: dict[str, Any], percent: str, text: str) -> None:
    page = context["phone"]
    form = page.locator("form#progress")
    form.locator("input[name=percent]").fill(percent)
    form.locator("textarea[name=text]").fill(text)
    with page.expect_navigation():
        form.get_by_role("button", name="报送进展", exact=True).tap()


@then(quoted('手机页面提示 "{text}"'))
def phone_says(context: dict[str, Any], text: str) -> None:
    shown = context["phone"].locator("main").inner_text()
    assert text in shown, shown[:800]


@then(quoted('这项任务的状态为 "{label}"'))
def task_state(session: Session, context: dict[str, Any], label: str) -> None:
    task = session.get(Task, context["task_id"], populate_existing=True)
    assert task is not None and task.state.label == label, task


# ----- 办公室批量督办与批准延期 ------------------------------------------------------------------------------


def _page_task(session: Session, context: dict[str, Any], name: str) -> Task:
    task = session.get(Task, context["page_tasks"][name], populate_existing=True)
    assert task is not None and task.id is not None, name
    return task


@given(quoted('"{who}" 已签收任务 "{name}"，并申请延期至 "{day}"，理由 "{reason}"'))
def extension_asked(
    session: Session, context: dict[str, Any], who: str, name: str, day: str, reason: str
) -> None:
    task = _page_task(session, context, name)
    assert task.id is not None
    lead = Actor(role=Role.department, department_id=_department_id(session, who))
    if task.state is TaskState.assigned:
        apply_action(session, task.id, "accept", lead)
    request_extension(session, task.id, lead, dt.date.fromisoformat(day), reason)
    session.flush()


@then(quoted('任务 "{name}" 的完成时限为 "{day}"，原定时限为 "{original}"'))
def deadline_now(session: Session, context: dict[str, Any], name: str, day: str, original: str) -> None:
    task = _page_task(session, context, name)
    assert task.deadline is not None and task.original_deadline is not None, task
    assert (task.deadline.isoformat(), task.original_deadline.isoformat()) == (day, original), task


@then(parsers.re(r'任务 (?P<names>.+) 各有一条 "(?P<kind>[a-z_]+)" 记录，由委员会办公室办理$'))
def one_event_each(session: Session, context: dict[str, Any], names: str, kind: str) -> None:
    for name in re.findall(r'"([^"]+)"', names):
        events = session.exec(
            select(TaskEvent).where(TaskEvent.task_id == context["page_tasks"][name], TaskEvent.kind == kind)
        ).all()
        assert len(events) == 1 and events[0].actor_department_id is None, (name, events)


# ----- 用户与登录: the administrator's password is an initial one ---------------------------------------------


@then(quoted('"{username}" 用密码 "{password}" 登录后先转到修改密码，此前打不开 "{path}"'))
def forced_change(people_on_pages: Callable[[], PageClient], username: str, password: str, path: str) -> None:
    page = people_on_pages()
    signed = page.login(username, password)
    assert (signed.status_code, signed.headers["location"]) == (303, "/password")
    assert page.get(path).headers["location"] == "/password"
    assert "您正在使用初始密码" in text_of(page.get("/password").text)


@when(quoted('"{username}" 登录后把密码 "{current}" 改为 "{password}"'))
def own_password(
    people_on_pages: Callable[[], PageClient], username: str, current: str, password: str
) -> None:
    page = people_on_pages()
    assert page.login(username, current).status_code == 303
    changed = page.post("/password", {"current": current, "password": password, "password_again": password})
    assert changed.status_code == 303, text_of(changed.text)[:300]


@then(quoted('"{username}" 用密码 "{password}" 登录后直接打开 "{path}"'))
def straight_in(people_on_pages: Callable[[], PageClient], username: str, password: str, path: str) -> None:
    page = people_on_pages()
    signed = page.login(username, password)
    assert signed.status_code == 303 and signed.headers["location"] != "/password"
    assert page.get(path).status_code == 200


@then(quoted('用户列表中 "{username}" 不再标注 "{tag}"'))
def no_longer_tagged(session: Session, context: dict[str, Any], username: str, tag: str) -> None:
    user = session.exec(select(User).where(User.username == username)).one()
    listed = context["admin"].get("/users").text
    row = listed.split(f'id="user-{user.id}"')[1].split("</tr>")[0]
    assert username in row and tag not in text_of(row)
