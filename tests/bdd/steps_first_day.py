"""Steps of 第一天 (imported by tests/bdd/conftest.py): the initial accounts and the forced password change,
the empty board, `duban demo`, one language per page, badge contrast, indicators per task, the weekly
summary's week and the rules that never propose the party committee or the government itself."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session, col, select

from duban.api.first_run import bootstrap_users
from duban.api.pages.web import STATIC
from duban.core import clock
from duban.core.config import PROJECT_ROOT, get_settings
from duban.core.errors import DubanError
from duban.notifications.calendars import working_calendar
from duban.notifications.digest import weekly_summary
from duban.tasks.chinese import to_simplified
from duban.tasks.enums import Role, TaskState
from duban.tasks.errors import RuleSetInvalid
from duban.tasks.models import Department, Target, Task, TaskEvent, User
from duban.tasks.parser import decode_bytes, parse, to_json_dict
from duban.tasks.plans import import_plan
from duban.tasks.registry import default_registry
from duban.tasks.rules import apply_rules_to_json, bundled_rules, parse_rules
from duban.tasks.rules.loading import is_governing_body
from duban.workflow.board import BoardFilter, board_page
from tests.api.pages.helpers import PASSWORD, PageClient, ensure_user, page_clients, text_of
from tests.bdd.conftest import quoted
from tests.fixtures.tasks import TaskWorld

EXAMPLES = PROJECT_ROOT / "examples" / "plans"


@pytest.fixture
def newcomers(session: Session) -> Iterator[Callable[[], PageClient]]:
    """Fresh page clients over the scenario's transaction."""
    with page_clients() as open_client:
        yield open_client


# ----- the initial accounts ---------------------------------------------------------------------------


@when("在开发环境创建初始账号")
def bootstrap_in_development(session: Session, context: dict[str, Any]) -> None:
    context["bootstrap"] = bootstrap_users(session)


@when("再次创建初始账号")
def bootstrap_again(session: Session, context: dict[str, Any]) -> None:
    context["again"] = bootstrap_users(session)


