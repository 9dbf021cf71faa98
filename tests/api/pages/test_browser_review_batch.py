"""Batch work and the plan review tree in a real browser (system Chromium through Playwright) against the app
under uvicorn: four example plans issued, the 101-measure 十三五 plan left in draft for review. A department
signs for 20 tasks in one batch; the review page reads as the document's outline at 1440 and 390 px wide.
Screenshots go to var/test-artifacts/screenshots/."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
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
from duban.workflow.issuing import issue_plan
from duban.workflow.service import office_actor
from tests.api.pages.helpers import PASSWORD, live_server
from tests.api.pages.test_browser import chromium, shot, signed_in_page

pytestmark = pytest.mark.browser
__all__ = ["chromium"]  # the shared browser fixture, used here by name

REVIEWED = "十三五"  # the largest seed: 101 measures, kept in draft


def _seed(url: str) -> int:
    """Departments, four plans issued, the 十三五 plan imported as drafts, an office and a department user."""
    migrations.upgrade(url)
    engine = build_engine(url)
    try:
        with Session(engine) as session:
            clock.set_now("2024-01-02T09:00")
            load_departments(session)
            reviewed = 0
            for file in sorted((PROJECT_ROOT / "examples" / "plans").glob("*.txt")):
                text = decode_bytes(file.read_bytes(), file.name)
                plan_id = import_plan(session, text, parse(text), file.name).plan_id
                if REVIEWED in file.name:
                    reviewed = plan_id
                else:
                    issue_plan(session, plan_id, office_actor())
            create_user(session, "office", Role.office, PASSWORD, None, "委员会办公室 张敏")
            create_user(session, "sthjt", Role.department, PASSWORD, "sthjt", "生态环境厅 王磊")
            session.commit()
            return reviewed
    finally:
        clock.set_now(None)
        engine.dispose()


@pytest.fixture(scope="module")
def review_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app under uvicorn in a subprocess on a free port, over its own seeded database."""
    folder = tmp_path_factory.mktemp("review-live")
    database = folder / "duban.sqlite3"
    url = f"sqlite:///{database}"
    plan_id = _seed(url)
    with live_server(url, folder, "2024-03-04T09:00") as base:
        yield {"base": base, "plan_id": plan_id, "database": database}


def test_a_department_signs_for_20_tasks_in_one_batch(chromium: Any, review_app: dict[str, Any]) -> None:
    page = signed_in_page(chromium, review_app, "sthjt", "/tasks?bucket=to_sign")
    page.wait_for_url("**/tasks?bucket=to_sign")
    before = int(page.locator("#bucket-to_sign .count").inner_text())
    assert before >= 20
    boxes = page.locator("table.mine tbody input[type=checkbox][form=batch-accept]")
    chosen = [int((boxes.nth(i).get_attribute("value") or "0").split(":")[0]) for i in range(20)]
    for i in range(20):
        boxes.nth(i).check()
    shot(page, "20-department-batch-selected.png")
    page.click("#batch-accept-selected")
    page.wait_for_selector("p.flash.ok")
    assert "已签收 20 项任务" in page.locator("p.flash.ok").inner_text()
    assert int(page.locator("#bucket-to_sign .count").inner_text()) == before - 20
    shot(page, "21-department-batch-signed.png")
    with sqlite3.connect(review_app["database"]) as db:
        rows = db.execute(
            f"SELECT task_id, COUNT(*) FROM task_event WHERE kind = 'accept' "
            f"AND task_id IN ({','.join('?' * len(chosen))}) GROUP BY task_id",
            chosen,
        ).fetchall()
    assert sorted(rows) == sorted((task_id, 1) for task_id in chosen)  # one audited event each


def _document_lines(app: dict[str, Any]) -> dict[str, int]:
    with sqlite3.connect(app["database"]) as db:
        rows = db.execute("SELECT id, line_start FROM measure WHERE plan_id = ?", (app["plan_id"],))
        return {str(measure_id): int(line or 0) for measure_id, line in rows}


def _outline_order(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "#outline [id^=part-], #outline [id^=measure-]", "nodes => nodes.map(n => n.id.split('-')[1])"
    )
    return ids


@pytest.mark.parametrize("width", [1440, 390])
def test_the_plan_review_reads_as_the_documents_outline(
    chromium: Any, review_app: dict[str, Any], width: int
) -> None:
    plan_id = review_app["plan_id"]
    page = signed_in_page(chromium, review_app, "office", f"/plans/{plan_id}", width)
    page.wait_for_url(f"**/plans/{plan_id}")
    chapters = page.locator("#outline > details.part > summary .label").all_inner_texts()
    assert chapters[:3] == ["第一章", "第二章", "第三章"]
    height = page.locator("#outline").evaluate("o => o.getBoundingClientRect().height")
    assert height < 3000, height  # every part closed: the outline, not 101 measures one after another
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"22-plan-review-tree-{width}.png", full=True)

    page.goto(f"/plans/{plan_id}?expand=all")
    lines = _document_lines(review_app)
    order = [lines[node] for node in _outline_order(page)]
    assert len(order) > 100 and order == sorted(order)  # document order, parts before what they hold
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.click("#filter-attention")
    page.wait_for_url("**show=attention")
    flagged = page.locator("#outline article.task").count()
    assert flagged == int(page.locator("#filter-attention .count").inner_text()) > 0
    basis = page.locator("#outline details.proposal").first
    basis.locator("summary").click()
    assert "措施提到" in basis.inner_text() and "env." not in page.content()  # no rule ids in Chinese
    shot(page, f"23-plan-review-attention-{width}.png")

    edit = page.locator("#outline a.edit-link").first
    task_id = (edit.get_attribute("id") or "").removeprefix("edit-link-")
    edit.click()
    form = page.locator(f"#edit-{task_id}")
    form.locator("select[name=lead]").select_option(label="自治区水利厅")  # a full name, not cut off
    form.locator("select[name=cooperating]").select_option([])
    assert form.locator("select[name=lead]").evaluate("s => s.scrollWidth <= s.clientWidth + 1")
    shot(page, f"24-plan-review-edit-{width}.png")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("p.flash.ok")
    assigned = page.locator(f"#task-{task_id} dl.assign").inner_text()
    assert "自治区水利厅" in assigned and "办公室审定" in assigned
