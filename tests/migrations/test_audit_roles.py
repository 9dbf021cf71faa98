"""The audit log refuses UPDATE, DELETE and TRUNCATE; on PostgreSQL the application connects as a role that
owns nothing and may not change the audit tables or the schema (duban.migrations.roles)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session
from typer.testing import CliRunner

from duban.api.cli import app
from duban.core.config import get_settings
from duban.core.db import build_engine, dispose_engine
from duban.migrations import roles, triggers
from duban.tasks.enums import TaskState
from duban.tasks.models import Plan, Task, TaskEvent
from tests.conftest import APP_ROLE, database_url_for, owner_url_for

runner = CliRunner()
INSUFFICIENT_PRIVILEGE = "42501"


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL database as the test suite's application role sees it."""
    yield from database_url_for("postgres", tmp_path)


@pytest.fixture
def owner_engine(app_url: str) -> Iterator[Engine]:
    engine = build_engine(owner_url_for(app_url))
    yield engine
    engine.dispose()


@pytest.fixture
def app_engine(app_url: str) -> Iterator[Engine]:
    engine = build_engine(app_url)
    yield engine
    engine.dispose()


def seed_plan_task_event(engine: Engine) -> dict[str, int]:
    """A plan, a task and one of its events, committed (as whoever `engine` connects as)."""
    with Session(engine) as session:
        plan_row = Plan(key=uuid.uuid4().hex, title="规划", content_hash="h")
        session.add(plan_row)
        session.flush()
        assert plan_row.id is not None
        task = Task(plan_id=plan_row.id, title="任务", state=TaskState.draft)
        session.add(task)
        session.flush()
        assert task.id is not None
        event = TaskEvent(task_id=task.id, kind="issue", from_state="draft", to_state="assigned")
        session.add(event)
        session.commit()
        assert event.id is not None
        return {"plan": plan_row.id, "task": task.id, "event": event.id}


def _refused(engine: Engine, statement: str, params: dict[str, object] | None = None) -> sa.exc.DBAPIError:
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as conn:
        conn.execute(sa.text(statement), params or {})
    return caught.value


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM task_event")).scalar_one())


# --- TRUNCATE refused on every audit table, even to the owner --------------------------------------------


@pytest.mark.postgres
def test_truncate_of_every_audit_table_is_refused_even_as_owner(owner_engine: Engine) -> None:
    seed_plan_task_event(owner_engine)
    with owner_engine.connect() as conn:
        audit = triggers.append_only_tables(conn)
    assert "task_event" in audit
    for table in audit:
        error = _refused(owner_engine, f'TRUNCATE "{table}"')
        assert "append-only" in str(error.orig), table
    # Nor through a table it references: TRUNCATE … CASCADE fires the audit table's trigger too.
    error = _refused(owner_engine, "TRUNCATE task CASCADE")
    assert "task_event is append-only" in str(error.orig)
    for statement in ("UPDATE task_event SET reason = 'x'", "DELETE FROM task_event"):
        assert "append-only" in str(_refused(owner_engine, statement).orig)
    assert _events(owner_engine) == 1


def test_sqlite_has_no_truncate_and_refuses_emptying_the_audit_log(tmp_path: Path) -> None:
    url = next(database_url_for("sqlite", tmp_path))
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            assert triggers.append_only_tables(conn) == ["task_event"]
        seed_plan_task_event(engine)
        # SQLite's TRUNCATE is DELETE without WHERE: the DELETE trigger refuses it.
        assert "append-only" in str(_refused(engine, "DELETE FROM task_event").orig)
        assert _events(engine) == 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_0009_adds_and_removes_the_truncate_triggers(app_url: str, owner_engine: Engine) -> None:
    from duban import migrations

    def guarded() -> set[str]:
        with owner_engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT tgname FROM pg_trigger WHERE tgname LIKE '%\\_no\\_truncate'")
            )
            return {str(name) for name in rows.scalars()}

    owner_url = owner_url_for(app_url)
    assert guarded() == {"task_event_no_truncate"}
    migrations.downgrade(owner_url, "0008")
    assert guarded() == set()
    migrations.upgrade(owner_url, "0009")
    assert guarded() == {"task_event_no_truncate"}
    migrations.upgrade(owner_url)


