"""佐证材料 over the API: upload, dedupe, download headers, refused kinds and sizes, records carrying files."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from duban.core.config import get_settings
from duban.core.filestore import LocalFileStore
from duban.tasks.enums import TaskState
from tests.api.helpers import problem as assert_problem
from tests.fixtures.evidence import DOCX, EXE, HTML, image_bytes, pdf_bytes, require_completion
from tests.fixtures.tasks import COOPERATING, LEAD, OTHER, TaskWorld

Headers = Callable[..., dict[str, str]]


def _files_dir() -> Path:
    root = get_settings().files_dir
    assert root is not None
    return root


def _upload(client: TestClient, task: int, headers: dict[str, str], *files: tuple[str, bytes]) -> Response:
    return client.post(
        f"/api/v1/tasks/{task}/files",
        files=[("file", (name, data, "application/octet-stream")) for name, data in files],
        headers=headers,
    )


@pytest.fixture
def lead(auth_headers: Headers) -> dict[str, str]:
    """The lead department's headers."""
    return auth_headers("department", LEAD)


def test_a_lead_uploads_evidence_and_the_same_bytes_are_stored_once(
    client: TestClient, world: TaskWorld, lead: dict[str, str]
) -> None:
    task = world.task_in(TaskState.in_progress)
    data = pdf_bytes("去重")
    first = client.post(
        f"/api/v1/tasks/{task}/files", files={"file": ("验收报告.pdf", data, "application/pdf")}, headers=lead
    )
    assert first.status_code == 201, first.text
    (view,) = first.json()
    assert (view["name"], view["kind"], view["media_type"], view["size"]) == (
        "验收报告.pdf",
        "pdf",
        "application/pdf",
        len(data),
    )
    assert view["download_url"] == f"/api/v1/files/{view['id']}" and view["view_url"].endswith("/view")
    again = client.post(
        f"/api/v1/tasks/{task}/files", files={"file": ("副本.pdf", data, "application/pdf")}, headers=lead
    )
    (copy,) = again.json()
    assert copy["id"] != view["id"] and copy["sha256"] == view["sha256"]
    store = LocalFileStore(_files_dir())
    assert store.exists(view["sha256"])
    assert [d for d, _ in store.digests()].count(view["sha256"]) == 1
    listed = client.get(f"/api/v1/tasks/{task}/files", headers=lead).json()
    assert [f["name"] for f in listed] == ["验收报告.pdf", "副本.pdf"]


