"""Password hashing (argon2), API tokens (random, stored as SHA-256) and short-lived JWTs."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
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
    verified = _verified_claims(token, get_settings().secret_key)
    if verified is None:
        return None
    user_id, expires = verified
    # Times are checked against the injectable clock, so a demo standing on DUBAN_NOW still works.
    return user_id if expires >= clock.now().timestamp() else None


# A client sends the same token for up to an hour: its signature is checked once per process. The key
# is part of the cache key, so a changed secret verifies afresh; expiry is checked on every request.
@lru_cache(maxsize=4096)
def _verified_claims(token: str, secret_key: str) -> tuple[int, int] | None:
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "access":
        return None
    try:
        return int(claims["sub"]), int(claims.get("exp", 0))
    except (KeyError, ValueError, TypeError):
        return None
