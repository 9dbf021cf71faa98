"""The office's task page with a PDF and a photograph attached, in a real browser (Chromium through
Playwright) against the app under uvicorn: the thumbnail renders, the PDF opens in the browser's viewer,
downloads are attachments. The lead then reports through the page's own form with files chosen in its file
field: a disguised program is refused with the report, the real files go with it. The screenshots go to
var/test-artifacts/screenshots/."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from duban import migrations
from duban.api.users import create_user
from duban.core import clock
from duban.core.db import build_engine
from duban.core.filestore import LocalFileStore
from duban.tasks.departments import load_departments
from duban.tasks.enums import Role
from duban.tasks.models import Task
from duban.tasks.parser import parse
from duban.tasks.plans import import_plan
from duban.workflow.evidence.files import Limits, upload
from duban.workflow.machines import Actor
from duban.workflow.records import add_progress
from duban.workflow.service import apply_action
from tests.api.pages.helpers import CHROMIUM, PASSWORD, SHOTS, live_server
from tests.api.pages.test_browser import chromium as chromium  # the module's browser, as a fixture here
from tests.api.pages.test_browser import shot, signed_in_page
from tests.conftest import IN_CI
from tests.fixtures.evidence import EXE, image_bytes, pdf_bytes

pytestmark = pytest.mark.browser

PLAN = "燃煤锅炉整治工作方案\n\n一、重点任务\n（一）推进燃煤锅炉整治。2026年年底前完成全区燃煤锅炉淘汰改造。（自治区生态环境厅牵头，自治区发展改革委配合）\n"


def _seed(url: str, files: Path) -> int:
    """A task in progress whose lead reported with a PDF and a photograph."""
    migrations.upgrade(url)
    engine = build_engine(url)
    try:
        with Session(engine) as session:
            clock.set_now("2025-10-15T09:00")
            load_departments(session)
            plan_id = import_plan(session, PLAN, parse(PLAN), "方案.txt").plan_id
            task = session.exec(select(Task).where(Task.plan_id == plan_id)).one()
            assert task.id is not None
            create_user(session, "office", Role.office, PASSWORD, None, "委员会办公室 张敏")
            lead = create_user(session, "sthjt", Role.department, PASSWORD, "sthjt", "生态环境厅 王磊")
            actor = Actor(role=Role.department, department_id=lead.department_id, user_id=lead.id)
            apply_action(session, task.id, "issue", Actor(role=Role.office))
            apply_action(session, task.id, "accept", actor)
            store, limits = LocalFileStore(files), Limits(1 << 24, 1 << 26)
            ids = [
                upload(session, store, task.id, actor, name, io.BytesIO(data), limits).id
                for name, data in (("锅炉改造验收报告.pdf", pdf_bytes()), ("整改现场.png", _photo()))
            ]
            add_progress(
                session,
                task.id,
                actor,
                60,
                "已完成 120 台锅炉改造，附验收报告和现场照片",
                file_ids=[i for i in ids if i],
            )
            session.commit()
            return task.id
    finally:
        clock.set_now(None)
        engine.dispose()


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), "#d9e6f2")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 120, 280, 220), fill="#6b7b8c")
    draw.rectangle((120, 40, 160, 120), fill="#8a8f96")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue() or image_bytes()


@pytest.fixture(scope="module")
def evidence_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app under uvicorn over the seeded database and file store."""
    folder = tmp_path_factory.mktemp("evidence-live")
    url = f"sqlite:///{folder / 'duban.sqlite3'}"
    task_id = _seed(url, folder / "files")
    with live_server(url, folder, "2025-10-15T10:00") as base:
        yield {"base": base, "task": task_id}


def test_the_office_reviews_a_pdf_and_a_photograph_beside_the_timeline(evidence_app: dict[str, Any]) -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} 不存在 / Chromium is not installed"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    task = evidence_app["task"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            context = browser.new_context(
                base_url=evidence_app["base"], viewport={"width": 1440, "height": 900}, locale="zh-CN"
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"/tasks/{task}")
            page.fill("input[name=username]", "office")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"**/tasks/{task}")
            panel = page.locator("#evidence")
            assert "佐证材料（2）" in panel.inner_text()
            thumb = panel.locator("img.thumb")
            thumb.wait_for()
            # the photograph is shown (served inline under its sandbox CSP), not a broken image
            assert page.evaluate("img => img.complete && img.naturalWidth", thumb.element_handle()) == 320
            pdf_link = panel.locator("a.file-name", has_text="锅炉改造验收报告.pdf")
            assert pdf_link.get_attribute("target") == "_blank"
            panel.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / "20-office-task-evidence.png"), full_page=True)
            shown = page.request.get(pdf_link.get_attribute("href") or "")
            assert shown.headers["content-type"] == "application/pdf"
            assert shown.headers["content-disposition"].startswith("inline;")
            assert shown.headers["x-content-type-options"] == "nosniff"
            download = page.request.get(panel.locator("a", has_text="下载").first.get_attribute("href") or "")
            assert download.headers["content-disposition"].startswith("attachment;")
        finally:
            browser.close()


def _chosen(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/octet-stream", "buffer": data}


def test_the_lead_reports_with_files_chosen_on_the_progress_form(
    chromium: Any, evidence_app: dict[str, Any]
) -> None:
    task = evidence_app["task"]
    page = signed_in_page(chromium, evidence_app, "sthjt", f"/tasks/{task}")
    page.wait_for_url(f"**/tasks/{task}")
    before = page.locator("#evidence li.evidence-item").count()
    form = page.locator("#progress")
    form.locator("input[name=percent]").fill("90")
    form.locator("textarea[name=text]").fill("已完成 180 台锅炉改造，附第二批验收材料")
    form.locator("input[type=file]").set_input_files(
        [_chosen("第二批验收报告.pdf", pdf_bytes("第二批")), _chosen("整改通知.pdf", EXE)]
    )
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    refusal = page.locator("#form-error").inner_text()
    assert "“整改通知.pdf”不是可接受的佐证材料格式" in refusal
    assert "本次报送未保存" in page.locator("#progress .files-not-kept").inner_text()
    assert page.input_value("#progress textarea[name=text]") == "已完成 180 台锅炉改造，附第二批验收材料"
    assert page.locator("#evidence li.evidence-item").count() == before  # not even the good PDF
    shot(page, "21-lead-progress-file-refused.png", full=True)

    form = page.locator("#progress")
    form.locator("input[name=percent]").fill("90")
    form.locator("input[type=file]").set_input_files(
        [_chosen("第二批验收报告.pdf", pdf_bytes("第二批")), _chosen("改造后现场.png", _photo())]
    )
    form.locator("button[type=submit]").click()
    page.wait_for_selector("p.flash.ok")
    assert "进展已报送" in page.locator("p.flash.ok").inner_text()
    panel = page.locator("#evidence")
    assert panel.locator("li.evidence-item").count() == before + 2
    assert "第二批验收报告.pdf" in panel.inner_text() and "改造后现场.png" in panel.inner_text()
    assert "90%" in page.locator("#reports article").first.inner_text()
    panel.scroll_into_view_if_needed()
    shot(page, "22-lead-progress-with-files.png", full=True)
    page.context.close()
