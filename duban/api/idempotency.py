"""Idempotency-Key: the same key and body give the same answer, and the action happens once."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from duban.tasks.errors import TasksError
from duban.workflow.models import IdempotencyRecord

PENDING = 0


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


def claim(session: Session, user_id: int, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Reserve `key` for this request; returns the stored answer if the same request already ran."""
    record = IdempotencyRecord(user_id=user_id, key=key[:128], request_hash=fingerprint, status_code=PENDING)
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        existing = session.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
            )
        ).one()
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
    session: Session, user_id: int, key: str, status: int, body: dict[str, Any], headers: dict[str, str]
) -> None:
    """Store the answer given to the request that claimed `key`."""
    record = session.exec(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    ).one()
    record.status_code = status
    record.response_body = body
    record.response_headers = headers
    session.add(record)
