"""Password hashing (argon2), API tokens (random, stored as SHA-256) and short-lived JWTs."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from duban.core import clock
from duban.core.config import get_settings

_hasher = PasswordHasher()
TOKEN_PREFIX = "dbn_"  # noqa: S105  (a public marker, not a secret)
JWT_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash (False for users without a password)."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    """A fresh API token, shown to its owner once."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    """The stored form of an API token (tokens are long random strings, so a plain hash suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_access_token(user_id: int, extra: dict[str, Any] | None = None) -> str:
    """A signed JWT for `user_id`, valid for the configured minutes."""
    settings = get_settings()
    issued = clock.now()
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(minutes=settings.access_token_minutes)).timestamp()),
        "typ": "access",
    }
    claims.update(extra or {})
    return jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str) -> int | None:
    """The user id in a valid, unexpired access token, else None."""
    settings = get_settings()
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        return None
    # Times are checked against the injectable clock, so a demo standing on DUBAN_NOW still works.
    if claims.get("typ") != "access" or int(claims.get("exp", 0)) < clock.now().timestamp():
        return None
    try:
        return int(claims["sub"])
    except (KeyError, ValueError):
        return None
