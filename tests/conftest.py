"""Test set-up: an isolated var/ folder, Alembic once per backend, a rolled-back transaction per test."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

_VAR = Path(tempfile.mkdtemp(prefix="duban-test-"))
os.environ["DUBAN_VAR_DIR"] = str(_VAR)
os.environ["DUBAN_ENV"] = "test"
os.environ.pop("DUBAN_DATABASE_URL", None)
os.environ.pop("DUBAN_MIGRATION_DATABASE_URL", None)
os.environ.pop("DUBAN_BROKER_URL", None)
os.environ.pop("DUBAN_NOW", None)
# Each commit's jobs go out as it commits, so a test can assert on them; tests/core/test_jobs.py batches.
os.environ["DUBAN_JOB_BATCH_SECONDS"] = "0"

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from duban import migrations  # noqa: E402
from duban.core import clock  # noqa: E402
from duban.core.config import get_settings  # noqa: E402
from duban.core.db import build_engine, set_session_factory  # noqa: E402
from duban.migrations.roles import setup_app_role  # noqa: E402

pytest_plugins = ["tests.fixtures.services", "tests.fixtures.tasks"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("DUBAN_TEST_POSTGRES")
REDIS_URL = os.environ.get("DUBAN_TEST_REDIS")

BACKENDS = ["sqlite", "postgres"]

# On PostgreSQL every test database is migrated by the owner (DUBAN_TEST_POSTGRES's user) and used by the
# suite as this role, granted by duban.migrations.roles like the application in production: the whole
# PostgreSQL suite shows the application needs no more. A role belongs to the whole cluster; this one is
# shared by every test database and created once (by whichever run comes first).
APP_ROLE = "duban_test_app"
APP_PASSWORD = "duban-test-app"  # a role of the test cluster only
_OWNER_URLS: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Refuse a CI run that is missing a service instead of skipping its tests."""
    if IN_CI and not (POSTGRES_URL and REDIS_URL):
        raise pytest.UsageError(
            "CI 必须设置 DUBAN_TEST_POSTGRES 与 DUBAN_TEST_REDIS / CI needs both services"
        )


@pytest.fixture(scope="session")
def var_dir() -> Path:
    """The test session's var/ folder."""
    return _VAR


def _create_postgres_database(admin_url: str) -> str:
    import psycopg

    name = f"duban_test_{uuid.uuid4().hex[:10]}"
    parsed = make_url(admin_url)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(admin_url: str, url: str) -> None:
    import psycopg

    name = make_url(url).database
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url_for(backend: str, tmp: Path, *, as_owner: bool = False) -> Iterator[str]:
    """A fresh, migrated database of the given backend (a generator: cleanup after). On PostgreSQL its URL
    connects as the application role (APP_ROLE), or as the owner with `as_owner` (for migrations)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / f'test-{uuid.uuid4().hex[:8]}.sqlite3'}"
        migrations.upgrade(url)
        yield url
        return
    if not POSTGRES_URL:
        pytest.skip("DUBAN_TEST_POSTGRES 未设置 / PostgreSQL tests need DUBAN_TEST_POSTGRES")
    url = _create_postgres_database(POSTGRES_URL)
    app_url = (
        make_url(url).set(username=APP_ROLE, password=APP_PASSWORD).render_as_string(hide_password=False)
    )
    try:
        migrations.upgrade(url)
        setup_app_role(url, APP_ROLE, APP_PASSWORD)
        _OWNER_URLS[app_url] = url
        yield url if as_owner else app_url
    finally:
        _OWNER_URLS.pop(app_url, None)
        _drop_postgres_database(POSTGRES_URL, url)


def owner_url_for(url: str) -> str:
    """The owner's URL of a database from `database_url_for` (SQLite has one: the same URL)."""
    return _OWNER_URLS.get(url, url)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database per backend, once per test session."""
    yield from database_url_for(request.param, tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine of the session's database."""
    engine = build_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction rolled back after the test; every boundary shares it."""
    connection = engine.connect()
    transaction = connection.begin()

    def factory() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    set_session_factory(factory)
    db = factory()
    try:
        yield db
    finally:
        set_session_factory(None)
        db.close()
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@pytest.fixture
def client(session: Session) -> Iterator[TestClient]:
    """The app over the test transaction."""
    from duban.api.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def departments(session: Session) -> Session:
    """The bundled department registry loaded into the test transaction."""
    from duban.tasks.departments import load_departments

    load_departments(session)
    session.flush()
    return session


@pytest.fixture
def clock_at() -> Iterator[Callable[[datetime | str | None], None]]:
    """Stand the system on a moment: `clock_at("2025-10-09T09:00")` (Asia/Shanghai)."""
    yield clock.set_now
    clock.set_now(None)


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    clock.set_now(None)


@pytest.fixture
def auth_headers(departments: Session) -> Callable[..., dict[str, str]]:
    """Bearer headers for a new user of a role (and department code): `auth_headers("office")`."""
    from duban.api.security import create_access_token
    from duban.api.users import create_user
    from duban.tasks.enums import Role

    users: dict[tuple[str, str | None], int] = {}

    def headers(role: str, department: str | None = None) -> dict[str, str]:
        key = (role, department)
        if key not in users:
            name = f"{role}-{department or 'x'}-{len(users)}"
            user = create_user(departments, name, Role(role), None, department)
            departments.flush()
            assert user.id is not None
            users[key] = user.id
        # A fresh token each call: tests that move the clock must not carry an expired one.
        return {"Authorization": f"Bearer {create_access_token(users[key])}"}

    return headers
