"""Step definitions for 佐证材料 (issue 16; imported by tests/bdd/conftest.py): uploads told from their
bytes, stored once, downloaded as the task is read, and what 办结 needs under the task's frozen policy."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session

from duban.core.config import get_settings
from duban.tasks.enums import Role
from duban.workflow.evidence.files import files_of_records
from duban.workflow.machines import Actor
from duban.workflow.models import ReportKind, TaskReport
from tests.api.pages.helpers import PageClient, text_of
from tests.fixtures.evidence import EXE, image_bytes, pdf_bytes, ready_to_submit, require_completion

Headers = Callable[[str], dict[str, str]]
report_t = TaskReport.__table__  # type: ignore[attr-defined]


def _upload(
    api: TestClient, headers: dict[str, str], context: dict[str, Any], name: str, data: bytes
) -> None:
    context["response"] = api.post(
        f"/api/v1/tasks/{context['task_id']}/files",
        files={"file": (name, data, "application/octet-stream")},
        headers=headers,
    )
    if context["response"].status_code == 201:
        context.setdefault("files", []).extend(context["response"].json())


@given(parsers.parse('"{name}" 已上传佐证材料 "{file}"'))
@when(parsers.parse('"{name}" 上传佐证材料 "{file}"'))
def upload_pdf(
    records_api: TestClient, records_headers: Headers, context: dict[str, Any], name: str, file: str
) -> None:
    """A department uploads a PDF under this name."""
    context["pdf"] = pdf_bytes("佐证")
    _upload(records_api, records_headers(name), context, file, context["pdf"])


@when(parsers.parse('"{name}" 再次上传同一份文件，文件名为 "{file}"'))
def upload_again(
    records_api: TestClient, records_headers: Headers, context: dict[str, Any], name: str, file: str
) -> None:
    """The same bytes once more, under another name."""
    _upload(records_api, records_headers(name), context, file, context["pdf"])


@when(parsers.parse('"{name}" 上传一个名为 "{file}" 的可执行程序'))
def upload_program(
    records_api: TestClient, records_headers: Headers, context: dict[str, Any], name: str, file: str
) -> None:
    """A Windows program dressed up with a document's name."""
    _upload(records_api, records_headers(name), context, file, EXE)


@given(parsers.parse("单个佐证材料的上限为 {kb:d} KB"))
def file_limit(monkeypatch: pytest.MonkeyPatch, kb: int) -> None:
    """The per-file limit of the settings."""
    monkeypatch.setenv("DUBAN_EVIDENCE_MAX_FILE_BYTES", str(kb * 1024))
    get_settings.cache_clear()


@when(parsers.parse('"{name}" 上传一份 {kb:d} KB 的 PDF'))
def upload_large(
    records_api: TestClient, records_headers: Headers, context: dict[str, Any], name: str, kb: int
) -> None:
    """A PDF of about this size."""
    _upload(records_api, records_headers(name), context, "大文件.pdf", pdf_bytes(pad=kb * 1024))


@then(parsers.parse('上传成功，格式识别为 "{kind}"'))
def uploaded_as(context: dict[str, Any], kind: str) -> None:
    """201, and the kind told from the bytes."""
    response = context["response"]
    assert response.status_code == 201, response.text
    assert response.json()[0]["kind"] == kind


@then("两条记录指向同一份存储的文件")
def stored_once(context: dict[str, Any]) -> None:
    """Two rows, one digest, one stored file."""
    first, second = context["files"]
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    root = get_settings().files_dir
    assert root is not None
    assert len(list(root.rglob(first["sha256"]))) == 1


@then(parsers.parse("任务共有 {count:d} 份佐证材料"))
def file_count(
    records_api: TestClient, records_headers: Headers, context: dict[str, Any], count: int
) -> None:
    """As the office lists them."""
    listed = records_api.get(
        f"/api/v1/tasks/{context['task_id']}/files", headers=records_headers("委员会办公室")
    )
    assert len(listed.json()) == count


