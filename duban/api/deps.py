"""FastAPI dependencies: the request's session (committed before the response is sent)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlmodel import Session

from duban.core.db import session_scope


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; the request boundary commits, an error rolls back."""
    with session_scope() as session:
        # The page frame reads with it too (the reminders banner): a second session would wait behind
        # this one's write lock on SQLite.
        request.state.db_session = session
        yield session


# scope="function": the commit runs when the endpoint returns, before the response is sent,
# so a failed commit becomes an error response instead of a lost write reported as success.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


MAX_ID = 2**31 - 1  # an id past the column's range would reach the driver, which refuses it
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="任务 id / task id")]
PlanId = Annotated[int, Path(ge=1, le=MAX_ID, description="规划 id / plan id")]
ExtensionId = Annotated[int, Path(ge=1, le=MAX_ID, description="延期申请 id / extension request id")]
CursorId = Annotated[int | None, Query(ge=0, le=MAX_ID, description="上一页最后一项的 id / keyset cursor")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
