"""FastAPI dependencies: the request's session (committed before the response is sent)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from duban.core.db import new_session


def get_session() -> Iterator[Session]:
    """One session per request; the request boundary commits, an error rolls back."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": the commit runs when the endpoint returns, before the response is sent,
# so a failed commit becomes an error response instead of a lost write reported as success.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