@then(parsers.parse('"{name}" 可以下载该文件，作为附件且不让浏览器猜测类型'))
def can_download(
    records_api: TestClient, records_headers: Headers, context: dict[str, Any], name: str
) -> None:
    """200 with the bytes, as an attachment of its type, nosniff."""
    response = records_api.get(context["files"][0]["download_url"], headers=records_headers(name))
    assert response.status_code == 200 and response.content == context["pdf"]
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"


@then(parsers.parse('"{name}" 下载该文件被拒绝'))
def cannot_download(
    records_api: TestClient, records_headers: Headers, context: dict[str, Any], name: str
) -> None:
    """403 for a department with no part in the task."""
    response = records_api.get(context["files"][0]["download_url"], headers=records_headers(name))
    assert response.status_code == 403


@given(parsers.parse('"{name}" 已报送完成 100% 的进展并附佐证材料'))
@when(parsers.parse('"{name}" 报送完成 100% 的进展并附佐证材料，并说明配合单位未报送的原因'))
def ready_for_completion(session: Session, context: dict[str, Any], name: str) -> None:
    """What 办结 needs, done by the lead: a 100% report with a PDF; a written reason for each silent unit."""
    from tests.bdd.conftest import _records_dept

    lead = Actor(role=Role.department, department_id=_records_dept(session, name).id)
    task_id: int = context["page_task"] if "page_task" in context else context["task_id"]
    ready_to_submit(session, task_id, lead)
    session.flush()


@given("督办规则要求办结时有佐证材料、完成 100% 的最终进展、配合单位的配合情况或未报送说明")
def completion_required(session: Session, context: dict[str, Any]) -> None:
    """The task's frozen policy gains a `completion` section (a new version), with every requirement."""
    require_completion(session, context["task_id"])
    session.flush()


def _final_report(
    api: TestClient, headers: dict[str, str], context: dict[str, Any], data: dict[str, str], file: str
) -> None:
    context["response"] = api.post(
        f"/api/v1/tasks/{context['task_id']}/progress",
        data=data,
        files={"file": (file, pdf_bytes("最终"), "application/pdf")},
        headers=headers,
    )
    assert context["response"].status_code == 201, context["response"].text


@when(
    parsers.re(
        r'"(?P<name>[^"]+)" 报送进展 (?P<percent>\d+)%，内容为 "(?P<text>[^"]+)"，附佐证材料 "(?P<file>[^"]+)"$'
    )
)
def report_with_file(
    records_api: TestClient,
    records_headers: Headers,
    context: dict[str, Any],
    name: str,
    percent: str,
    text: str,
    file: str,
) -> None:
    """A progress report sent as a form with one file."""
    _final_report(records_api, records_headers(name), context, {"percent": percent, "text": text}, file)


@when(
    parsers.re(
        r'"(?P<name>[^"]+)" 报送进展 (?P<percent>\d+)%，内容为 "(?P<text>[^"]+)"，附佐证材料 "(?P<file>[^"]+)"，'
        r'并说明 "(?P<unit>[^"]+)" 未报送的原因 "(?P<reason>[^"]+)"$'
    )
)
def report_with_reason(
    records_api: TestClient,
    records_headers: Headers,
    session: Session,
    context: dict[str, Any],
    name: str,
    percent: str,
    text: str,
    file: str,
    unit: str,
    reason: str,
) -> None:
    """A final report with a file and the written reason for a cooperating unit's missing contribution."""
    from tests.bdd.conftest import _records_dept

    missing = [{"department": _records_dept(session, unit).code, "reason": reason}]
    data = {
        "percent": percent,
        "text": text,
        "missing_contributions": json.dumps(missing, ensure_ascii=False),
    }
    _final_report(records_api, records_headers(name), context, data, file)


