"""The action route with If-Match: the caller is read in the action's own statement on PostgreSQL (one round
trip), and every refusal is the one the general path gives, with nothing moved."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, col, select

from duban.api.security import create_access_token
from duban.api.users import create_user
from duban.tasks.enums import Role, TaskState
from duban.tasks.models import Task, TaskEvent, User
from tests.fixtures.tasks import LEAD, OTHER, TaskWorld

Headers = Callable[..., dict[str, str]]
SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@pytest.fixture
def sent(session: Session) -> Iterator[list[str]]:
    """The statements the route sends on the test's connection (not the test transaction's savepoints)."""
    conn = session.connection()
    seen: list[str] = []

    def record(*args: Any) -> None:
        if not str(args[2]).startswith(SAVEPOINTS):
            seen.append(str(args[2]))

    event.listen(conn, "before_cursor_execute", record)
    yield seen
    event.remove(conn, "before_cursor_execute", record)


def _bearer(user: User) -> dict[str, str]:
    assert user.id is not None
    return {"Authorization": f"Bearer {create_access_token(user.id)}"}


def _events(world: TaskWorld, task_id: int) -> list[TaskEvent]:
    query = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(col(TaskEvent.id))
    return list(world.session.exec(query).all())


def test_an_allowed_action_is_one_statement_with_its_caller(
    client: TestClient, world: TaskWorld, sent: list[str]
) -> None:
    clerk = create_user(world.session, "lead-clerk", Role.department, None, LEAD, display_name="张三")
    world.session.flush()
    task_id = world.task_in(TaskState.assigned)
    sent.clear()
    response = client.post(
        f"/api/v1/tasks/{task_id}/actions/accept", headers={**_bearer(clerk), "If-Match": '"v2"'}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["to_state"] == "in_progress" and answer["task"]["version"] == 3
    assert response.headers["ETag"] == '"v3"' and "submit" in answer["task"]["allowed_actions"]
    if world.session.connection().dialect.name == "postgresql":
        assert len(sent) == 1 and sent[0].startswith("WITH c AS"), sent
    accepted = _events(world, task_id)[-1]
    assert (accepted.kind, accepted.from_state, accepted.to_state) == ("accept", "assigned", "in_progress")
    assert accepted.actor_user_id == clerk.id and accepted.actor_department_id == world.lead_id
    assert accepted.actor_label == "张三" and accepted.id == answer["event_id"]


def test_a_caller_without_a_display_name_is_named_by_username(client: TestClient, world: TaskWorld) -> None:
    office = create_user(world.session, "office-wang", Role.office, None, None)
    world.session.flush()
    task_id = world.task_in(TaskState.submitted)
    url = f"/api/v1/tasks/{task_id}/actions/approve"
    assert client.post(url, headers={**_bearer(office), "If-Match": "*"}).status_code == 200
    assert _events(world, task_id)[-1].actor_label == "office-wang"


@pytest.mark.parametrize(
    "who,status,code",
    [
        ("nobody", 401, None),
        ("inactive", 401, None),
        ("initial password", 403, "password_change_required"),
        ("other department", 403, None),
        ("office", 403, None),
    ],
)
def test_a_refused_caller_moves_nothing(
    client: TestClient, world: TaskWorld, who: str, status: int, code: str | None
) -> None:
    task_id = world.task_in(TaskState.assigned)
    before = len(_events(world, task_id))
    if who == "nobody":
        headers = {"Authorization": f"Bearer {create_access_token(2**31 - 1)}"}
    else:
        role = Role.office if who == "office" else Role.department
        department = {"other department": OTHER, "office": None}.get(who, LEAD)
        user = create_user(world.session, f"u-{who}".replace(" ", "-"), role, None, department)
        user.active = who != "inactive"
        user.must_change_password = who == "initial password"
        world.session.add(user)
        world.session.flush()
        headers = _bearer(user)
    response = client.post(f"/api/v1/tasks/{task_id}/actions/accept", headers={**headers, "If-Match": '"v2"'})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if code is not None:
        assert response.json()["code"] == code
    assert len(_events(world, task_id)) == before
    assert world.session.exec(select(Task.state).where(Task.id == task_id)).one() is TaskState.assigned


def test_a_missing_task_a_stale_version_and_a_wrong_state_answer_as_before(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    lead = auth_headers("department", LEAD)
    missing = client.post("/api/v1/tasks/999999/actions/accept", headers={**lead, "If-Match": '"v1"'})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    nobody = {"Authorization": f"Bearer {create_access_token(2**31 - 1)}", "If-Match": '"v1"'}
    assert client.post("/api/v1/tasks/999999/actions/accept", headers=nobody).status_code == 401
    task_id = world.task_in(TaskState.assigned)
    stale = client.post(f"/api/v1/tasks/{task_id}/actions/accept", headers={**lead, "If-Match": '"v1"'})
    assert stale.status_code == 412 and stale.json()["code"] == "stale_version"
    wrong = client.post(f"/api/v1/tasks/{task_id}/actions/submit", headers={**lead, "If-Match": '"v2"'})
    assert wrong.status_code == 409 and wrong.json()["allowed_actions"] == ["accept", "dispute"]
    no_reason = client.post(f"/api/v1/tasks/{task_id}/actions/dispute", headers={**lead, "If-Match": '"v2"'})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
