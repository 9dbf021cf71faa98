"""HTTP edges (issue 14 item 8): 428 without If-Match, 413 for a chunked body over the limit, Chinese for
the framework's own 400s, `X-Filename` decoded, bad JSON a 400 `malformed_json`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from duban.api.uploads import filename_header, json_body
from duban.core.config import get_settings
from duban.tasks.enums import TaskState
from duban.tasks.models import TaskEvent
from duban.tasks.plan_views import PlanSummary
from tests.fixtures.tasks import LEAD, OTHER, TaskWorld

Headers = Callable[..., dict[str, str]]

DOC = "关于测试的方案\n\n一、重点任务\n（一）加强水土保持。2026年年底前完成。（自治区水利厅牵头）\n"


def _events(world: TaskWorld, task_id: int) -> int:
    return int(
        world.session.exec(
            select(func.count()).select_from(TaskEvent).where(TaskEvent.task_id == task_id)
        ).one()
    )


def test_an_action_without_if_match_is_428_with_the_current_etag(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    task_id = world.task_in(TaskState.assigned)
    lead = auth_headers("department", LEAD)
    before = _events(world, task_id)
    refused = client.post(f"/api/v1/tasks/{task_id}/actions/accept", headers=lead)
    assert refused.status_code == 428, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "precondition_required"
    assert problem["etag"] == '"v2"' and problem["version"] == 2
    assert refused.headers["etag"] == '"v2"'
    assert problem["detail"].startswith("缺少 If-Match") and " / If-Match is required" in problem["detail"]
    assert _events(world, task_id) == before  # nothing was done
    accepted = client.post(
        f"/api/v1/tasks/{task_id}/actions/accept", headers={**lead, "If-Match": problem["etag"]}
    )
    assert accepted.status_code == 200, accepted.text


def test_428_only_for_a_caller_who_may_see_the_task(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    task_id = world.task_in(TaskState.assigned)
    url = f"/api/v1/tasks/{task_id}/actions/accept"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=auth_headers("department", OTHER)).status_code == 403
    assert (
        client.post("/api/v1/tasks/999999/actions/accept", headers=auth_headers("office")).status_code == 404
    )
    office = client.post(
        f"/api/v1/tasks/{task_id}/actions/cancel", json={"reason": "x"}, headers=auth_headers("office")
    )
    assert office.status_code == 428 and office.json()["etag"] == '"v2"'
    # `If-Match: *` names no version on purpose: the action runs on whatever the task is now.
    star = client.post(url, headers={**auth_headers("department", LEAD), "If-Match": "*"})
    assert star.status_code == 200


def test_the_action_documents_if_match_as_required_and_428(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/tasks/{task_id}/actions/{action}"][
        "post"
    ]
    if_match = next(p for p in operation["parameters"] if p["name"] == "If-Match")
    assert if_match["required"] is True
    assert "428" in operation["responses"]


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A 64 KB request limit, so an oversize body is quick to send."""
    monkeypatch.setenv("DUBAN_MAX_REQUEST_BYTES", str(64 * 1024))
    get_settings.cache_clear()
    yield 64 * 1024
    get_settings.cache_clear()


