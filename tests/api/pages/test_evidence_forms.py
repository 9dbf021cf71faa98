"""佐证材料 chosen on the task page's own forms — 进展报送, 配合单位报送, 办结报送 and 延期申请 — stored by the
API's path with the record, in its transaction: a refused file (415, 413) leaves neither the record nor the
file, and the page says why in Chinese, keeping what was typed."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from duban.core.config import get_settings
from duban.tasks.enums import TaskState
from duban.tasks.models import Task
from duban.workflow.evidence.files import files_of_records, task_files
from duban.workflow.models import ExtensionRequest, ReportKind, TaskReport
from tests.api.pages.helpers import PageClient, text_of
from tests.fixtures.evidence import EXE, image_bytes, pdf_bytes
from tests.fixtures.tasks import TaskWorld

Files = list[tuple[str, bytes]]


def _post(page: PageClient, path: str, fields: dict[str, str], files: Files) -> httpx.Response:
    """A multipart form as the browser sends it: the fields, the CSRF token and each chosen file."""
    return page.client.post(
        path,
        data={**fields, "csrf_token": page.token},
        files=[("file", (name, data, "application/octet-stream")) for name, data in files],
    )


def _reports(session: Session, task_id: int, kind: ReportKind) -> list[TaskReport]:
    rows = session.connection().execute(
        sa.select(TaskReport.__table__).where(  # type: ignore[attr-defined]
            TaskReport.__table__.c.task_id == task_id,  # type: ignore[attr-defined]
            TaskReport.__table__.c.kind == kind.value,  # type: ignore[attr-defined]
        )
    )
    return [TaskReport.model_validate(dict(row._mapping)) for row in rows]


def _carried(session: Session, task_id: int, record_kind: str, record_id: int | None) -> list[str]:
    """The names of the files a record carries."""
    assert record_id is not None
    ids = files_of_records(session, record_kind, [record_id])[record_id]
    return sorted(row.name for row in task_files(session, task_id) if row.id in ids)


def _state(session: Session, task_id: int) -> TaskState:
    task = session.get(Task, task_id, populate_existing=True)
    assert task is not None
    return task.state


def test_a_progress_report_carries_the_files_chosen_on_its_form(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task = world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    form = lead.get(f"/tasks/{task}").text
    progress = form[form.index('id="progress"') : form.index("</form>", form.index('id="progress"'))]
    assert f'action="/tasks/{task}/progress" enctype="multipart/form-data"' in form
    assert '<input type="file" name="file" multiple' in progress
    sent = _post(
        lead,
        f"/tasks/{task}/progress",
        {"form": "progress", "percent": "70", "text": "已完成 140 台锅炉改造"},
        [("验收报告.pdf", pdf_bytes("进展")), ("改造现场.jpg", image_bytes("JPEG"))],
    )
    assert sent.status_code == 303, text_of(sent.text)[:300]
    (report,) = _reports(world.session, task, ReportKind.progress)
    assert report.percent == 70
    assert _carried(world.session, task, "report", report.id) == ["改造现场.jpg", "验收报告.pdf"]
    office = text_of(signed_in("office").get(f"/tasks/{task}").text)
    assert "佐证材料（2）" in office and "待随下次报送" not in office


def test_files_uploaded_beforehand_go_with_the_next_report_beside_those_chosen_on_it(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task = world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    early = _post(lead, f"/tasks/{task}/files", {}, [("先传的照片.png", image_bytes("PNG"))])
    assert early.status_code == 303
    sent = _post(
        lead,
        f"/tasks/{task}/progress",
        {"form": "progress", "percent": "80", "text": "补充验收材料"},
        [("验收报告.pdf", pdf_bytes("补充"))],
    )
    assert sent.status_code == 303
    (report,) = _reports(world.session, task, ReportKind.progress)
    assert _carried(world.session, task, "report", report.id) == ["先传的照片.png", "验收报告.pdf"]


def test_a_disguised_file_refuses_the_report_with_it_and_the_page_says_why(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task = world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    refused = _post(
        lead,
        f"/tasks/{task}/progress",
        {"form": "progress", "percent": "90", "text": "整改已基本完成"},
        [("验收报告.pdf", pdf_bytes()), ("整改通知.pdf", EXE)],
    )
    assert refused.status_code == 415
    page = text_of(refused.text)
    assert "“整改通知.pdf”不是可接受的佐证材料格式（按文件内容判断，而非扩展名）" in page
    assert "本次报送未保存，所选文件也未保存：请更正后重新选择文件" in page
    assert "整改已基本完成" in refused.text  # what was typed is kept
    assert _reports(world.session, task, ReportKind.progress) == []
    assert task_files(world.session, task) == []  # not even the good PDF: nothing half-written


def test_a_file_over_the_limit_is_413_on_the_page_and_nothing_is_kept(
    signed_in: Callable[[str], PageClient], world: TaskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBAN_EVIDENCE_MAX_FILE_BYTES", str(64 * 1024))
    get_settings.cache_clear()
    try:
        task = world.task_in(TaskState.in_progress)
        coop = signed_in("cooperating")
        refused = _post(
            coop,
            f"/tasks/{task}/contribution",
            {"form": "contribution", "text": "已完成配合监测"},
            [("监测报告.pdf", pdf_bytes(pad=100 * 1024))],
        )
        assert refused.status_code == 413
        assert "文件“监测报告.pdf”超过单个文件 65536 字节 的上限" in text_of(refused.text)
        assert "本次报送未保存" in text_of(refused.text)
        assert _reports(world.session, task, ReportKind.contribution) == []
        assert task_files(world.session, task) == []
    finally:
        get_settings.cache_clear()


def test_a_cooperating_unit_sends_its_contribution_with_a_file(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task = world.task_in(TaskState.in_progress)
    coop = signed_in("cooperating")
    sent = _post(
        coop,
        f"/tasks/{task}/contribution",
        {"form": "contribution", "text": "已完成 3 个监测点位比对", "percent": "100"},
        [("比对报告.pdf", pdf_bytes("配合"))],
    )
    assert sent.status_code == 303, text_of(sent.text)[:300]
    (report,) = _reports(world.session, task, ReportKind.contribution)
    assert report.department_id == world.cooperating_id
    assert _carried(world.session, task, "report", report.id) == ["比对报告.pdf"]
    (row,) = task_files(world.session, task)
    assert row.department_id == world.cooperating_id and row.kind == "pdf"


def test_an_extension_request_carries_its_file(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[str], None]
) -> None:
    clock_at("2025-06-02T10:00")
    task = world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    sent = _post(
        lead,
        f"/tasks/{task}/extensions",
        {"form": "extension", "requested_deadline": "2027-03-31", "reason": "设备供货延迟"},
        [("供货函.pdf", pdf_bytes("供货"))],
    )
    assert sent.status_code == 303, text_of(sent.text)[:300]
    (extension,) = world.session.connection().execute(
        sa.select(ExtensionRequest.__table__.c.id).where(  # type: ignore[attr-defined]
            ExtensionRequest.__table__.c.task_id == task  # type: ignore[attr-defined]
        )
    )
    assert _carried(world.session, task, "extension", extension.id) == ["供货函.pdf"]


def test_the_submission_form_sends_the_final_report_and_its_files_with_the_submission(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task = world.task_in(TaskState.in_progress)
    coop = signed_in("cooperating")
    contributed = _post(coop, f"/tasks/{task}/contribution", {"form": "contribution", "text": "已配合"}, [])
    assert contributed.status_code == 303
    lead = signed_in("lead")
    form = lead.get(f"/tasks/{task}").text
    submission = form[form.index('id="submission"') : form.index("</form>", form.index('id="submission"'))]
    assert 'name="text"' in submission and '<input type="file" name="file" multiple' in submission
    assert 'id="do-submit"' in submission
    without_text = _post(
        lead, f"/tasks/{task}/actions/submit", {"form": "action-submit"}, [("a.pdf", pdf_bytes())]
    )
    assert without_text.status_code == 422
    assert "随办结报送附佐证材料时，请填写办结情况" in text_of(without_text.text)
    assert task_files(world.session, task) == []
    submitted = _post(
        lead,
        f"/tasks/{task}/actions/submit",
        {"form": "action-submit", "text": "全部 200 台锅炉改造完成并通过验收"},
        [("验收报告.pdf", pdf_bytes("最终")), ("现场.png", image_bytes("PNG"))],
    )
    assert submitted.status_code == 303, text_of(submitted.text)[:400]
    assert _state(world.session, task) is TaskState.submitted
    (final,) = _reports(world.session, task, ReportKind.progress)
    assert final.percent == 100 and final.text == "全部 200 台锅炉改造完成并通过验收"
    assert _carried(world.session, task, "report", final.id) == ["现场.png", "验收报告.pdf"]


def test_a_refused_submission_keeps_neither_its_report_nor_its_files(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task = world.task_in(TaskState.in_progress)  # the cooperating unit has sent nothing, and no reason
    lead = signed_in("lead")
    refused = _post(
        lead,
        f"/tasks/{task}/actions/submit",
        {"form": "action-submit", "text": "全部完成"},
        [("验收报告.pdf", pdf_bytes("最终"))],
    )
    assert refused.status_code == 422
    page = text_of(refused.text)
    assert "办结报送前还须：配合单位“自治区发展改革委”的配合情况" in page
    assert "本次报送未保存" in page and "全部完成" in refused.text
    assert _state(world.session, task) is TaskState.in_progress
    assert _reports(world.session, task, ReportKind.progress) == []
    assert task_files(world.session, task) == []


def test_a_form_over_the_body_limit_gets_a_page_not_json(
    signed_in: Callable[[str], PageClient], world: TaskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the app's cap on an upload's body: the larger of this + 1 MB and the 5 MB of any request
    monkeypatch.setenv("DUBAN_EVIDENCE_MAX_FILE_BYTES", str(64 * 1024))
    get_settings.cache_clear()
    try:
        task = world.task_in(TaskState.in_progress)
        lead = signed_in("lead")
        refused = lead.client.post(
            f"/tasks/{task}/progress",
            data={"form": "progress", "percent": "50", "text": "过半", "csrf_token": lead.token},
            files=[("file", ("扫描件.pdf", pdf_bytes(pad=6 * 1024 * 1024), "application/pdf"))],
            headers={"accept": "text/html,application/xhtml+xml"},
        )
        assert refused.status_code == 413
        assert refused.headers["content-type"].startswith("text/html")
        shown = text_of(refused.text)
        assert "文件过大" in shown and "本次报送未保存" in shown
        assert f'href="/tasks/{task}"' in refused.text
        assert _reports(world.session, task, ReportKind.progress) == []
        api = lead.client.post(
            f"/api/v1/tasks/{task}/files",
            files=[("file", ("扫描件.pdf", pdf_bytes(pad=6 * 1024 * 1024), "application/pdf"))],
            headers={"accept": "text/html"},
        )
        assert api.status_code == 413 and api.headers["content-type"] == "application/problem+json"
    finally:
        get_settings.cache_clear()
