"""A database that is away answers 503 with Retry-After; a refused value 422; a failing statement is a bug."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc
from sqlmodel import Session

from duban.api.app import create_app
from duban.api.database_errors import is_unavailable
from duban.core import db
from duban.core.db import build_engine
from tests.conftest import POSTGRES_URL
from tests.fixtures.services import free_port


def _error_of(engine: sa.Engine, statement: sa.Executable) -> BaseException:
    try:
        with engine.connect() as conn:
            conn.execute(statement)
    except Exception as error:
        return error
    raise AssertionError("the statement did not fail")


@pytest.fixture
def dead_engine() -> Iterator[sa.Engine]:
    """An engine on a PostgreSQL port nobody listens on."""
    engine = build_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/duban", pool_size=1)
    yield engine
    engine.dispose()


@pytest.fixture
def app_on_dead_database(dead_engine: sa.Engine) -> Iterator[TestClient]:
    """The app with every request's session on the dead engine."""
    previous = db._session_factory
    db.set_session_factory(lambda: Session(dead_engine))
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            yield client
    finally:
        db.set_session_factory(previous)


def test_requests_answer_503_with_retry_after_while_the_database_is_away(
    app_on_dead_database: TestClient,
) -> None:
    response = app_on_dead_database.get("/api/v1/departments")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "2"
    body = response.json()
    assert body["code"] == "database_unavailable"
    assert " / " in body["detail"]


def test_healthz_answers_503_not_500_when_the_database_is_away(app_on_dead_database: TestClient) -> None:
    response = app_on_dead_database.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: OperationalError"


def test_refused_connection_and_exhausted_pool_count_as_unavailable(
    dead_engine: sa.Engine, tmp_path: Path
) -> None:
    assert is_unavailable(_error_of(dead_engine, sa.select(sa.literal(1))))
    pool = build_engine(
        f"sqlite:///{tmp_path / 'pool.sqlite3'}", pool_size=1, max_overflow=0, pool_timeout=0.1
    )
    with pool.connect():
        assert is_unavailable(_error_of(pool, sa.select(sa.literal(1))))
    pool.dispose()


def test_a_failing_statement_is_not_an_outage(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    missing = _error_of(engine, sa.text("SELECT * FROM no_such_table"))
    assert isinstance(missing, sa_exc.OperationalError)  # SQLite calls it operational; it is a bug
    assert not is_unavailable(missing)
    assert not is_unavailable(ValueError("not a database error"))
    engine.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="DUBAN_TEST_POSTGRES 未设置 / needs PostgreSQL")
def test_too_many_parameters_is_a_bug_not_an_outage() -> None:
    assert POSTGRES_URL is not None
    engine = build_engine(POSTGRES_URL)
    error = _error_of(engine, sa.select(sa.literal(1)).where(sa.literal(1).in_(list(range(70_000)))))
    assert isinstance(error, sa_exc.OperationalError)  # psycopg raises it client-side, no SQLSTATE
    assert not is_unavailable(error)
    syntax = _error_of(engine, sa.text("SELEC 1"))
    assert not is_unavailable(syntax)
    engine.dispose()


def test_a_nul_byte_is_a_422_problem_not_a_500(client: TestClient, session: Session) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "a\x00b", "password": "x\x00y"})
    if session.connection().dialect.name != "postgresql":
        assert response.status_code == 401  # SQLite stores NUL bytes: just an unknown user
        return
    assert response.status_code == 422  # PostgreSQL text refuses them
    body = response.json()
    assert body["code"] == "invalid_value"
    assert "NUL" in body["detail"]
