"""Celery jobs, queued by name with ids after commit; each is safe to run twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from duban.core import clock
from duban.core.db import session_scope
from duban.notifications.celery_app import celery_app


@celery_app.task(name="duban.ping")
def ping(payload: str) -> dict[str, Any]:
    """Round-trip check: answers with the payload, the worker's clock and a database probe."""
    with session_scope() as session:
        database = session.connection().execute(text("SELECT 1")).scalar_one()
    return {"payload": payload, "at": clock.now().isoformat(), "database": database}
