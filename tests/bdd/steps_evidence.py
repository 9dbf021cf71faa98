"""Step definitions for 佐证材料 (issue 16; imported by tests/bdd/conftest.py): uploads told from their
bytes, stored once, downloaded as the task is read, and what 办结 needs under the task's frozen policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session

from duban.core.config import get_settings
from duban.tasks.enums import Role
from duban.workflow.machines import Actor
from tests.fixtures.evidence import EXE, pdf_bytes, ready_to_submit, require_completion

Headers = Callable[[str], dict[str, str]]


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
