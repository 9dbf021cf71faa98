"""`duban db …`: migrate as the owner, then set up the application role (PostgreSQL).

`duban db upgrade` migrates with DUBAN_MIGRATION_DATABASE_URL (the owner; defaults to DUBAN_DATABASE_URL).
When DUBAN_DATABASE_URL names another role on the same PostgreSQL database, that role is the application's:
it is created if missing (with the URL's password) and granted what the application needs after every
upgrade, so new tables are covered. `duban db roles` does the same step alone, for a role of another name or
a password given on standard input.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from duban.core.config import get_settings
from duban.core.errors import DubanError

db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _fail(error: DubanError) -> None:
    err_console.print(
        f"[red]错误 / error[/red] ({error.code}): {error.message_zh} / {error.message_en}", soft_wrap=True
    )
    raise typer.Exit(code=2)


def _set_up(owner_url: str, role: str, password: str | None) -> None:
    from duban.migrations.roles import RoleSetupError, setup_app_role

    try:
        done = setup_app_role(owner_url, role, password)
    except RoleSetupError as error:
        _fail(error)
        return
    what = "已创建" if done.created else ("已更新密码" if done.password_changed else "已存在")
    console.print(
        f"应用角色 {done.role}（{what}）：{done.tables} 张表、{done.sequences} 个序列已授权，"
        f"审计表 {', '.join(done.append_only) or '—'} 只可读取和追加 / application role {done.role} "
        f"({'created' if done.created else 'password changed' if done.password_changed else 'exists'}): "
        f"{done.tables} tables and {done.sequences} sequences granted; audit tables "
        f"{', '.join(done.append_only) or '—'} select and insert only; owner {done.owner}",
        markup=False,
        soft_wrap=True,
    )
    for warning in done.warnings:
        err_console.print(f"[yellow]注意 / note[/yellow]: {warning}", soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations up to REVISION (default head) as the owner (DUBAN_MIGRATION_DATABASE_URL), then on
    PostgreSQL grant the application role (the user of DUBAN_DATABASE_URL) what it needs, creating it if
    missing."""
    from duban import migrations
    from duban.migrations.roles import app_role_in

    settings = get_settings()
    owner_url = settings.migration_database_url
    migrations.upgrade(owner_url, revision)
    console.print(f"数据库已升级到 {revision} / database upgraded to {revision}")
    if make_url(owner_url).get_backend_name() != "postgresql":
        return
    app_role = app_role_in(settings.database_url, owner_url)
    if app_role is not None:
        _set_up(owner_url, *app_role)
        return
    app_user = make_url(settings.database_url).username
    if not app_user or app_user == make_url(owner_url).username:
        err_console.print(
            "[yellow]注意 / note[/yellow]: 应用以表的所有者身份连接数据库：请为应用另设角色（设置 "
            "DUBAN_MIGRATION_DATABASE_URL，见 docs/operations.md） / the application connects as the tables' "
            "owner: give it a role of its own (set DUBAN_MIGRATION_DATABASE_URL, see docs/operations.md)",
            soft_wrap=True,
        )
        return
    err_console.print(
        "[yellow]注意 / note[/yellow]: DUBAN_DATABASE_URL 与 DUBAN_MIGRATION_DATABASE_URL "
        "的主机、端口或数据库不同，应用角色未设置：请用 duban db roles --app-role 角色名 / "
        "DUBAN_DATABASE_URL names another host, port or database than DUBAN_MIGRATION_DATABASE_URL: "
        "the application role was not set up; use duban db roles --app-role NAME",
        soft_wrap=True,
    )


@db_app.command("roles")
def db_roles(
    app_role: Annotated[
        str | None,
        typer.Option(
            "--app-role", help="应用角色（默认：DUBAN_DATABASE_URL 的用户）/ the application's role"
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="从标准输入读取该角色的密码（一行）/ its password on stdin"),
    ] = False,
) -> None:
    """Create the application role if missing and grant it what the application needs and nothing more
    (PostgreSQL; connects as DUBAN_MIGRATION_DATABASE_URL). `duban db upgrade` does this by itself when
    DUBAN_DATABASE_URL names another role than the owner."""
    settings = get_settings()
    owner_url = settings.migration_database_url
    if make_url(owner_url).get_backend_name() != "postgresql":
        console.print("SQLite 没有角色，无需设置 / SQLite has no roles: nothing to set up")
        return
    app_url = make_url(settings.database_url)
    role = app_role or app_url.username
    if not role:
        _fail(
            DubanError(
                "请用 --app-role 指定应用角色",
                "name the application role with --app-role",
                code="app_role_required",
            )
        )
        return
    if password_stdin:
        password: str | None = sys.stdin.readline().rstrip("\r\n") or None
    elif role == app_url.username and isinstance(app_url.password, str):
        password = app_url.password
    else:
        password = None
    _set_up(owner_url, role, password)
