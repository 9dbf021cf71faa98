"""Idempotency-Key: the same key and body give the same answer, and the action happens once."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from duban.core.db import Unit
from duban.tasks.errors import TasksError
from duban.workflow.models import IdempotencyRecord

PENDING = 0
IDEMPOTENCY_KEY_MAX = 128  # the column's width


class IdempotencyKeyReused(TasksError):
    """The key was used before with a different request (422)."""

    code = "idempotency_key_reused"


class IdempotencyInFlight(TasksError):
    """The first request with this key has not finished yet (409)."""

    code = "idempotency_in_flight"


def request_hash(method: str, path: str, body: Any) -> str:
    """A fingerprint of what the client asked."""
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


_record_t = IdempotencyRecord.__table__  # type: ignore[attr-defined]


def _mine(user_id: int, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(_record_t.c.user_id == user_id, _record_t.c.key == key[:IDEMPOTENCY_KEY_MAX])


def claim(unit: Unit, user_id: int, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Reserve `key` for this request; returns the stored answer if the same request already ran."""
    conn = unit.connection()
    try:
        with conn.begin_nested():
            conn.execute(
                _record_t.insert().values(
                    user_id=user_id,
                    key=key[:IDEMPOTENCY_KEY_MAX],
                    request_hash=fingerprint,
                    status_code=PENDING,
                )
            )
    except IntegrityError:
        existing = IdempotencyRecord(
            **conn.execute(sa.select(_record_t).where(_mine(user_id, key))).mappings().one()
        )
        if existing.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                "此 Idempotency-Key 已用于另一个请求", "This Idempotency-Key was used for a different request"
            ) from None
        if existing.status_code == PENDING:
            raise IdempotencyInFlight(
                "使用此 Idempotency-Key 的请求仍在处理中",
                "A request with this Idempotency-Key is still running",
            ) from None
        return existing
    return None


def remember(
    unit: Unit, user_id: int, key: str, status: int, body: dict[str, Any], headers: dict[str, str]
) -> None:
    """Store the answer given to the request that claimed `key`."""
    unit.connection().execute(
        _record_t.update()
        .where(_mine(user_id, key))
        .values(status_code=status, response_body=body, response_headers=headers)
    )