def _chunks(total: int) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked), `total` bytes of a JSON string."""
    yield b'{"reason": "'
    for _ in range(total // 4096):
        yield b"x" * 4096
    yield b'"}'


@pytest.mark.parametrize(
    "path,content_type",
    [
        ("/api/v1/tasks/{task}/actions/accept", "application/json"),  # a FastAPI-parsed body
        ("/api/v1/tasks/{task}/progress", "application/json"),
        ("/api/v1/auth/token", "application/x-www-form-urlencoded"),
        ("/api/v1/plans", "application/json"),  # a body the route reads itself
        ("/login", "application/x-www-form-urlencoded"),  # a page's form
    ],
)
def test_a_chunked_body_over_the_limit_is_413_like_a_declared_one(
    world: TaskWorld, auth_headers: Headers, small_limit: int, path: str, content_type: str
) -> None:
    from duban.api.app import create_app

    task_id = world.task_in(TaskState.assigned)
    headers = {**auth_headers("office"), "content-type": content_type, "If-Match": '"v2"'}
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        url = path.format(task=task_id)
        chunked = client.post(url, content=_chunks(2 * small_limit), headers=headers)
        declared = client.post(url, content=b"x" * (2 * small_limit), headers=headers)
    for response in (chunked, declared):
        assert response.status_code == 413, (path, response.text[:300])
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "request_too_large"
        assert response.json()["detail"].startswith("请求体超过")
        assert response.headers["x-request-id"]


def test_two_files_in_one_form_get_a_chinese_message(client: TestClient, auth_headers: Headers) -> None:
    files = [("file", ("a.txt", DOC.encode(), "text/plain")), ("file", ("b.txt", DOC.encode(), "text/plain"))]
    response = client.post("/api/v1/plans", files=files, headers=auth_headers("office"))
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "too_many_files"
    assert problem["detail"] == "表单中的文件过多，一次最多 1 个 / Too many files in the form: at most 1"


def test_a_body_that_cannot_be_read_gets_a_chinese_message(client: TestClient, auth_headers: Headers) -> None:
    response = client.post(
        "/api/v1/plans",
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n",
        headers={**auth_headers("office"), "content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_multipart"
    assert response.json()["detail"].startswith("multipart 表单格式不正确 / ")


@pytest.mark.parametrize(
    "header,name",
    [
        (None, None),
        ("plan.txt", "plan.txt"),
        ("UTF-8''%E6%96%B9%E6%A1%88.txt", "方案.txt"),
        ("attachment; filename*=UTF-8''%E6%96%B9%E6%A1%88.txt", "方案.txt"),
        ("utf-8'zh'%E6%96%B9%E6%A1%88.txt", "方案.txt"),
        ("%E6%96%B9%E6%A1%88.txt", "方案.txt"),
        ("方案.txt".encode().decode("latin-1"), "方案.txt"),  # raw UTF-8 bytes, as the server reads them
        ('attachment; filename="plan (1).txt"', "plan (1).txt"),
        ("C:\\Users\\办公室\\方案.txt".encode().decode("latin-1"), "方案.txt"),
        ("../../etc/passwd", "passwd"),
        ("a\x00b\x1f.txt", "ab.txt"),
        ("%FF%FE.txt", "%FF%FE.txt"),  # not UTF-8: kept as sent
        ("x" * 600, "x" * 255),
        ("   ", None),
    ],
)
def test_filename_header_decodes_what_clients_send(header: str | None, name: str | None) -> None:
    assert filename_header(header) == name


def test_json_body_answers_like_fastapi() -> None:
    from fastapi.exceptions import RequestValidationError

    with pytest.raises(RequestValidationError) as bad_json:
        json_body(PlanSummary, b"{not json")
    assert [e["type"] for e in bad_json.value.errors()] == ["json_invalid"]
    with pytest.raises(RequestValidationError) as bad_field:
        json_body(PlanSummary, b'{"id": "x"}')
    assert ("body", "id") in [tuple(e["loc"]) for e in bad_field.value.errors()]
    assert all(e["input"] is None for e in bad_field.value.errors())


def test_bad_json_to_plans_is_400_malformed_json(client: TestClient, auth_headers: Headers) -> None:
    response = client.post(
        "/api/v1/plans",
        content=b"{not json",
        headers={**auth_headers("office"), "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] == "malformed_json"
    assert "pydantic" not in response.text
    assert problem["detail"] == "请求体不是合法的 JSON / The request body is not valid JSON"


def test_a_utf8_x_filename_is_stored_as_written(client: TestClient, auth_headers: Headers) -> None:
    base = [(k.encode(), v.encode()) for k, v in auth_headers("office").items()] + [
        (b"content-type", b"text/plain")
    ]
    # RFC 5987 as a careful client writes it, and raw UTF-8 bytes as many OA systems send them.
    for header in (b"UTF-8''%E6%96%B9%E6%A1%88.txt", "方案.txt".encode()):
        response = client.post(
            "/api/v1/plans", content=DOC.encode(), headers=[*base, (b"x-filename", header)]
        )
        assert response.status_code in (200, 201), response.text
        assert response.json()["plan"]["source_name"] == "方案.txt"
