"""schemathesis over the whole OpenAPI, in process: no 5xx, and every response matches its schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlmodel import Session

from duban.api.app import create_app
from tests.fixtures.tasks import TaskWorld

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def api_schema(world: TaskWorld, departments: Session) -> Iterator[Any]:
    """The app's schema, served over the test transaction, with a few real tasks to hit."""
    from duban.tasks.enums import TaskState

    for state in (TaskState.draft, TaskState.assigned, TaskState.in_progress, TaskState.submitted):
        world.task_in(state)
    yield schemathesis.from_asgi("/openapi.json", create_app(), force_schema_version="30")


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_never_errors_and_matches_its_schema(case: Any, auth_headers: Headers) -> None:
    headers = auth_headers("office") if case.operation.path != "/api/v1/auth/token" else {}
    response = case.call(headers={**(case.headers or {}), **headers})
    case.validate_response(response, checks=(not_a_server_error, response_schema_conformance))
