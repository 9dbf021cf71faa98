"""Fixtures of the page tests: users with passwords, signed-in clients per role, tasks in any state."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlmodel import Session

from duban.tasks.enums import Role
from tests.api.pages.helpers import PageClient, ensure_user, page_clients
from tests.fixtures.tasks import COOPERATING, LEAD, OTHER

ROLES: dict[str, tuple[Role, str | None]] = {
    "office": (Role.office, None),
    "lead": (Role.department, LEAD),
    "cooperating": (Role.department, COOPERATING),
    "other": (Role.department, OTHER),
}


@pytest.fixture
def signed_in(departments: Session) -> Iterator[Callable[[str], PageClient]]:
    """`signed_in("office" | "lead" | "cooperating" | "other")`: a client signed in as that user."""
    with page_clients() as open_client:

        def sign_in(who: str) -> PageClient:
            role, department = ROLES[who]
            user = ensure_user(departments, f"page-{who}", role, department)
            page = open_client()
            response = page.login(user.username)
            assert response.status_code == 303, response.text[:500]
            return page

        yield sign_in


@pytest.fixture
def anonymous(session: Session) -> Iterator[PageClient]:
    """A client that has not signed in."""
    with page_clients() as open_client:
        yield open_client()