def test_a_download_is_an_attachment_of_its_type_never_sniffed(
    client: TestClient, world: TaskWorld, lead: dict[str, str], office: dict[str, str]
) -> None:
    task = world.task_in(TaskState.in_progress)
    png = image_bytes("PNG")
    (pdf, image, doc) = _upload(
        client, task, lead, ("报告 2025.pdf", pdf_bytes()), ("现场.png", png), ("说明.docx", DOCX)
    ).json()
    download = client.get(f"/api/v1/files/{image['id']}", headers=office)
    assert download.status_code == 200 and download.content == png
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == (
        f"attachment; filename=\"__.png\"; filename*=UTF-8''{quote('现场.png', safe='')}"
    )
    assert "sandbox" in download.headers["content-security-policy"]
    shown = client.get(f"/api/v1/files/{image['id']}/view", headers=office)
    assert shown.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in shown.headers["content-security-policy"]
    viewed_pdf = client.get(f"/api/v1/files/{pdf['id']}/view", headers=office)
    assert viewed_pdf.headers["content-disposition"].startswith("inline;")
    assert viewed_pdf.headers["content-type"] == "application/pdf"
    assert viewed_pdf.headers["x-content-type-options"] == "nosniff"
    # a Word file is never shown inline, whichever route asks
    assert doc["view_url"] is None
    word = client.get(f"/api/v1/files/{doc['id']}/view", headers=office)
    assert word.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    "name,data",
    [("通知.pdf", EXE), ("照片.png", HTML), ("报告.pdf", b"just text")],
    ids=["exe", "html", "text"],
)
def test_a_disguised_file_is_refused_whatever_its_name(
    client: TestClient, world: TaskWorld, lead: dict[str, str], name: str, data: bytes
) -> None:
    task = world.task_in(TaskState.in_progress)
    refused = client.post(
        f"/api/v1/tasks/{task}/files", files={"file": (name, data, "application/pdf")}, headers=lead
    )
    assert_problem(refused, 415, "file_kind_refused")
    assert "按文件内容判断" in refused.json()["detail"]
    assert client.get(f"/api/v1/tasks/{task}/files", headers=lead).json() == []


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch, session: Session) -> Iterator[TestClient]:
    """The app with 64 KB per file and 160 KB per task."""
    from duban.api.app import create_app

    monkeypatch.setenv("DUBAN_EVIDENCE_MAX_FILE_BYTES", str(64 * 1024))
    monkeypatch.setenv("DUBAN_EVIDENCE_MAX_TASK_BYTES", str(160 * 1024))
    get_settings.cache_clear()
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_file_over_the_limit_is_413_and_so_is_a_task_over_its_total(
    small_limits: TestClient, world: TaskWorld, lead: dict[str, str]
) -> None:
    client = small_limits
    task = world.task_in(TaskState.in_progress)
    too_big = client.post(
        f"/api/v1/tasks/{task}/files",
        content=pdf_bytes(pad=70 * 1024),
        headers={**lead, "Content-Type": "application/octet-stream", "X-Filename": "big.pdf"},
    )
    assert_problem(too_big, 413, "file_too_large")
    # a body far over the limit is refused before it is read
    refused = _upload(client, task, lead, ("巨大.pdf", pdf_bytes(pad=2 * 1024 * 1024)))
    assert refused.status_code == 413
    for n in range(3):
        ok = _upload(client, task, lead, (f"{n}.pdf", pdf_bytes(str(n), pad=60 * 1024)))
        assert ok.status_code == (201 if n < 2 else 413), ok.text
    assert_problem(ok, 413, "task_files_too_large")


def test_only_uploads_get_the_larger_body_limit(
    client: TestClient, world: TaskWorld, lead: dict[str, str]
) -> None:
    task = world.task_in(TaskState.in_progress)
    big = 6 * 1024 * 1024  # over the 5 MB of DUBAN_MAX_REQUEST_BYTES, under an evidence file's 50 MB
    as_json = client.post(
        f"/api/v1/tasks/{task}/progress",
        content=b'{"percent": 10, "text": "' + b"x" * big + b'"}',
        headers={**lead, "Content-Type": "application/json"},
    )
    assert_problem(as_json, 413, "request_too_large")
    as_file = _upload(client, task, lead, ("大报告.pdf", pdf_bytes(pad=big)))
    assert as_file.status_code == 201, as_file.text


def test_raw_bytes_with_an_rfc_5987_name(client: TestClient, world: TaskWorld, lead: dict[str, str]) -> None:
    task = world.task_in(TaskState.in_progress)
    name = "整改情况（第一批）.pdf"
    sent = client.post(
        f"/api/v1/tasks/{task}/files",
        content=pdf_bytes(),
        headers={
            **lead,
            "Content-Type": "application/octet-stream",
            "X-Filename": f"UTF-8''{quote(name)}",
        },
    )
    assert sent.status_code == 201 and sent.json()[0]["name"] == name


def test_who_may_upload(client: TestClient, world: TaskWorld, auth_headers: Headers) -> None:
    task = world.task_in(TaskState.in_progress)
    callers = {
        "anonymous": ({}, 401),
        "other": (auth_headers("department", OTHER), 403),
        "office": (auth_headers("office"), 403),
        "cooperating": (auth_headers("department", COOPERATING), 201),
        "lead": (auth_headers("department", LEAD), 201),
    }
    for who, (headers, status) in callers.items():
        response = _upload(client, task, headers, ("a.pdf", pdf_bytes(who)))
        assert response.status_code == status, (who, response.text)
    completed = world.task_in(TaskState.completed)
    closed = _upload(client, completed, callers["lead"][0], ("a.pdf", pdf_bytes()))
    assert_problem(closed, 409, "evidence_not_allowed")


