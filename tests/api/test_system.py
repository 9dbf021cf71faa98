"""The API skeleton: health, docs, problem+json for every error class, size limit, sign-in."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlmodel import Session

from duban.api.problems import install_problem_handlers
from duban.api.users import create_api_token, create_user
from duban.tasks.enums import Role

PROBLEM = "application/problem+json"


def _assert_problem(response_json: dict[str, object], status: int, code: str) -> None:
    assert response_json["status"] == status
    assert response_json["code"] == code
    detail = str(response_json["detail"])
    assert " / " in detail  # Chinese first, then English
    assert str(response_json["type"]).endswith(code)


def test_healthz_checks_database_and_broker(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("status", "database", "broker")} == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
    }
    # No worker runs in the test suite (DUBAN_ENV=test): reported, not required; tests/api/test_healthz.py
    # covers a host that expects one.
    assert body["expect_worker"] is False and body["worker"]["status"] == "missing"
    assert response.headers["x-request-id"]


def test_docs_and_openapi_document_problems(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "Problem" in spec["components"]["schemas"]
    responses = spec["paths"]["/api/v1/departments"]["get"]["responses"]
    assert "application/problem+json" in responses["422"]["content"]


def test_unknown_path_is_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    _assert_problem(response.json(), 404, "not_found")


def test_wrong_method_is_a_problem(client: TestClient) -> None:
    response = client.delete("/api/v1/departments")
    assert response.status_code == 405
    _assert_problem(response.json(), 405, "method_not_allowed")


def test_validation_error_is_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/departments", params={"kind": "not-a-kind"})
    assert response.status_code == 422
    body = response.json()
    _assert_problem(body, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["query", "kind"]


class Body(BaseModel):
    name: str


def test_malformed_json_and_crashes_are_problems() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/echo")
    def echo(body: Body) -> Body:
        return body

    @app.get("/crash")
    def crash() -> None:
        raise ZeroDivisionError

    test_client = TestClient(app, raise_server_exceptions=False)
    response = test_client.post("/echo", content=b'{"name": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    _assert_problem(response.json(), 400, "malformed_json")
    crashed = test_client.get("/crash")
    assert crashed.status_code == 500
    _assert_problem(crashed.json(), 500, "internal_error")


def test_request_size_limit(client: TestClient) -> None:
    big = b"x" * (5 * 1024 * 1024 + 1)
    response = client.post(
        "/api/v1/auth/token", content=big, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    _assert_problem(response.json(), 413, "request_too_large")


def test_departments_list_the_registry(client: TestClient, departments: Session) -> None:
    response = client.get("/api/v1/departments")
    assert response.status_code == 200
    bodies = response.json()
    assert len(bodies) >= 35 + 12
    leagues = [b for b in bodies if b["kind"] == "盟市"]
    assert len(leagues) == 12
    names = {b["name"] for b in bodies}
    assert "自治区生态环境厅" in names
    only = client.get("/api/v1/departments", params={"kind": "盟市"}).json()
    assert {b["code"] for b in only} == {b["code"] for b in leagues}


def test_password_flow_and_api_tokens(client: TestClient, departments: Session) -> None:
    create_user(departments, "sthjt", Role.department, "correct horse", "sthjt")
    issued = create_api_token(departments, "sthjt", "OA")
    departments.flush()
    assert client.get("/api/v1/me").status_code == 401
    wrong = client.post("/api/v1/auth/token", data={"username": "sthjt", "password": "nope-nope"})
    assert wrong.status_code == 401
    _assert_problem(wrong.json(), 401, "invalid_credentials")
    token = client.post("/api/v1/auth/token", data={"username": "sthjt", "password": "correct horse"}).json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    assert me.json()["department_code"] == "sthjt"
    via_token = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.token}"})
    assert via_token.json()["username"] == "sthjt"
    forged = client.get("/api/v1/me", headers={"Authorization": "Bearer dbn_not-a-real-token"})
    assert forged.status_code == 401


def test_metrics_count_requests(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'duban_http_requests_total{method="GET",route="/healthz",status="200"}' in text