@then(parsers.parse('说明中指出缺少 "{report}"、"{files}" 和 "{unit}" 的配合情况'))
def names_what_is_missing(context: dict[str, Any], report: str, files: str, unit: str) -> None:
    """The refusal's Chinese names each missing requirement."""
    detail = context["response"].json()["detail"]
    for words in (report, files, unit):
        assert words in detail, detail


def _chosen(names: str, program: str | None = None) -> list[tuple[str, bytes]]:
    """The files a person picks in the browser, by name (a PDF or a picture), and perhaps a program."""
    picked = [
        (name, image_bytes("PNG") if name.endswith(".png") else pdf_bytes(name))
        for name in re.findall(r'"([^"]+)"', names)
    ]
    return [*picked, (program, EXE)] if program else picked


def _post_page_form(
    pages_clients: Callable[[str], PageClient],
    context: dict[str, Any],
    name: str,
    path: str,
    fields: dict[str, str],
    files: list[tuple[str, bytes]],
) -> None:
    page = pages_clients(name)
    context["response"] = page.client.post(
        f"/tasks/{context['task_id']}/{path}",
        data={**fields, "csrf_token": page.token},
        files=[("file", (file, data, "application/octet-stream")) for file, data in files],
    )


@when(
    parsers.re(
        r'"(?P<name>[^"]+)" 在任务页面报送进展 (?P<percent>\d+)%，内容为 "(?P<text>[^"]+)"，'
        r'选择文件 (?P<names>"[^"]+"(?: 和 "[^"]+")*)(?: 和一个名为 "(?P<program>[^"]+)" 的可执行程序)?$'
    )
)
def page_progress_with_files(
    pages_clients: Callable[[str], PageClient],
    context: dict[str, Any],
    name: str,
    percent: str,
    text: str,
    names: str,
    program: str | None,
) -> None:
    """The task page's 进展报送 form, posted with the files chosen in its file field."""
    fields = {"form": "progress", "percent": percent, "text": text}
    _post_page_form(pages_clients, context, name, "progress", fields, _chosen(names, program))


@when(
    parsers.re(
        r'"(?P<name>[^"]+)" 在任务页面办结报送，办结情况为 "(?P<text>[^"]+)"，选择文件 (?P<names>"[^"]+"(?: 和 "[^"]+")*)$'
    )
)
def page_submission_with_files(
    pages_clients: Callable[[str], PageClient], context: dict[str, Any], name: str, text: str, names: str
) -> None:
    """The task page's 办结报送 form with its 办结情况 and files."""
    fields = {"form": "action-submit", "text": text}
    _post_page_form(pages_clients, context, name, "actions/submit", fields, _chosen(names))


@then(parsers.parse("页面报送成功，这次进展附有 {count:d} 份佐证材料"))
def page_report_carries(session: Session, context: dict[str, Any], count: int) -> None:
    """Back to the task page (303), and the latest progress report carries the files."""
    response = context["response"]
    assert response.status_code == 303, response.text[:500]
    report_id = (
        session.connection()
        .execute(
            sa.select(sa.func.max(report_t.c.id)).where(
                report_t.c.task_id == context["task_id"], report_t.c.kind == ReportKind.progress.value
            )
        )
        .scalar_one()
    )
    assert report_id is not None
    assert len(files_of_records(session, "report", [report_id])[report_id]) == count


@then(parsers.parse('页面答 {status:d}，提示 "{first}" 和 "{second}"'))
def page_form_refused(context: dict[str, Any], status: int, first: str, second: str) -> None:
    """The task page again, with the reason in Chinese."""
    response = context["response"]
    assert response.status_code == status, response.text[:500]
    shown = text_of(response.text)
    assert first in shown and second in shown, shown[:800]


@then("任务没有进展报送")
def no_progress(session: Session, context: dict[str, Any]) -> None:
    """The refused report was not written."""
    count = session.connection().execute(
        sa.select(sa.func.count()).where(
            report_t.c.task_id == context["task_id"], report_t.c.kind == ReportKind.progress.value
        )
    )
    assert count.scalar_one() == 0