@when("在生产环境创建初始账号")
def bootstrap_in_production(
    session: Session, context: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBAN_ENV", "production")
    monkeypatch.setenv("DUBAN_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("DUBAN_SECRET_KEY", "a-production-secret-of-more-than-32-characters")
    get_settings.cache_clear()
    try:
        bootstrap_users(session)
    except DubanError as error:
        context["refused"] = error
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


@then("委员会办公室和每个部门各有一个账号，初始密码各不相同，只显示这一次")
def one_account_each(session: Session, context: dict[str, Any]) -> None:
    created = context["bootstrap"].created
    codes = set(session.exec(select(Department.code).where(col(Department.active))).all())
    assert {account.username for account in created} == {"office", *codes}
    assert len({account.password for account in created}) == len(created)
    hashes = session.exec(select(User.password_hash)).all()
    assert not any(account.password in (h or "") for account in created for h in hashes)


@then("这些账号首次登录后须修改密码")
def all_must_change(session: Session) -> None:
    assert set(session.exec(select(User.must_change_password)).all()) == {True}


@then("没有新建账号，并说明初始账号已存在")
def none_made_again(context: dict[str, Any]) -> None:
    again = context["again"]
    assert again.created == [] and again.existing == len(context["bootstrap"].created)


@then("命令拒绝并说明生产环境不创建初始账号")
def refused_in_production(session: Session, context: dict[str, Any]) -> None:
    refused = context["refused"]
    assert refused.code == "not_in_development" and "生产环境不创建初始账号" in refused.message_zh
    assert session.exec(select(User)).first() is None


# ----- the forced password change ---------------------------------------------------------------------


@given(quoted('部门 "{department}" 的账号 "{username}" 有初始密码 "{password}"'))
def initial_password(
    session: Session, context: dict[str, Any], department: str, username: str, password: str
) -> None:
    entry = default_registry().match_department(department)
    assert entry is not None
    user = ensure_user(session, username, Role.department, entry.code)
    from duban.api.security import hash_password

    user.password_hash = hash_password(password)
    user.must_change_password = True
    session.add(user)
    session.flush()
    context["initial"] = password


@when(quoted('"{username}" 用初始密码登录'))
def sign_in_initial(newcomers: Callable[[], PageClient], context: dict[str, Any], username: str) -> None:
    page = newcomers()
    context["page"] = page.login(username, context["initial"])
    context["newcomer"] = page


@then("页面转到修改密码")
def sent_to_password(context: dict[str, Any]) -> None:
    response = context["page"]
    assert (response.status_code, response.headers["location"]) == (303, "/password")
    form = context["newcomer"].get("/password")
    assert "您正在使用初始密码" in text_of(form.text)


@then(quoted('打开 "{path}" 也转到修改密码'))
def also_sent(context: dict[str, Any], path: str) -> None:
    response = context["newcomer"].get(path)
    assert (response.status_code, response.headers["location"]) == (303, "/password")


@then(quoted('用初始密码取得的接口令牌被拒绝，错误代码 "{code}"'))
def api_refused(client: TestClient, context: dict[str, Any], code: str) -> None:
    token = client.post("/api/v1/auth/token", data={"username": "sthjt", "password": context["initial"]})
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.status_code == 403 and me.json()["code"] == code


@when(quoted('"{username}" 把密码改为 "{password}"'))
def change_password(context: dict[str, Any], username: str, password: str) -> None:
    page: PageClient = context["newcomer"]
    context["page"] = page.post(
        "/password", {"current": context["initial"], "password": password, "password_again": password}
    )


@then(quoted('页面转到 "{path}"'))
def sent_to(context: dict[str, Any], path: str) -> None:
    response = context["page"]
    assert (response.status_code, response.headers["location"]) == (303, path)
    assert context["newcomer"].get(path).status_code == 200


# ----- the empty board and the demo -------------------------------------------------------------------


@given(parsers.parse("导入了 {plans:d} 个规划，共 {tasks:d} 项拟办任务"))
def drafts_waiting(world: TaskWorld, plans: int, tasks: int) -> None:
    for _ in range(plans):
        world.task_in(TaskState.draft)
    count = len(world.session.exec(select(Task.id).where(Task.state == TaskState.draft)).all())
    assert count == tasks


@then("页面有指向规划审定的链接")
def links_to_plans(context: dict[str, Any]) -> None:
    assert 'href="/plans" id="waiting-plans"' in context["page"].text


@given(quoted('导入了示例规划 "{part}"'))
def example_imported(session: Session, part: str) -> None:
    file = next(EXAMPLES.glob(f"*{part}*.txt"))
    text = decode_bytes(file.read_bytes(), file.name)
    import_plan(session, text, parse(text), file.name)
    session.flush()


@when(quoted('运行 duban demo 在 "{day}" 交办规划 "{part}"'))
def demo_on(session: Session, context: dict[str, Any], day: str, part: str) -> None:
    from duban.api.cli_demo import find_plan
    from duban.workflow.issuing import issue_plan
    from duban.workflow.service import office_actor

    clock.set_now(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(9), tzinfo=clock.TZ))
    try:
        plan_id = find_plan(session, part)
        context["issued"] = issue_plan(session, plan_id, office_actor(), confirm_past_deadlines=True)
    finally:
        clock.set_now(None)
    context["plan_id"] = plan_id
    session.flush()


@then(quoted('该规划的任务都已交办，交办时间是 "{day}"'))
def all_issued_on(session: Session, context: dict[str, Any], day: str) -> None:
    states = set(session.exec(select(Task.state).where(Task.plan_id == context["plan_id"])).all())
    assert states == {TaskState.assigned} and context["issued"]
    events = session.exec(
        select(TaskEvent.created_at).where(
            col(TaskEvent.task_id).in_(context["issued"]), TaskEvent.kind == "issue"
        )
    ).all()
    assert {moment.astimezone(clock.TZ).date().isoformat() for moment in events} == {day}


@then("看板上有红灯任务")
def board_red(session: Session) -> None:
    page = board_page(session, BoardFilter(lights=("red",)), working_calendar(session))
    assert page.total > 0


# ----- one language per page -------------------------------------------------------------------------


@given(quoted('有一项已交办的任务，办理记录中有 "{actor}" 的操作'))
def issued_with_bilingual_actor(world: TaskWorld, context: dict[str, Any], actor: str) -> None:
    task_id = world.task_in(TaskState.assigned)
    world.session.add(TaskEvent(task_id=task_id, kind="edit", actor_label=actor))
    world.session.flush()
    context["task_id"] = task_id


@when("委员会办公室打开这项任务")
def office_opens(newcomers: Callable[[], PageClient], session: Session, context: dict[str, Any]) -> None:
    office = ensure_user(session, "first-day-office", Role.office)
    page = newcomers()
    assert page.login(office.username, PASSWORD).status_code == 303
    context["office"] = page
    context["page"] = page.get(f"/tasks/{context['task_id']}")


@when("切换到英文后再打开这项任务")
def in_english(context: dict[str, Any]) -> None:
    page: PageClient = context["office"]
    page.get("/lang/en", next="/")
    context["page"] = page.get(f"/tasks/{context['task_id']}")


@then(quoted('页面上没有 "{text}"'))
def page_lacks(context: dict[str, Any], text: str) -> None:
    assert text not in text_of(context["page"].text)


_ORIGINAL = re.compile(r'<details class="original">(.*?)</details>', re.DOTALL)


@then(parsers.re(r'任务页面除 "原文" 之外都是简体字，有 (?P<texts>.+)$'))
def simplified_but_the_original(context: dict[str, Any], texts: str) -> None:
    page = context["page"]
    assert page.status_code == 200
    outside = text_of(_ORIGINAL.sub("", page.text))
    assert to_simplified(outside) == outside, [ch for ch in outside if to_simplified(ch) != ch]
    for text in re.findall(r'"([^"]+)"', texts):
        assert text in outside, text


@then(parsers.re(r'任务页面在 "原文" 之下照录 (?P<texts>.+)$'))
def original_kept(context: dict[str, Any], texts: str) -> None:
    found = _ORIGINAL.findall(context["page"].text)
    assert len(found) == 1, found
    summary, _, body = found[0].partition("</summary>")
    assert text_of(summary) == "原文" and 'lang="zh-Hant"' in body, found[0]
    for text in re.findall(r'"([^"]+)"', texts):
        assert text in text_of(body), (text, found[0])


# ----- contrast, indicators, the week, the rules ------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    if len(hex_colour) == 4:  # #fff
        hex_colour = "#" + "".join(ch * 2 for ch in hex_colour[1:])
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@then(parsers.parse("每个状态、灯色和督办级别徽章的文字与底色对比度不低于 {floor:f}"))
def badges_readable(floor: float) -> None:
    css = re.sub(r"/\*.*?\*/", "", (STATIC / "duban.css").read_text(encoding="utf-8"), flags=re.DOTALL)
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        for selector in (s.strip() for s in selectors.split(",")):
            if re.fullmatch(r"\.(state|light|rung)(-[\w]+)?", selector):
                for prop, value in re.findall(r"(?<![-\w])(color|background):\s*([^;]+)", body):
                    value = value.strip()
                    value = variables.get(value[6:-1], value) if value.startswith("var(") else value
                    pairs.setdefault(selector, {})[prop] = value
    assert {".state-completed", ".state-draft", ".light-red", ".rung-supervised_red"} <= set(pairs)
    base = {name: pairs.get(f".{name}", {}) for name in ("state", "light", "rung")}
    low = []
    for selector, own in pairs.items():
        if "-" not in selector:
            continue  # a base class is always drawn with one of its variants
        inherited = base[selector[1:].split("-")[0]]
        ink = own.get("color", inherited.get("color", "#1f2328"))
        paper = own.get("background", inherited.get("background", "#ffffff"))
        if not (ink.startswith("#") and paper.startswith("#")):
            continue  # "none" backgrounds: the page's white, checked in the browser tests
        if contrast(ink, paper) < floor:
            low.append((selector, ink, paper, round(contrast(ink, paper), 2)))
    assert low == [], low


@given(quoted('一项进行中的任务的规划有指标 "{first}" 和 "{second}"'))
def task_with_targets(world: TaskWorld, context: dict[str, Any], first: str, second: str) -> None:
    task_id = world.task_in(TaskState.in_progress)
    task = world.session.get(Task, task_id)
    assert task is not None
    for indicator in (first, second):
        world.session.add(Target(plan_id=task.plan_id, indicator=indicator, value="100%", unit="%", text=""))
    world.session.flush()
    context["task_id"] = task_id


@when("牵头单位打开这项任务")
def lead_opens(newcomers: Callable[[], PageClient], session: Session, context: dict[str, Any]) -> None:
    lead = ensure_user(session, "first-day-lead", Role.department, "sthjt")
    page = newcomers()
    assert page.login(lead.username, PASSWORD).status_code == 303
    context["page"] = page.get(f"/tasks/{context['task_id']}")


@when(quoted('在 "{day}" 编写每周督办汇总'))
def weekly_on(session: Session, context: dict[str, Any], day: str) -> None:
    context["summary"] = weekly_summary(session, dt.date.fromisoformat(day))


@then(quoted('汇总标注为 "{label}"，日期 "{start}" 至 "{end}"'))
def weekly_labelled(context: dict[str, Any], label: str, start: str, end: str) -> None:
    summary = context["summary"]
    assert (summary["week_label"], summary["start"], summary["end"]) == (label, start, end)


@when(quoted('办公室把规则的牵头单位设为 "{name}"'))
def rule_with_governing_lead(context: dict[str, Any], name: str) -> None:
    registry = default_registry()
    entry = registry.match_department(name)
    assert entry is not None
    rule = {"id": "office.test", "phrases": ["组织领导"], "lead": [entry.code], "remit": "测试"}
    try:
        parse_rules([rule], registry, "office", "test")
    except RuleSetInvalid as error:
        context["refused"] = error


@then("规则被拒绝，说明不能提出党委或政府本身")
def rule_refused(context: dict[str, Any]) -> None:
    problems = context["refused"].extra["errors"]
    assert any("本身" in problem["message_zh"] for problem in problems)


@then("示例规划中没有一条措施的建议牵头或配合单位是党委或政府本身")
def no_governing_proposal() -> None:
    proposed: list[str] = []
    for file in sorted(EXAMPLES.glob("*.txt")):
        text = decode_bytes(file.read_bytes(), file.name)
        document = apply_rules_to_json(to_json_dict(parse(text)), default_registry(), bundled_rules(), text)
        for measure in document["measures"]:
            if measure["lead_source"] == "rule":
                proposed.extend((*measure["lead"], *measure["cooperating"]))
    assert proposed and not [name for name in proposed if is_governing_body(name)]
