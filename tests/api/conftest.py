"""Fixtures of the API tests: the app over the test transaction and the office's bearer headers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The app over the test transaction."""
    return client


@pytest.fixture
def office(auth_headers: Callable[..., dict[str, str]]) -> dict[str, str]:
    """Bearer headers of an office user."""
    return auth_headers("office")
