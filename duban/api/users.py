"""Users and API tokens: create, authenticate, revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

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


def create_user(
    session: Session,
    username: str,
    role: Role,
    password: str | None,
    department_code: str | None = None,
    display_name: str = "",
) -> User:
    """Create a user; department users must belong to a registered department."""
    username = username.strip()
    if not username:
        raise UserError("用户名不能为空", "The username must not be empty", code="invalid_username")
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise UserError(f"用户 {username} 已存在", f"User {username} already exists", code="user_exists")
    department_id = None
    if department_code:
        department_id = get_department_by_code(session, department_code).id
    elif role is Role.department:
        raise UserError(
            "部门用户必须指定所属单位（--department）",
            "A department user needs a department (--department)",
            code="department_required",
        )
    if password is not None and len(password) < 8:
        raise UserError("密码至少 8 位", "The password needs at least 8 characters", code="weak_password")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        department_id=department_id,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, else None."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active or not verify_password(user.password_hash, password):
        return None
    return user


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
