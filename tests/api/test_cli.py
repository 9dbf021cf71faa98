"""The `duban` command line on a real database file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from duban.api.cli import app
from duban.core.config import get_settings
from duban.core.db import dispose_engine, get_engine
from duban.tasks.models import ApiToken, Department, User

runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DUBAN_DATABASE_URL", url)
    get_settings.cache_clear()
    dispose_engine()
    yield url
    dispose_engine()


def _count(model: type[Department] | type[User] | type[ApiToken]) -> int:
    with Session(get_engine()) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_upgrade_load_twice_users_and_tokens(cli_db: str) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(app, ["departments", "load"])
    assert first.exit_code == 0, first.output
    loaded = _count(Department)
    assert loaded >= 47
    second = runner.invoke(app, ["departments", "load"])
    assert second.exit_code == 0
    assert f"未变 {loaded}" in second.output
    assert _count(Department) == loaded

    made = runner.invoke(
        app, ["users", "create", "office1", "--role", "office", "--password-stdin"], input="s3cret-pass\n"
    )
    assert made.exit_code == 0, made.output
    dept = runner.invoke(
        app,
        ["users", "create", "lcj", "--role", "department", "--department", "lcj", "--password-stdin"],
        input="oa-system-pass\n",
    )
    assert dept.exit_code == 0, dept.output
    again = runner.invoke(app, ["users", "create", "office1", "--role", "office"])
    assert again.exit_code == 2
    assert "已存在" in again.output
    assert _count(User) == 2

    token = runner.invoke(app, ["tokens", "create", "lcj"])
    assert token.exit_code == 0
    secret = token.stdout.strip().splitlines()[-1]
    assert secret.startswith("dbn_")
    assert _count(ApiToken) == 1
    with Session(get_engine()) as session:
        record = session.exec(select(ApiToken)).one()
    assert runner.invoke(app, ["tokens", "revoke", str(record.id)]).exit_code == 0
    assert runner.invoke(app, ["tokens", "revoke", str(record.id)]).exit_code == 0
    with Session(get_engine()) as session:
        from duban.api.users import user_for_api_token

        assert user_for_api_token(session, secret) is None


def test_department_user_needs_a_known_department(cli_db: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    runner.invoke(app, ["departments", "load"])
    result = runner.invoke(app, ["users", "create", "x", "--role", "department", "--department", "nope"])
    assert result.exit_code == 2
    assert "nope" in result.output
