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


def _initial_accounts(output: str) -> dict[str, str]:
    """username → initial password, read from the table `duban users bootstrap` prints."""
    rows = [line.split("│") for line in output.splitlines() if line.startswith("│")]
    return {cells[1].strip(): cells[3].strip() for cells in rows if len(cells) == 5}


def test_bootstrap_makes_initial_accounts_once(cli_db: str) -> None:
    from duban.api.security import verify_password

    runner.invoke(app, ["db", "upgrade"])
    runner.invoke(app, ["departments", "load"])
    first = runner.invoke(app, ["users", "bootstrap"], env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    accounts = _initial_accounts(first.output)
    assert len(accounts) == _count(Department) + 1 == _count(User)
    assert {"office", "sthjt", "fgw"} <= set(accounts)
    assert len(set(accounts.values())) == len(accounts) and all(len(p) >= 12 for p in accounts.values())
    with Session(get_engine()) as session:
        users = {user.username: user for user in session.exec(select(User)).all()}
    assert all(user.must_change_password for user in users.values())
    assert verify_password(users["sthjt"].password_hash, accounts["sthjt"])
    assert users["office"].role.value == "office" and users["sthjt"].department_id is not None
    # the passwords are printed, never stored: only their hashes are in the database
    assert not any(accounts[name] in (user.password_hash or "") for name, user in users.items())

    second = runner.invoke(app, ["users", "bootstrap"], env={"COLUMNS": "200"})
    assert second.exit_code == 0
    assert "未新建" in second.output and not _initial_accounts(second.output)
    assert _count(User) == len(accounts)


def test_bootstrap_refuses_in_production(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runner.invoke(app, ["db", "upgrade"])
    monkeypatch.setenv("DUBAN_ENV", "production")
    monkeypatch.setenv("DUBAN_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("DUBAN_SECRET_KEY", "a-production-secret-of-more-than-32-characters")
    get_settings.cache_clear()
    dispose_engine()
    result = runner.invoke(app, ["users", "bootstrap"])
    assert result.exit_code == 2
    assert "not_in_development" in result.output


def test_demo_issues_one_plan_on_the_chosen_day(cli_db: str) -> None:
    from duban.core.config import PROJECT_ROOT
    from duban.tasks.enums import TaskState
    from duban.tasks.models import Plan, Task, TaskEvent

    runner.invoke(app, ["db", "upgrade"])
    runner.invoke(app, ["departments", "load"])
    file = next((PROJECT_ROOT / "examples" / "plans").glob("*构建现代环境治理体系*.txt"))
    result = runner.invoke(app, ["demo", "--plan", str(file), "--on", "2026-03-01"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "已于 2026-03-01 交办" in result.output
    with Session(get_engine()) as session:
        plan = session.exec(select(Plan)).one()
        states = set(session.exec(select(Task.state).where(Task.plan_id == plan.id)).all())
        issued_on = {e.created_at.date().isoformat() for e in session.exec(select(TaskEvent)).all()
                     if e.kind == "issue"}  # fmt: skip
    assert states == {TaskState.assigned} and issued_on == {"2026-03-01"}
    again = runner.invoke(app, ["demo", "--plan", str(plan.id), "--on", "2026-03-01"], env={"COLUMNS": "200"})
    assert again.exit_code == 0 and "没有待交办的任务" in again.output
    missing = runner.invoke(app, ["demo", "--plan", "没有这个规划", "--on", "2026-03-01"])
    assert missing.exit_code == 2 and "plan_not_found" in missing.output
    assert runner.invoke(app, ["demo", "--plan", "1", "--on", "三月一日"]).exit_code == 2
