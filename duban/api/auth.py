"""Who is calling: bearer JWTs from the password flow, or long-lived API tokens."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from duban.api.deps import SessionDep
from duban.api.security import TOKEN_PREFIX, decode_access_token
from duban.api.users import user_for_api_token
from duban.core.prepared import Prepared
from duban.tasks.enums import Role
from duban.tasks.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

_UNAUTHORIZED = HTTPException(
    status_code=401,
    detail="未登录或凭据无效 / Not authenticated or the credentials are invalid",
    headers={"WWW-Authenticate": "Bearer"},
)


_user_t = User.__table__  # type: ignore[attr-defined]
_USER_COLUMNS = ("id", "username", "display_name", "role", "department_id", "active")
# Every request runs this: prepared, and without the columns no request needs (hash, creation time).
_USER_BY_ID = Prepared(
    sa.select(*(_user_t.c[name] for name in _USER_COLUMNS)).where(_user_t.c.id == sa.bindparam("user_id"))
)


def user_by_id(session: Session, user_id: int) -> User | None:
    """The user, detached, with what requests use of it."""
    row = _USER_BY_ID.first(session.connection(), {"user_id": user_id})
    if row is None:
        return None
    found = dict(zip(_USER_COLUMNS, row, strict=True))
    return User(**{**found, "role": Role(found["role"]), "active": bool(found["active"])})


def authenticate(session: Session, request: Request, token: str | None) -> User:
    """The active user a bearer JWT or API token names, or 401."""
    if not token:
        raise _UNAUTHORIZED
    user: User | None
    if token.startswith(TOKEN_PREFIX):
        user = user_for_api_token(session, token)
    else:
        user_id = decode_access_token(token)
        user = user_by_id(session, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise _UNAUTHORIZED
    request.state.user_id = user.id
    return user


BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


def current_user(session: SessionDep, request: Request, token: BearerToken) -> User:
    """The authenticated user, or 401."""
    return authenticate(session, request, token)


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> object:
    """A dependency that admits only the given roles (403 otherwise)."""

    def _check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status_code=403, detail="当前角色无权执行此操作 / Your role may not do this")
        return user

    return Depends(_check)
