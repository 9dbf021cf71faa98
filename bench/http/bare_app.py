"""The bare reference: a FastAPI endpoint doing the action's SQL through a psycopg_pool ConnectionPool.

Served by uvicorn as `bench.http.bare_app:create_app` (factory) with BENCH_BARE_DSN set. Same
framework, server, worker count and request shape as duban's endpoint; none of duban's code: no auth,
no state machine, no ORM, no response model beyond the row it wrote.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, Field

TO_STATE = {"submit": "submitted", "return": "returned"}

SELECT = "SELECT state, version FROM task WHERE id = %s"
UPDATE = (
    "UPDATE task SET state = %s, version = version + 1, updated_at = now() WHERE id = %s AND version = %s"
)
INSERT = (
    "INSERT INTO task_event (task_id, kind, actor_user_id, actor_department_id, actor_label, from_state,"
    " to_state, reason, data, request_id, created_at)"
    " VALUES (%s, %s, %s, %s, 'bare', %s, %s, %s, '{}', NULL, now()) RETURNING id"
)


class BareBody(BaseModel):
    """The same optional body as duban's actions."""

    reason: str | None = Field(default=None, max_length=4000)


def create_app() -> FastAPI:
    """The bare app, with a pool as large as duban's SQLAlchemy pool (10 kept, up to 30)."""
    pool = ConnectionPool(os.environ["BENCH_BARE_DSN"], min_size=10, max_size=30, open=True)
    # The event names the same actor as duban's would, so the same foreign keys are checked.
    actors = {
        "submit": (int(os.environ["BENCH_LEAD_USER"]), int(os.environ["BENCH_LEAD_DEPARTMENT"])),
        "return": (int(os.environ["BENCH_OFFICE_USER"]), None),
    }
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/bare/tasks/{task_id}")
    def get_task(task_id: int) -> JSONResponse:
        with pool.connection() as conn:
            row = conn.execute(SELECT, (task_id,)).fetchone()
        if row is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return JSONResponse(
            {"id": task_id, "state": row[0], "version": row[1]}, headers={"ETag": f'"v{row[1]}"'}
        )

    @app.post("/bare/tasks/{task_id}/actions/{action}")
    def act(task_id: int, action: str, body: BareBody | None = None) -> JSONResponse:
        to_state = TO_STATE.get(action)
        if to_state is None:
            return JSONResponse({"detail": "unknown action"}, status_code=404)
        with pool.connection() as conn, conn.transaction():
            row = conn.execute(SELECT, (task_id,)).fetchone()
            if row is None:
                return JSONResponse({"detail": "not found"}, status_code=404)
            state, version = row
            if conn.execute(UPDATE, (to_state, task_id, version)).rowcount != 1:
                return JSONResponse({"detail": "conflict"}, status_code=409)
            user_id, department_id = actors[action]
            reason = (body.reason if body else None) or ""
            inserted = conn.execute(
                INSERT, (task_id, action, user_id, department_id, state, to_state, reason)
            )
            event_id = inserted.fetchone()[0]  # type: ignore[index]
        payload = {
            "action": action,
            "from_state": state,
            "to_state": to_state,
            "event_id": event_id,
            "task": {"id": task_id, "state": to_state, "version": version + 1},
        }
        return JSONResponse(payload, headers={"ETag": f'"v{version + 1}"'})

    return app
