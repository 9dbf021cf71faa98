"""Users and API tokens: create, authenticate, revoke."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from duban.api.security import hash_api_token, hash_password, new_api_token, verify_password
from duban.core import clock
from duban.tasks.departments import get_department_by_code
from duban.tasks.enums import Role
from duban.tasks.errors import TasksError
from duban.tasks.models import ApiToken, Department, User, UserPublic


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


def user_for_api_token(session: Session, token: str) -> User | None:
    """The active user owning a non-revoked token, else None; records the last use."""
    record = session.exec(
        select(ApiToken).where(ApiToken.token_hash == hash_api_token(token), ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    if record is None:
        return None
    user = session.get(User, record.user_id)
    if user is None or not user.active:
        return None
    record.last_used_at = clock.now()
    session.add(record)
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
