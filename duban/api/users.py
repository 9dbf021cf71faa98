"""Users and API tokens: create, authenticate, set a password, disable and enable, revoke."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final

import sqlalchemy as sa
from sqlmodel import Session, col, select

from duban.api.security import hash_api_token, hash_password, new_api_token, verify_password
from duban.core import clock
from duban.core.db import Unit
from duban.core.prepared import Prepared
from duban.tasks.departments import get_department_by_code
from duban.tasks.enums import Role
from duban.tasks.errors import TasksError
from duban.tasks.models import REQUEST_USER_COLUMNS, ApiToken, Department, User, UserPublic, user_from_row


class UserError(TasksError):
    """A user or token request that cannot be met."""

    code = "user_error"


class PasswordChangeRequired(UserError):
    """The user still has an initial password: nothing but changing it until it does (403)."""

    code = "password_change_required"


def check_new_user(
    session: Session, username: str, role: Role, department_code: str | None = None
) -> tuple[str, int | None]:
    """The username (trimmed) and department id of a user that may be created; UserError otherwise (asked
    before a password is, so that nobody types one for a user that cannot be made)."""
    username = username.strip()
    if not username:
        raise UserError("用户名不能为空", "The username must not be empty", code="invalid_username")
    if len(username) > 64:
        raise UserError(
            "用户名不能超过 64 个字符", "The username may have at most 64 characters", code="invalid_username"
        )
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise UserError(f"用户 {username} 已存在", f"User {username} already exists", code="user_exists")
    if department_code:
        return username, get_department_by_code(session, department_code).id
    if role is Role.department:
        raise UserError(
            "部门用户必须指定所属单位（--department）",
            "A department user needs a department (--department)",
            code="department_required",
        )
    return username, None


def create_user(
    session: Session,
    username: str,
    role: Role,
    password: str | None,
    department_code: str | None = None,
    display_name: str = "",
    *,
    initial: bool = False,
) -> User:
    """Create a user; department users must belong to a registered department. `password` None makes a
    user that cannot sign in (tests and fixtures only: the command line and the pages always give one);
    `initial` makes it an initial password that must be changed at the first sign-in."""
    username, department_id = check_new_user(session, username, role, department_code)
    if password is not None:
        check_password(password)
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        department_id=department_id,
        password_hash=hash_password(password) if password else None,
        must_change_password=initial and password is not None,
    )
    session.add(user)
    session.flush()
    return user


PASSWORD_MIN: Final = 8
PASSWORD_MAX: Final = 256  # the sign-in form reads no more


def check_password(password: str) -> None:
    """Refuse a password too short or too long to be used (UserError `weak_password`)."""
    if len(password) < PASSWORD_MIN:
        raise UserError(
            f"密码至少 {PASSWORD_MIN} 位",
            f"The password needs at least {PASSWORD_MIN} characters",
            code="weak_password",
        )
    if len(password) > PASSWORD_MAX:
        raise UserError(
            f"密码不能超过 {PASSWORD_MAX} 位",
            f"The password may have at most {PASSWORD_MAX} characters",
            code="weak_password",
        )


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash to verify against when the account does not exist, so both answers take as long."""
    return hash_password(secrets.token_urlsafe(16))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, else None (as slow for an unknown account as for a wrong
    password)."""
    return credentials_match(session.exec(select(User).where(User.username == username)).first(), password)


def credentials_match(user: User | None, password: str) -> User | None:
    """The user, when it is active and `password` is its password; else None, after as much work (argon2)
    as a real check, so that an unknown account cannot be told from a wrong password by the time taken."""
    if user is None or not user.password_hash:
        verify_password(_decoy_hash(), password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    return user


def get_user(session: Session, username: str) -> User:
    """The user named `username` (UserError `not_found` otherwise)."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise UserError(f"没有用户 {username}", f"No user {username}", code="not_found")
    return user


def set_password(session: Session, username: str, password: str, *, initial: bool = False) -> User:
    """Give the user a new password (its sessions and tokens go on working; `disable` stops them):
    `initial` when someone else chose it (an administrator's reset), to be changed at the next sign-in."""
    check_password(password)
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    user.must_change_password = initial
    session.add(user)
    session.flush()
    return user


