"""Health, metrics and the identity endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from sqlalchemy import text

from duban.api.auth import CurrentUser
from duban.api.deps import SessionDep
from duban.api.metrics import render_metrics
from duban.api.problems import PROBLEM_RESPONSES, problem_response
from duban.api.security import create_access_token
from duban.api.throttle import client_address, guarded_sign_in
from duban.api.users import public_user
from duban.core.config import get_settings
from duban.notifications.celery_app import broker_reachable
from duban.notifications.heartbeat import RuntimeStatus, runtime_status
from duban.tasks.models import UserPublic

router = APIRouter()


class WorkerHealth(BaseModel):
    """The heartbeats of the workers (per queue) and of beat: `ok`, `stale` or `missing`; ages in seconds."""

    status: str
    last_seen: str | None = None
    age_seconds: float | None = None
    stale_after_seconds: float | None = None
    queues: dict[str, float | None] = {}
    beat_age_seconds: float | None = None


class SweepHealth(BaseModel):
    """The last completed sweep: `ok`, `pending` (the worker has just come up), `stale` or `missing`."""

    status: str
    last_completed: str | None = None
    age_seconds: float | None = None
    stale_after_seconds: float | None = None


class Health(BaseModel):
    """What /healthz reports; `expect_worker` false: worker and sweep reported, not required here."""

    status: str
    database: str
    broker: str
    worker: WorkerHealth
    sweep: SweepHealth
    expect_worker: bool


class TokenResponse(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth2 scheme name)
    expires_in: int


@router.get("/healthz", response_model=Health, tags=["system"], responses={503: PROBLEM_RESPONSES[503]})
def healthz(session: SessionDep) -> Any:
    """Readiness: the database answers, the broker is reachable, a worker heartbeat is younger than
    DUBAN_HEARTBEAT_STALE_SECONDS and a sweep completed within DUBAN_SWEEP_STALE_INTERVALS intervals."""
    checks = {"database": "ok", "broker": "ok"}
    runtime = RuntimeStatus(bool(get_settings().expect_worker), {"status": "unknown"}, {"status": "unknown"})
    if not broker_reachable(timeout=2.0):
        checks["broker"] = "error: unreachable"
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        runtime = runtime_status(session)
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    # Nothing was written: end the transaction now (on SQLite it holds the write lock) rather than after
    # the response, and so that the request's commit does not trip over a failed one.
    session.rollback()
    report: dict[str, Any] = {
        **checks,
        "worker": runtime.worker,
        "sweep": runtime.sweep,
        "expect_worker": runtime.expected,
    }
    if all(value == "ok" for value in checks.values()) and runtime.healthy:
        return Health(status="ok", **report)
    failing = [name for name, value in checks.items() if value != "ok"]
    if not runtime.healthy:
        failing += [name for name in ("worker", "sweep") if report[name]["status"] not in ("ok", "pending")]
    return problem_response(
        503,
        f"服务异常：{'、'.join(failing)} / Unhealthy: {', '.join(failing)}",
        "unhealthy",
        **report,
    )


@router.get("/metrics", tags=["system"], response_class=Response)
def metrics() -> Response:
    """Prometheus metrics: this process's counters, then the outbox figures read from the database."""
    return Response(render_metrics(), media_type=CONTENT_TYPE_LATEST)


@router.post(
    "/api/v1/auth/token",
    response_model=TokenResponse,
    tags=["auth"],
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 422, 429)},
)
def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Any:
    """OAuth2 password flow: a short-lived bearer token. Repeated failures for an account or from an
    address are slowed, then refused for a while: 429 with `Retry-After`."""
    user = guarded_sign_in(form.username, form.password, client_address(request), "api")
    if user is None or user.id is None:
        return problem_response(
            401,
            "用户名或密码错误 / Wrong username or password",
            "invalid_credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    minutes = get_settings().access_token_minutes
    return TokenResponse(access_token=create_access_token(user.id), expires_in=minutes * 60)


@router.get("/api/v1/me", response_model=UserPublic, tags=["auth"], responses={401: PROBLEM_RESPONSES[401]})
def me(session: SessionDep, user: CurrentUser) -> UserPublic:
    """The caller's identity, role and department."""
    return public_user(session, user)
