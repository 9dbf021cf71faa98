"""Sign-in, the session cookie, CSRF, the language switch, and the English catalogue."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from duban.api.pages.i18n import ENGLISH
from duban.api.pages.scorecards import COLOUR_LEGEND, PROGRESS_LEGEND
from duban.api.pages.web import SESSION_COOKIE, TEMPLATES, session_options
from duban.core.config import get_settings
from duban.tasks.enums import Role, SupervisionLevel, TaskState
from duban.tasks.models import TaskEvent
from duban.workflow.machines import LADDER_ACTION_RULES, TASK_ACTION_RULES, Rung
from tests.api.pages.helpers import PASSWORD, PageClient, csrf_of, ensure_user, text_of
from tests.fixtures.tasks import TaskWorld


@pytest.mark.parametrize("path", ["/overdue", "/tasks", "/tasks/1", "/plans", "/plans/1", "/scorecards"])
def test_pages_send_strangers_to_the_login_form(anonymous: PageClient, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_login_sets_a_signed_httponly_lax_session_and_lands_on_the_role_page(
    anonymous: PageClient, departments: Session
) -> None:
    ensure_user(departments, "office-a", Role.office)
    response = anonymous.login("office-a")
    assert response.status_code == 303 and response.headers["location"] == "/overdue"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http in tests; production sets Secure (below)
    board = anonymous.get("/overdue")
    assert board.status_code == 200 and "逾期督办" in board.text
    assert board.headers["content-security-policy"].startswith("default-src 'self'")


def test_a_wrong_password_shows_the_form_again(anonymous: PageClient, departments: Session) -> None:
    ensure_user(departments, "office-b", Role.office)
    response = anonymous.login("office-b", "not-the-password")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.text and 'value="office-b"' in response.text
    assert anonymous.get("/overdue").status_code == 303  # still signed out


def test_login_never_redirects_to_another_site(anonymous: PageClient, departments: Session) -> None:
    ensure_user(departments, "office-c", Role.office)
    form = anonymous.get("/login")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = anonymous.client.post(
            "/login",
            data={
                "username": "office-c",
                "password": PASSWORD,
                "csrf_token": csrf_of(form.text),
                "next": target,
            },
        )
        assert response.headers["location"] == "/overdue", target
        anonymous.client.cookies.clear()
        form = anonymous.get("/login")


def test_production_marks_the_cookie_secure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_ENV", "production")
    monkeypatch.setenv("DUBAN_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DUBAN_DATABASE_URL", "postgresql://duban@db/duban")
    get_settings.cache_clear()
    assert session_options()["https_only"] is True
    from duban.api.app import create_app

    with TestClient(create_app(), base_url="https://testserver") as client:
        response = client.get("/login")
    assert "; secure" in response.headers["set-cookie"].lower()


def test_forms_without_the_csrf_token_are_refused(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task_id = world.task_in(TaskState.assigned)
    lead = signed_in("lead")
    for data in ({}, {"csrf_token": "forged" * 8}):
        response = lead.post(f"/tasks/{task_id}/actions/accept", data, csrf=False)
        assert response.status_code == 403
        assert "表单已失效" in response.text
    other_site = lead.client.post(
        f"/tasks/{task_id}/actions/accept",
        data={"csrf_token": lead.token},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    kinds = world.session.exec(select(TaskEvent.kind).where(TaskEvent.task_id == task_id)).all()
    assert "accept" not in kinds


def test_logout_ends_the_session(signed_in: Callable[[str], PageClient]) -> None:
    office = signed_in("office")
    assert office.get("/overdue").status_code == 200
    assert office.post("/logout").headers["location"] == "/login"
    assert office.get("/overdue").status_code == 303


def test_the_language_switch_shows_english(signed_in: Callable[[str], PageClient]) -> None:
    office = signed_in("office")
    assert office.get("/lang/en", next="/overdue").headers["location"] == "/overdue"
    page = text_of(office.get("/overdue").text)
    assert "Overdue board" in page and "Supervision level" in page and "逾期督办" not in page
    assert office.get("/lang/zh", next="//evil.example").headers["location"] == "/"
    assert "逾期督办" in office.get("/overdue").text


def test_every_label_in_the_templates_has_its_english() -> None:
    labels: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text(encoding="utf-8")
        labels.update(re.findall(r"\bt\(\"([^\"]+)\"\)", source))
        labels.update(re.findall(r"\bt\('([^']+)'\)", source))
        # t({"red": "逾期", …}[key]) and {% set labels = {…} %} read through t()
        for mapping in re.findall(r"(?:\bt\(|\{% set \w+ = )\{([^}]*)\}", source):
            labels.update(re.findall(r":\s*\"([^\"]+)\"", mapping))
            labels.update(re.findall(r":\s*'([^']+)'", mapping))
    labels.update(
        ("按期办结率", "平均逾期工作日", "退回次数", "督办单（按颜色）", "规划进度")
    )  # chart titles
    labels.update(name for _, name in (*COLOUR_LEGEND, *PROGRESS_LEGEND))
    labels.update(rung.label for rung in Rung)
    labels.update(state.label for state in TaskState)
    labels.update(level.label for level in SupervisionLevel)
    labels.update(rule.label_zh for rule in (*TASK_ACTION_RULES.values(), *LADDER_ACTION_RULES.values()))
    missing = sorted(label for label in labels if label not in ENGLISH)
    assert "待配合单位报送" in labels and missing == []
