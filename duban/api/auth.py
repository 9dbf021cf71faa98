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
from duban.tasks.enums import Role
from duban.tasks.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

_UNAUTHORIZED = HTTPException(
    status_code=401,
    detail="未登录或凭据无效 / Not authenticated or the credentials are invalid",
    headers={"WWW-Authenticate": "Bearer"},
)


_user_t = User.__table__  # type: ignore[attr-defined]
_USER_BY_ID = sa.select(_user_t).where(_user_t.c.id == sa.bindparam("user_id"))


def user_by_id(session: Session, user_id: int) -> User | None:
    """The user (detached, read with one prebuilt Core statement: this runs on every request)."""
    row = session.connection().execute(_USER_BY_ID, {"user_id": user_id}).mappings().first()
    return User(**row) if row is not None else None


def current_user(
    session: SessionDep, request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The authenticated user, or 401."""
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


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> object:
    """A dependency that admits only the given roles (403 otherwise)."""

    def _check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status_code=403, detail="当前角色无权执行此操作 / Your role may not do this")
        return user

    return Depends(_check)