def test_a_report_carries_its_files_by_form_or_by_id(
    client: TestClient, world: TaskWorld, lead: dict[str, str], auth_headers: Headers
) -> None:
    task = world.task_in(TaskState.in_progress)
    form = client.post(
        f"/api/v1/tasks/{task}/progress",
        data={"percent": "60", "text": "已完成 120 台锅炉改造"},
        files=[
            ("file", ("验收.pdf", pdf_bytes(), "application/pdf")),
            ("file", ("现场.jpg", image_bytes("JPEG"), "image/jpeg")),
        ],
        headers=lead,
    )
    assert form.status_code == 201, form.text
    assert form.json()["percent"] == 60 and len(form.json()["file_ids"]) == 2
    (extra,) = client.post(
        f"/api/v1/tasks/{task}/files", files={"file": ("补充.pdf", pdf_bytes("补充"))}, headers=lead
    ).json()
    by_id = client.post(
        f"/api/v1/tasks/{task}/progress",
        json={"percent": 80, "text": "补充材料", "file_ids": [extra["id"]]},
        headers=lead,
    )
    assert by_id.status_code == 201 and by_id.json()["file_ids"] == [extra["id"]]
    reports = client.get(f"/api/v1/tasks/{task}/reports", headers=lead).json()["items"]
    assert [len(r["file_ids"]) for r in reports] == [2, 1]
    listed = {f["id"]: f for f in client.get(f"/api/v1/tasks/{task}/files", headers=lead).json()}
    assert listed[extra["id"]]["records"] == [{"kind": "report", "id": by_id.json()["id"]}]
    # another department's file cannot be named
    coop = auth_headers("department", COOPERATING)
    (theirs,) = client.post(
        f"/api/v1/tasks/{task}/files", files={"file": ("配合.pdf", pdf_bytes("配合"))}, headers=coop
    ).json()
    refused = client.post(
        f"/api/v1/tasks/{task}/progress",
        json={"percent": 90, "text": "x", "file_ids": [theirs["id"]]},
        headers=lead,
    )
    assert_problem(refused, 422, "unknown_files")


def test_an_extension_request_carries_a_file(
    client: TestClient, world: TaskWorld, lead: dict[str, str], clock_at: Callable[[str], None]
) -> None:
    clock_at("2025-06-02T10:00")
    task = world.task_in(TaskState.in_progress)
    asked = client.post(
        f"/api/v1/tasks/{task}/extensions",
        data={"requested_deadline": "2027-03-31", "reason": "设备供货延迟"},
        files={"file": ("供货函.pdf", pdf_bytes("供货"), "application/pdf")},
        headers=lead,
    )
    assert asked.status_code == 201, asked.text
    assert len(asked.json()["file_ids"]) == 1


def test_submit_is_refused_with_what_is_missing_and_accepted_with_it(
    client: TestClient, world: TaskWorld, lead: dict[str, str], auth_headers: Headers
) -> None:
    task = world.task_in(TaskState.in_progress)
    require_completion(world.session, task)
    submit = f"/api/v1/tasks/{task}/actions/submit"
    refused = assert_problem(
        client.post(submit, headers={**lead, "If-Match": "*"}), 422, "completion_incomplete"
    )
    assert [m["requirement"] for m in refused["missing"]] == [
        "final_report",
        "evidence_files",
        "contributions",
    ]
    assert refused["detail"].startswith("办结报送前还须：")
    final = client.post(
        f"/api/v1/tasks/{task}/progress",
        data={
            "percent": "100",
            "text": "全部完成",
            "missing_contributions": json.dumps([{"department": COOPERATING, "reason": "本期无配合事项"}]),
        },
        files={"file": ("验收.pdf", pdf_bytes("最终"), "application/pdf")},
        headers=lead,
    )
    assert final.status_code == 201, final.text
    accepted = client.post(submit, headers={**lead, "If-Match": "*"})
    assert accepted.status_code == 200 and accepted.json()["to_state"] == "submitted"
