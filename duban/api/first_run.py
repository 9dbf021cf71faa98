"""The first day on a development machine: one account for the office and one per department, each with a
random initial password shown once and changed at first sign-in; and how to sign in, said where it is seen."""

from __future__ import annotations

import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Final, TextIO

from argon2 import PasswordHasher
from sqlmodel import Session, col, func, select

from duban.api.users import UserError
from duban.core.config import get_settings
from duban.tasks.enums import Role
from duban.tasks.models import Department, User

OFFICE_USERNAME: Final = "office"
OFFICE_LABEL: Final = "委员会办公室"
# The initial passwords are random (72 bits) and live until the first sign-in: stretching them as hard as a
# chosen password would take a minute for 76 accounts and protect nothing more. Verified like any other.
_initial_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@dataclass(frozen=True)
class InitialAccount:
    """An account made by the bootstrap, with the password shown this once."""

    username: str
    unit: str
    password: str


@dataclass
class Bootstrap:
    """What `bootstrap_users` did: the accounts it made, and how many were there already."""

    created: list[InitialAccount] = field(default_factory=list)
    existing: int = 0


def initial_password() -> str:
    """A random password to type once (12 URL-safe characters)."""
    return secrets.token_urlsafe(9)


def bootstrap_users(session: Session) -> Bootstrap:
    """In development only: `office` and one user per active department (its code as username) that do
    not exist yet, each with a random initial password that must be changed at first sign-in. A second run
    makes nothing new. Refused (UserError `not_in_development`) under DUBAN_ENV=production."""
    if get_settings().env == "production":
        raise UserError(
            "生产环境不创建初始账号：请用 duban users create 逐个创建",
            "No initial accounts in production: create each with duban users create",
            code="not_in_development",
        )
    taken = set(session.exec(select(User.username)).all())
    wanted: list[tuple[str, Role, Department | None]] = [(OFFICE_USERNAME, Role.office, None)]
    departments = session.exec(
        select(Department).where(col(Department.active).is_(True)).order_by(col(Department.id))
    ).all()
    wanted.extend((department.code, Role.department, department) for department in departments)
    result = Bootstrap()
    for username, role, department in wanted:
        if username in taken:
            result.existing += 1
            continue
        password = initial_password()
        unit = department.name if department is not None else OFFICE_LABEL
        session.add(
            User(
                username=username,
                display_name=unit,
                role=role,
                department_id=department.id if department is not None else None,
                password_hash=_initial_hasher.hash(password),
                must_change_password=True,
            )
        )
        result.created.append(InitialAccount(username, unit, password))
    session.flush()
    return result


def sign_in_lines(session: Session, url: str) -> list[str]:
    """What `make run` ends with: where to go and with which account."""
    users = session.exec(select(func.count()).select_from(User)).one()
    lines = [f"督办系统已启动：{url}/login"]
    if not users:
        lines.append("尚无用户：开发环境运行 duban users bootstrap，或 duban users create 创建用户")
        return lines
    waiting = session.exec(select(func.count()).select_from(User).where(col(User.must_change_password))).one()
    lines.append(
        "委员会办公室用 office 登录；成员单位用本单位代码登录（如 sthjt、fgw，duban users list 可查）"
    )
    if waiting:
        lines.append("初始密码见上方“初始账号”表（只显示一次），首次登录后须修改密码")
    lines.append("忘记密码：duban users set-password 用户名")
    return lines


def announce_when_up(host: str, port: int, lines: list[str], out: TextIO = sys.stdout) -> threading.Thread:
    """Print `lines` once the server answers on host:port (after its start-up log), from a daemon thread."""

    target = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (a wildcard is not an address)

    def wait_and_print() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((target, port), timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        else:
            return
        out.write("\n" + "\n".join(lines) + "\n\n")
        out.flush()

    thread = threading.Thread(target=wait_and_print, name="duban-announce", daemon=True)
    thread.start()
    return thread


def announce_sign_in(host: str, port: int) -> None:
    """Say, once the server answers, where to sign in and with which account (what `make run` ends with)."""
    from duban.core.db import session_scope

    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"  # noqa: S104
    try:
        with session_scope() as session:
            lines = sign_in_lines(session, url)
    except Exception:  # a database not there yet: the address is still printed
        lines = [f"督办系统已启动：{url}/login"]
    announce_when_up(host, port, lines)
