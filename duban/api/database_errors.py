"""Database errors as problems: a database that is away (restart, failover, pool exhausted) answers 503
with Retry-After; a value the database refuses (a NUL byte in text, a number out of range) answers 422;
anything else is a bug and answers 500.

Nothing was committed when a 503 goes out: the request's transaction commits before the response is
sent, so a client may retry the same request (with its Idempotency-Key) once the database is back.
"""

from __future__ import annotations

import logging
import traceback
from typing import Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from duban.api.problems import problem_response

log = logging.getLogger("duban.api")

RETRY_AFTER_SECONDS: Final = 2
# SQLSTATE classes of a server that is away or refusing work: connection exceptions, operator
# intervention (shutdown, "cannot connect now"), insufficient resources (too many connections).
_AWAY_SQLSTATES: Final = ("08", "57P", "53")
# Client-side driver errors carry no SQLSTATE; these words mean the connection, not the statement, failed.
_AWAY_MESSAGES: Final = (
    "connection failed",
    "connection is bad",
    "connection is lost",
    "connection is closed",
    "server closed the connection",
    "could not connect",
    "database is locked",  # SQLite: a writer held the lock past the busy timeout
)


def is_unavailable(error: BaseException) -> bool:
    """Whether a database error means "the database is not there right now" rather than a bug (a
    statement the driver refuses, such as one with too many parameters, is a bug and stays a 500)."""
    if isinstance(error, sa_exc.TimeoutError):
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return False
    sqlstate = str(getattr(error.orig, "sqlstate", None) or "")
    if sqlstate.startswith(_AWAY_SQLSTATES):
        return True
    message = str(error.orig).lower()
    return any(words in message for words in _AWAY_MESSAGES)


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, sa_exc.DataError):
        # SQLSTATE class 22: the request carried a value PostgreSQL cannot store or compare.
        reason = str(error.orig).splitlines()[0][:200]
        log.warning("value refused by the database on %s %s: %s", request.method, request.url.path, reason)
        return problem_response(
            422,
            f"请求中含有数据库无法保存的值 / The request holds a value the database refuses: {reason}",
            "invalid_value",
            instance=request.url.path,
        )
    if not is_unavailable(error):
        # Not exc_info: SQLAlchemy's message carries the statement and every parameter (megabytes).
        frames = "".join(traceback.format_tb(error.__traceback__)[-8:])
        log.error(
            "database error on %s %s: %s\n%s",
            request.method,
            request.url.path,
            str(error)[:1000],
            frames,
        )
        return problem_response(
            500,
            "服务器内部错误，已记录 / Internal error, it has been logged",
            "internal_error",
            instance=request.url.path,
        )
    reason = str(getattr(error, "orig", error)).splitlines()[0][:200]
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, reason)
    return problem_response(
        503,
        "数据库暂时不可用，请稍后重试 / The database is briefly unavailable, please retry",
        "database_unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        instance=request.url.path,
    )


def install_database_error_handlers(app: FastAPI) -> None:
    """Answer 503 when the database cannot be reached, 422 for a value it refuses."""
    app.add_exception_handler(sa_exc.DBAPIError, _database_error)
    app.add_exception_handler(sa_exc.TimeoutError, _database_error)
