"""The pages in a real browser (Chromium through Playwright) against the real app under uvicorn, on a file
SQLite database with the five example plans imported and issued, standing on 2025-12-25 when most of their
tasks are overdue. Screenshots go to var/test-artifacts/screenshots/ (gitignored)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from duban import migrations
from duban.api.users import create_user
from duban.core import clock
from duban.core.config import PROJECT_ROOT
from duban.core.db import build_engine
from duban.tasks.departments import load_departments
from duban.tasks.enums import Role
from duban.tasks.parser import decode_bytes, parse
from duban.tasks.plans import import_plan
from duban.workflow.board import BoardFilter, board_page
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.issuing import issue_plan
from duban.workflow.service import office_actor
from duban.workflow.sweep import apply_ladder_action
from tests.api.pages.helpers import PASSWORD, SHOTS, live_server, system_chromium

pytestmark = pytest.mark.browser

DEMO_DAY = "2025-12-25T09:00"  # 175 of the 291 seed tasks overdue, 26 due within 5 working days
ESCALATED = 3


def _seed(url: str) -> list[int]:
    """Departments, the example plans imported and issued, two users, three tasks at a red 督办单."""
    migrations.upgrade(url)
    engine = build_engine(url)
    try:
        with Session(engine) as session:
            clock.set_now("2024-01-02T09:00")
            load_departments(session)
            for file in sorted((PROJECT_ROOT / "examples" / "plans").glob("*.txt")):
                text = decode_bytes(file.read_bytes(), file.name)
                plan_id = import_plan(session, text, parse(text), file.name).plan_id
                issue_plan(session, plan_id, office_actor())
            create_user(session, "office", Role.office, PASSWORD, None, "委员会办公室 张敏")
            create_user(session, "sthjt", Role.department, PASSWORD, "sthjt", "生态环境厅 王磊")
            clock.set_now(DEMO_DAY)
            red = board_page(
                session,
                BoardFilter(lights=("red",), per_page=ESCALATED),
                WorkingCalendar.from_bundled(),
            )
            escalated = [row.id for row in red.rows]
            for task_id in escalated:
                for _ in range(3):  # blue → orange → red, as the scheduler would have
                    apply_ladder_action(session, task_id, "supervise", office_actor())
            session.commit()
            return escalated
    finally:
        clock.set_now(None)
        engine.dispose()


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app under uvicorn in a subprocess on a free port, over the seeded database."""
    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'duban.sqlite3'}"
    escalated = _seed(url)
    with live_server(url, folder, DEMO_DAY) as base:
        yield {"base": base, "escalated": escalated}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """The system Chromium, driven by Playwright (a missing browser fails under CI=true)."""
    yield from system_chromium()


def signed_in_page(browser: Any, app: dict[str, Any], username: str, start: str, width: int = 1440) -> Any:
    """A new browser context at `width` px over the app, signed in as `username`, on `start`."""
    context = browser.new_context(
        base_url=app["base"],
        viewport={"width": width, "height": 900},
        locale="zh-CN",
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(start)  # not signed in: sent to the form, then back here
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return page


def shot(page: Any, name: str, *, full: bool = False) -> None:
    """A screenshot into var/test-artifacts/screenshots/."""
    page.screenshot(path=str(SHOTS / name), full_page=full)


def test_office_filters_the_board_and_confirms_an_interview(chromium: Any, live_app: dict[str, Any]) -> None:
    page = signed_in_page(chromium, live_app, "office", "/overdue")
    page.wait_for_url("**/overdue")
    assert int(page.locator("#total").inner_text()) > 150
    assert page.locator("tr.row-red").count() == 50  # the first page, all overdue
    shot(page, "01-office-board.png")

    page.select_option("select[name=level]", "supervised")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**level=supervised**")
    assert int(page.locator("#total").inner_text()) == ESCALATED
    shot(page, "02-office-board-filtered.png")

    with page.expect_download() as download:
        page.click("#export-xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["督办台账"]
    exported = [row for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert len(exported) == ESCALATED and {row[6] for row in exported} == {"督办（红）"}

    task_id = live_app["escalated"][0]
    row = page.locator(f"#task-{task_id}")
    row.locator("details.act-interview summary").click()
    row.locator("details.act-interview input[name=reason]").fill(
        "逾期超过 15 个工作日，经主任办公会研究同意约谈"
    )
    row.locator("details.act-interview button[type=submit]").click()
    page.wait_for_selector("p.flash.ok")
    assert "督办（红） → 约谈" in page.locator("p.flash.ok").inner_text()
    assert page.locator(f"#task-{task_id}").count() == 0  # no longer at 督办 level: left this filter
    page.select_option("select[name=level]", "interviewed")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**level=interviewed**")
    assert page.locator(f"#task-{task_id} .rung").inner_text() == "约谈"
    shot(page, "03-office-interview-confirmed.png")

    page.click(f"#task-{task_id} td.title a")
    page.wait_for_url(f"**/tasks/{task_id}")
    assert "经主任办公会研究同意约谈" in page.locator("#timeline").inner_text()
    shot(page, "04-office-task-page.png", full=True)


def test_department_signs_for_a_task_and_reports(chromium: Any, live_app: dict[str, Any]) -> None:
    page = signed_in_page(chromium, live_app, "sthjt", "/tasks")
    page.wait_for_url("**/tasks")
    assert "here" in (page.locator("#bucket-to_sign").get_attribute("class") or "")
    shot(page, "05-department-my-tasks.png")

    first = page.locator("table.mine tbody tr").first
    task_id = int(first.get_attribute("data-task") or 0)
    first.locator("button", has_text="签收").click()
    page.wait_for_url(f"**/tasks/{task_id}")
    assert "已签收" in page.locator("p.flash.ok").inner_text()

    page.fill("#progress input[name=percent]", "150")
    page.fill("#progress textarea[name=text]", "已完成 3 个旗县的农村牧区环境整治验收")
    page.click("#progress button[type=submit]")
    assert "完成百分比须为 0–100 的整数" in page.locator("#form-error").inner_text()
    assert page.input_value("#progress textarea[name=text]") == "已完成 3 个旗县的农村牧区环境整治验收"
    page.fill("#progress input[name=percent]", "80")
    page.click("#progress button[type=submit]")
    page.wait_for_selector("p.flash.ok")
    assert "已完成 3 个旗县的农村牧区环境整治验收" in page.locator("#reports").inner_text()
    shot(page, "06-department-progress-reported.png", full=True)

    page.click("#do-submit")  # at 80% and without evidence: the policy's 办结 requirements are not met
    refusal = page.locator("#form-error").inner_text()
    assert "办结报送前还须：报送完成 100% 的最终进展（最近一次为 80%）" in refusal
    assert "佐证材料" in refusal
    shot(page, "07-department-submit-refused.png")

    page.goto("/overdue")
    assert "仅供委员会办公室" in page.content()  # the office's board is not for a department
    page.goto("/scorecards")
    page.click("a[lang=en]")
    assert page.locator("header.top button.link").inner_text() == "Sign out"
    assert "On-time rate" in page.content()
    shot(page, "08-department-scorecard-english.png", full=True)
