"""The first day: an initial password changed before anything else (pages and API), an empty board that
says why and where the plans wait, indicators only on their tasks, and each page in one language."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from duban.api.first_run import bootstrap_users
from duban.api.pages.display import one_language
from duban.api.pages.task_page import indicator_applies
from duban.api.security import verify_password
from duban.tasks.enums import Role, TaskState
from duban.tasks.models import Target, Task, TaskEvent, User
from tests.api.pages.helpers import PASSWORD, PageClient, ensure_user, page_clients, text_of
from tests.fixtures.tasks import TaskWorld

NEW_PASSWORD = "my-own-password-1"


def _must_change(session: Session, username: str, role: Role, department: str | None = None) -> User:
    user = ensure_user(session, username, role, department)
    user.must_change_password = True
    session.add(user)
    session.flush()
    return user


def test_an_initial_password_is_changed_before_anything_else(departments: Session) -> None:
    user = _must_change(departments, "first-sthjt", Role.department, "sthjt")
    with page_clients() as open_client:
        page = open_client()
        signed = page.login(user.username)
        assert (signed.status_code, signed.headers["location"]) == (303, "/password")
        for path in ("/tasks", "/scorecards", f"/tasks/{1}"):
            sent = page.get(path)
            assert (sent.status_code, sent.headers["location"]) == (303, "/password"), path
        form = page.get("/password")
        assert form.status_code == 200 and "您正在使用初始密码" in text_of(form.text)

        wrong = page.post("/password", {"current": "not-it-at-all", "password": NEW_PASSWORD,
                                        "password_again": NEW_PASSWORD})  # fmt: skip
        assert wrong.status_code == 422 and "当前密码不正确" in text_of(wrong.text)
        differ = page.post(
            "/password", {"current": PASSWORD, "password": NEW_PASSWORD, "password_again": "x"}
        )
        assert differ.status_code == 422 and "两次输入的新密码不一致" in text_of(differ.text)
        same = page.post("/password", {"current": PASSWORD, "password": PASSWORD, "password_again": PASSWORD})
        assert same.status_code == 422 and "不能与当前密码相同" in text_of(same.text)

        changed = page.post("/password", {"current": PASSWORD, "password": NEW_PASSWORD,
                                          "password_again": NEW_PASSWORD})  # fmt: skip
        assert (changed.status_code, changed.headers["location"]) == (303, "/tasks")
        assert page.get("/tasks").status_code == 200
    departments.refresh(user)
    assert not user.must_change_password and verify_password(user.password_hash, NEW_PASSWORD)


def test_the_api_refuses_a_user_with_an_initial_password(client: TestClient, departments: Session) -> None:
    user = _must_change(departments, "first-office", Role.office)
    token = client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD})
    assert token.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.status_code == 403
    assert me.json()["code"] == "password_change_required"
    user.must_change_password = False
    departments.add(user)
    departments.flush()
    again = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert again.status_code == 200


def test_bootstrap_marks_every_account_for_a_change(departments: Session) -> None:
    result = bootstrap_users(departments)
    assert result.created[0].username == "office" and len(result.created) > 40
    flags = set(departments.exec(select(User.must_change_password)).all())
    assert flags == {True}
    assert not bootstrap_users(departments).created


def test_an_empty_board_says_why_and_links_to_the_plans_waiting(
    world: TaskWorld, signed_in: Callable[[str], PageClient]
) -> None:
    for _ in range(2):
        world.task_in(TaskState.draft)
    page = signed_in("office")
    board = page.get("/overdue")
    shown = text_of(board.text)
    assert "看板只列出已交办的任务" in shown
    assert "2 个规划 4 项待交办" in shown and 'href="/plans" id="waiting-plans"' in board.text
    page.get("/lang/en", next="/overdue")
    english = text_of(page.get("/overdue").text)
    assert "2 plans, 4 tasks waiting to be issued" in english and "待交办" not in english


def test_indicators_only_on_the_tasks_that_speak_of_them(
    world: TaskWorld, signed_in: Callable[[str], PageClient]
) -> None:
    task_id = world.task_in(TaskState.in_progress)  # 推进燃煤锅炉整治 … 燃煤锅炉淘汰改造
    task = world.session.get(Task, task_id)
    assert task is not None
    world.session.add_all(
        [
            Target(plan_id=task.plan_id, indicator="全区燃煤锅炉淘汰改造", value="100%", unit="%", text=""),
            Target(plan_id=task.plan_id, indicator="森林覆盖率", value="23%", unit="%", text=""),
        ]
    )
    world.session.flush()
    shown = text_of(signed_in("lead").get(f"/tasks/{task_id}").text)
    assert "全区燃煤锅炉淘汰改造" in shown and "森林覆盖率" not in shown
    assert indicator_applies("氨氮排放总量", "控制氨氮排放总量") and not indicator_applies(
        "氨氮排放总量", "排放总量"
    )


def test_stored_bilingual_texts_show_in_the_page_language(
    world: TaskWorld, signed_in: Callable[[str], PageClient]
) -> None:
    assert one_language("导入 / import", "zh") == "导入" and one_language("导入 / import", "en") == "import"
    assert one_language("甲 / 乙", "en") == "甲 / 乙"  # no English side: left alone
    task_id = world.task_in(TaskState.assigned)
    world.session.add(TaskEvent(task_id=task_id, kind="edit", actor_label="委员会办公室 / office"))
    world.session.flush()
    page = signed_in("office")
    chinese = text_of(page.get(f"/tasks/{task_id}").text)
    assert "委员会办公室 / office" not in chinese and "委员会办公室" in chinese
    assert "draft → assigned" not in chinese and "拟办 → 已交办" in chinese
    page.get("/lang/en", next="/")
    english = text_of(page.get(f"/tasks/{task_id}").text)
    assert "委员会办公室" not in english and "Draft → Issued" in english
