"""Who is calling: bearer JWTs from the password flow, or long-lived API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param

from duban.api.deps import SessionDep
from duban.api.problems import register_error_status
from duban.api.security import TOKEN_PREFIX, decode_access_token
from duban.api.users import PasswordChangeRequired, user_by_id, user_for_api_token
from duban.core.db import Unit
from duban.tasks.enums import Role
from duban.tasks.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

_UNAUTHORIZED = HTTPException(
    status_code=401,
    detail="未登录或凭据无效 / Not authenticated or the credentials are invalid",
    headers={"WWW-Authenticate": "Bearer"},
)


def authenticate(session: Unit, request: Request, token: str | None) -> User:
    """The active user a bearer JWT or API token names, or 401."""
    if not token:
        raise _UNAUTHORIZED
    user: User | None
    if token.startswith(TOKEN_PREFIX):
        user = user_for_api_token(session, token)
    else:
        user_id = decode_access_token(token)
        user = user_by_id(session, user_id) if user_id is not None else None
    return admit(request, user)


register_error_status(PasswordChangeRequired, 403)


def admit(request: Request, user: User | None) -> User:
    """The user, if there is one and it is active; else 401. A user with an initial password is refused
    (403 `password_change_required`) until it sets its own on the /password page: the initial one was
    printed on a console, so nothing it signs in to, token or API token, is honoured before that."""
    if user is None or not user.active:
        raise _UNAUTHORIZED
    if user.must_change_password:
        raise PasswordChangeRequired(
            "请先在 /password 页面修改初始密码，再使用接口",
            "Change the initial password on the /password page before using the API",
        )
    request.state.user_id = user.id
    return user


BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


def bearer_token(request: Request) -> str | None:
    """The bearer token of the Authorization header, read as `oauth2_scheme` reads it (for routes that
    read their headers themselves)."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    return token if scheme.lower() == "bearer" and token else None


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