def change_own_password(session: Session, user_id: int, current: str, new: str) -> User:
    """The signed-in user replaces its password: the current one must match, the new one must differ."""
    user = session.get(User, user_id)
    if user is None or credentials_match(user, current) is None:
        raise UserError("当前密码不正确", "The current password is not correct", code="wrong_password")
    if new == current:
        raise UserError(
            "新密码不能与当前密码相同",
            "The new password must differ from the current one",
            code="same_password",
        )
    check_password(new)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    session.add(user)
    session.flush()
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    """Enable or disable a user: a disabled user's sessions, bearer tokens and API tokens stop working with
    its next request (every request reads the user), until it is enabled again."""
    user = get_user(session, username)
    user.active = active
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True)
class UserRow:
    """A user as the administrator's list shows it (never the hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    department_name: str | None
    active: bool
    has_password: bool
    must_change_password: bool
    created_at: datetime


def list_users(session: Session) -> list[UserRow]:
    """Every user, by username, with its department's name."""
    rows = session.exec(
        select(User, Department.name)
        .join(Department, col(Department.id) == col(User.department_id), isouter=True)
        .order_by(col(User.username))
    ).all()
    return [
        UserRow(
            id=user.id or 0,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            department_name=department,
            active=user.active,
            has_password=bool(user.password_hash),
            must_change_password=user.must_change_password,
            created_at=user.created_at,
        )
        for user, department in rows
    ]


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: the secret is only ever available here."""

    token: str
    record: ApiToken


def create_api_token(session: Session, username: str, name: str) -> IssuedToken:
    """Issue a long-lived API token for `username`."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or user.id is None:
        raise UserError(f"没有用户 {username}", f"No user {username}", code="not_found")
    secret = new_api_token()
    record = ApiToken(user_id=user.id, name=name, prefix=secret[:12], token_hash=hash_api_token(secret))
    session.add(record)
    session.flush()
    return IssuedToken(token=secret, record=record)


_user_t = User.__table__  # type: ignore[attr-defined]
_token_t = ApiToken.__table__  # type: ignore[attr-defined]
_user_columns = [_user_t.c[name] for name in REQUEST_USER_COLUMNS]
# Every request runs one of these (the action path reads the caller with the task: workflow.service).
_USER_BY_ID = Prepared(sa.select(*_user_columns).where(_user_t.c.id == sa.bindparam("user_id")))
_USER_BY_TOKEN = Prepared(
    sa.select(_token_t.c.id, *_user_columns)
    .join(_user_t, _user_t.c.id == _token_t.c.user_id)
    .where(_token_t.c.token_hash == sa.bindparam("token_hash"), _token_t.c.revoked_at.is_(None))
)
# An OA system sends many requests a minute with one token: its last use is written at most once a minute,
# so concurrent requests do not queue on the token's row.
_TOKEN_USED = Prepared(
    _token_t.update()
    .where(
        _token_t.c.id == sa.bindparam("token_id"),
        sa.or_(_token_t.c.last_used_at.is_(None), _token_t.c.last_used_at < sa.bindparam("stale")),
    )
    .values(last_used_at=sa.bindparam("now", type_=_token_t.c.last_used_at.type))
)
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def user_by_id(unit: Unit, user_id: int) -> User | None:
    """The user, detached, with what requests use of it (no hash)."""
    row = _USER_BY_ID.first(unit.connection(), {"user_id": user_id})
    return user_from_row(row) if row is not None else None


def user_for_api_token(unit: Unit, token: str) -> User | None:
    """The active user owning a non-revoked token, else None; records the last use (to the minute)."""
    conn = unit.connection()
    row = _USER_BY_TOKEN.first(conn, {"token_hash": hash_api_token(token)})
    if row is None:
        return None
    user = user_from_row(row[1:])
    if not user.active:
        return None
    now = clock.now()
    _TOKEN_USED.rowcount(conn, {"token_id": row[0], "stale": now - TOKEN_USE_RESOLUTION, "now": now})
    return user


def revoke_api_token(session: Session, token_id: int) -> None:
    """Revoke a token by id (idempotent)."""
    record = session.get(ApiToken, token_id)
    if record is None:
        raise UserError(f"没有令牌 {token_id}", f"No token {token_id}", code="not_found")
    if record.revoked_at is None:
        record.revoked_at = clock.now()
        session.add(record)


def public_user(session: Session, user: User) -> UserPublic:
    """The API shape of a user, with its department's code and name."""
    department = session.get(Department, user.department_id) if user.department_id else None
    assert user.id is not None
    return UserPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        department_id=user.department_id,
        department_code=department.code if department else None,
        department_name=department.name if department else None,
    )