# --- the application role -------------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_application_role_cannot_change_audit_tables_or_any_table(
    app_engine: Engine, owner_engine: Engine
) -> None:
    ids = seed_plan_task_event(app_engine)
    with app_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar_one() == APP_ROLE
        audit = triggers.append_only_tables(conn)
        tables = list(sa.inspect(conn).get_table_names())
    assert "task_event" in audit and "task" in tables
    for table in audit:
        for statement in (
            f'UPDATE "{table}" SET id = id',
            f'DELETE FROM "{table}"',
            f'TRUNCATE "{table}"',
            f'ALTER TABLE "{table}" DISABLE TRIGGER ALL',
        ):
            error = _refused(app_engine, statement)
            assert getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE, statement
    for table in tables:
        for statement in (
            f'TRUNCATE "{table}"',
            f'DROP TABLE "{table}" CASCADE',
            f'ALTER TABLE "{table}" ADD COLUMN intruder integer',
            f'ALTER TABLE "{table}" OWNER TO "{APP_ROLE}"',
            f'CREATE INDEX intruder ON "{table}" (id)',
        ):
            error = _refused(app_engine, statement)
            assert getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE, statement
    for statement in (
        "CREATE TABLE intruder (id integer)",
        "SET session_replication_role = replica",  # would silence the triggers
        "DROP TRIGGER task_event_no_truncate ON task_event",
        "UPDATE alembic_version SET version_num = '0001'",
    ):
        error = _refused(app_engine, statement)
        assert getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE, statement
    assert _events(owner_engine) == 1
    # The normal work: append events, change tasks and ordinary rows, draw from sequences.
    with Session(app_engine) as session:
        session.add(TaskEvent(task_id=ids["task"], kind="accept", from_state="assigned", to_state="accepted"))
        session.commit()
    with app_engine.begin() as conn:
        conn.execute(sa.text("UPDATE task SET state = 'accepted' WHERE id = :id"), {"id": ids["task"]})
        conn.execute(sa.text("UPDATE plan SET title = '新规划' WHERE id = :id"), {"id": ids["plan"]})
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    assert _events(app_engine) == 2


@pytest.mark.postgres
def test_grants_cover_tables_made_later_and_narrow_new_audit_tables(app_url: str, app_engine: Engine) -> None:
    owner_url = owner_url_for(app_url)
    owner = build_engine(owner_url)
    try:
        with owner.begin() as conn:
            conn.execute(sa.text("CREATE TABLE later_ordinary (id serial PRIMARY KEY, note text)"))
            conn.execute(sa.text("CREATE TABLE later_audit (id serial PRIMARY KEY, note text)"))
            with Operations.context(MigrationContext.configure(conn)):
                triggers.create_append_only("later_audit")
        # Before any re-grant, the owner's default privileges already let the application work on both.
        with app_engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO later_ordinary (note) VALUES ('a')"))
            conn.execute(sa.text("UPDATE later_ordinary SET note = 'b'"))
            conn.execute(sa.text("INSERT INTO later_audit (note) VALUES ('a')"))
        # The step `duban db upgrade` runs after every upgrade narrows the new audit table.
        done = roles.setup_app_role(owner_url, APP_ROLE)
        assert not done.created and "later_audit" in done.append_only
        with app_engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO later_audit (note) VALUES ('c')"))
            conn.execute(sa.text("DELETE FROM later_ordinary"))
        for statement in (
            "UPDATE later_audit SET note = 'x'",
            "DELETE FROM later_audit",
            "TRUNCATE later_audit",
        ):
            error = _refused(app_engine, statement)
            assert getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE, statement
        assert "append-only" in str(_refused(owner, "TRUNCATE later_audit").orig)
        # Idempotent: again, the same result.
        assert roles.setup_app_role(owner_url, APP_ROLE).append_only == done.append_only
    finally:
        owner.dispose()


