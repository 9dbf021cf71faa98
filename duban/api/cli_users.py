"""`duban users …`: create, list, set a password, disable and enable (never a user without a password)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from duban.core.db import session_scope
from duban.core.errors import DubanError
from duban.tasks.enums import Role

users_app = typer.Typer(help="用户 / users", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="从标准输入读取密码（一行）/ read the password from standard input"
    ),
]


def _fail(error: DubanError) -> None:
    err_console.print(f"[red]错误 / error[/red] ({error.code}): {error.message_zh} / {error.message_en}")
    raise typer.Exit(code=2)


def interactive() -> bool:
    """Whether a person is at the terminal to type a password."""
    return sys.stdin.isatty()


def read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice at a terminal; without either, exit 2
    (a user without a password is never created)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not interactive():
        err_console.print(
            "[red]错误 / error[/red] (password_required): 需要密码：请用 --password-stdin 从标准输入"
            "提供，或在终端中运行并按提示输入 / A password is needed: pipe it with --password-stdin, or "
            "run this at a terminal and type it when asked"
        )
        raise typer.Exit(code=2)
    password: str = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("create")
def users_create(
    name: str,
    role: Annotated[Role, typer.Option(help="office | department | admin")],
    department: Annotated[str | None, typer.Option(help="单位代码 / department code")] = None,
    password_stdin: PasswordStdin = False,
    display_name: str = "",
) -> None:
    """Create a user with a password (from standard input with --password-stdin, else typed at a terminal)."""
    from duban.api.users import check_new_user, create_user

    try:
        with session_scope() as session:
            check_new_user(session, name, role, department)
    except DubanError as error:
        _fail(error)
    password = read_password(password_stdin)
    try:
        with session_scope() as session:
            user = create_user(session, name, role, password, department, display_name)
            console.print(f"已创建用户 {user.username}（{user.role.value}）/ user {user.username} created")
    except DubanError as error:
        _fail(error)


@users_app.command("set-password")
def users_set_password(name: str, password_stdin: PasswordStdin = False) -> None:
    """Give user NAME a new password (and lift the sign-in throttle on the account)."""
    from duban.api.throttle import forget_account
    from duban.api.users import set_password

    password = read_password(password_stdin)
    try:
        with session_scope() as session:
            set_password(session, name, password)
            forget_account(session, name)
    except DubanError as error:
        _fail(error)
        return
    console.print(f"用户 {name} 的密码已更新 / password of {name} set")


def _set_active(name: str, active: bool) -> None:
    from duban.api.throttle import forget_account
    from duban.api.users import set_active

    try:
        with session_scope() as session:
            set_active(session, name, active)
            if active:
                forget_account(session, name)
    except DubanError as error:
        _fail(error)
        return
    if active:
        console.print(f"用户 {name} 已启用 / user {name} enabled")
    else:
        console.print(
            f"用户 {name} 已停用，其会话与令牌即刻失效 / "
            f"user {name} disabled: its sessions and tokens stop now"
        )


@users_app.command("disable")
def users_disable(name: str) -> None:
    """Disable user NAME: its sessions, bearer tokens and API tokens stop working with the next request."""
    _set_active(name, False)


@users_app.command("enable")
def users_enable(name: str) -> None:
    """Enable user NAME again (its API tokens that were not revoked work again)."""
    _set_active(name, True)


@users_app.command("list")
def users_list() -> None:
    """Every user with role, department and whether it is active."""
    from duban.api.users import list_users

    with session_scope() as session:
        users = list_users(session)
    table = Table("用户名 / user", "角色 / role", "单位 / department", "状态 / status")
    for user in users:
        table.add_row(
            user.username,
            user.role.value,
            user.department_name or "—",
            "启用 / active" if user.active else "停用 / disabled",
        )
    console.print(table)


@users_app.command("bootstrap")
def users_bootstrap() -> None:
    """Development only: create `office` and one user per department, each with a random initial password
    printed once (and stored nowhere else) that must be changed at first sign-in; a second run makes none."""
    from duban.api.first_run import bootstrap_users

    try:
        with session_scope() as session:
            result = bootstrap_users(session)
    except DubanError as error:
        _fail(error)
        return
    if not result.created:
        console.print(
            f"初始账号已存在（{result.existing} 个），未新建；初始密码只在创建时显示一次，"
            "忘记时用 duban users set-password 用户名 重设"
        )
        return
    table = Table(title="初始账号（只显示这一次，首次登录后须修改密码）")
    table.add_column("用户名", no_wrap=True)
    table.add_column("单位")
    table.add_column("初始密码", no_wrap=True)
    for account in result.created:
        table.add_row(account.username, account.unit, account.password)
    console.print(table)
    console.print(f"已新建 {len(result.created)} 个账号，已有 {result.existing} 个未改动")