@pytest.mark.postgres
def test_setup_refuses_an_application_role_that_owns_something_or_is_the_owner(app_url: str) -> None:
    owner_url = owner_url_for(app_url)
    owner = make_url(owner_url).username
    assert owner is not None
    with pytest.raises(roles.RoleSetupError, match="is the owner"):
        roles.setup_app_role(owner_url, owner)
    engine = build_engine(owner_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE owned_by_app (id integer)"))
            conn.execute(sa.text(f'ALTER TABLE owned_by_app OWNER TO "{APP_ROLE}"'))
        with pytest.raises(roles.RoleSetupError, match="REASSIGN OWNED"):
            roles.setup_app_role(owner_url, APP_ROLE)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE owned_by_app"))
    finally:
        engine.dispose()


# --- creating a role: in parallel, and from the command line ----------------------------------------------


@pytest.fixture
def new_role(app_url: str) -> Iterator[str]:
    """A role name nobody has yet; the role is dropped afterwards."""
    name = f"duban_test_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(roles.libpq_dsn(owner_url_for(app_url)), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
            conn.execute(f'DROP OWNED BY "{name}"')  # its grants in this database: then it can go
            conn.execute(f'DROP ROLE "{name}"')


@pytest.mark.postgres
def test_two_processes_setting_up_one_new_role_at_once_both_succeed(app_url: str, new_role: str) -> None:
    owner_url = owner_url_for(app_url)
    results: list[roles.RoleSetup | BaseException] = []
    barrier = threading.Barrier(4)

    def one() -> None:
        barrier.wait()
        try:
            results.append(roles.setup_app_role(owner_url, new_role, "pw-1"))
        except BaseException as error:  # reported by the assertion below
            results.append(error)

    workers = [threading.Thread(target=one) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert all(isinstance(result, roles.RoleSetup) for result in results), results
    assert sum(1 for result in results if isinstance(result, roles.RoleSetup) and result.created) == 1


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    get_settings.cache_clear()
    dispose_engine()
    yield
    get_settings.cache_clear()
    dispose_engine()


def _sign_in(url: str) -> str:
    with psycopg.connect(roles.libpq_dsn(url)) as conn:
        return str(conn.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]


@pytest.mark.postgres
def test_db_upgrade_as_the_owner_sets_up_the_application_role(
    app_url: str, new_role: str, cli_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner_url = owner_url_for(app_url)
    role_url = make_url(owner_url).set(username=new_role, password="first-pw")
    monkeypatch.setenv("DUBAN_MIGRATION_DATABASE_URL", owner_url)
    monkeypatch.setenv("DUBAN_DATABASE_URL", role_url.render_as_string(hide_password=False))
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert f"应用角色 {new_role}（已创建）" in first.output and "task_event" in first.output
    assert _sign_in(role_url.render_as_string(hide_password=False)) == new_role
    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0, again.output
    assert f"应用角色 {new_role}（已存在）" in again.output
    # A new password in the settings reaches the server on the next upgrade (on trust clusters the old
    # one still signs in, so nothing changes there).
    changed = role_url.set(password="second-pw").render_as_string(hide_password=False)
    monkeypatch.setenv("DUBAN_DATABASE_URL", changed)
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert _sign_in(changed) == new_role
    # The stand-alone command: another password on standard input.
    third = role_url.set(password="third-pw").render_as_string(hide_password=False)
    roles_run = runner.invoke(
        app, ["db", "roles", "--app-role", new_role, "--password-stdin"], input="third-pw\n"
    )
    assert roles_run.exit_code == 0, roles_run.output
    assert _sign_in(third) == new_role


@pytest.mark.postgres
def test_db_upgrade_warns_when_the_application_is_the_owner(
    app_url: str, cli_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBAN_DATABASE_URL", owner_url_for(app_url))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "the application connects as the tables' owner" in result.output
    refused = runner.invoke(app, ["db", "roles"])
    assert refused.exit_code == 2
    assert "is the owner" in refused.output


def test_on_sqlite_there_are_no_roles(tmp_path: Path, cli_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"sqlite:///{tmp_path / 'roles.sqlite3'}")
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "应用角色" not in upgraded.output and "note" not in upgraded.output
    result = runner.invoke(app, ["db", "roles"])
    assert result.exit_code == 0
    assert "SQLite has no roles" in result.output


def test_app_role_in_reads_the_role_from_the_application_url() -> None:
    owner = "postgresql+psycopg://duban:o@postgres:5432/duban"
    assert roles.app_role_in("postgresql+psycopg://duban_app:a@postgres:5432/duban", owner) == (
        "duban_app",
        "a",
    )
    assert roles.app_role_in("postgresql://duban_app@postgres:5432/duban", owner) == ("duban_app", None)
    assert roles.app_role_in(owner, owner) is None
    assert roles.app_role_in("postgresql://duban_app:a@elsewhere:5432/duban", owner) is None
    assert roles.app_role_in("sqlite:///x.sqlite3", "sqlite:///x.sqlite3") is None
