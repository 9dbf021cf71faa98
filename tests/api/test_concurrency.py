"""Fifty conflicting actions on one task from threads, on PostgreSQL: exactly one wins, one event."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from duban.api.app import create_app
from duban.api.security import create_access_token
from duban.api.users import create_user
from duban.core.config import get_settings
from duban.core.db import dispose_engine, get_engine
from duban.tasks.departments import load_departments
from duban.tasks.enums import Role, TaskState
from duban.tasks.models import Department, Task, TaskAssignment, TaskEvent
from duban.tasks.parser import parse
from duban.tasks.plans import import_plan
from duban.workflow.machines import Actor
from duban.workflow.service import apply_action
from tests.conftest import database_url_for
from tests.fixtures.tasks import LEAD, PLAN_TEXT


@pytest.fixture
def committed_postgres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for url in database_url_for("postgres", tmp_path):
        monkeypatch.setenv("DUBAN_DATABASE_URL", url)
        get_settings.cache_clear()
        dispose_engine()
        yield url
        dispose_engine()


def _issued_task() -> tuple[int, dict[str, str], int, int]:
    """A committed, issued task: its id, the lead's and office's tokens, its version and event count."""
    with Session(get_engine()) as session:
        load_departments(session)
        result = import_plan(session, PLAN_TEXT, parse(PLAN_TEXT), None)
        task = session.exec(select(Task).where(Task.plan_id == result.plan_id).order_by(Task.id)).first()  # type: ignore[arg-type]
        assert task is not None and task.id is not None
        task_id = task.id
        apply_action(session, task_id, "issue", Actor(role=Role.office))
        lead = create_user(session, "lead-user", Role.department, None, LEAD)
        office = create_user(session, "office-user", Role.office, None)
        session.commit()
        assert lead.id and office.id
        tokens = {"lead": create_access_token(lead.id), "office": create_access_token(office.id)}
        version = session.get(Task, task_id).version  # type: ignore[union-attr]
    return task_id, tokens, version, _events_of(task_id)


def _events_of(task_id: int) -> int:
    with Session(get_engine()) as session:
        return session.exec(
            select(func.count()).select_from(TaskEvent).where(TaskEvent.task_id == task_id)
        ).one()


def test_fifty_conflicting_actions_one_winner(committed_postgres: str) -> None:
    task_id, tokens, version, events_before = _issued_task()
    app = create_app()
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(50)

    def fire(index: int) -> None:
        # Odd requests name the version they saw (losers: 412); even ones name none (`If-Match: *`), and
        # are moves that no state after the first winner allows again (losers: 409). No reassign: it keeps
        # `assigned`.
        if index % 2:
            action, who, body = [
                ("accept", "lead", {}),
                ("dispute", "lead", {"reason": "非本单位职责"}),
                ("cancel", "office", {"reason": "撤销"}),
            ][(index // 2) % 3]
        else:
            action, who, body = [("accept", "lead", {}), ("dispute", "lead", {"reason": "非本单位职责"})][
                (index // 2) % 2
            ]
        headers = {
            "Authorization": f"Bearer {tokens[who]}",
            "If-Match": f'"v{version}"' if index % 2 else "*",
        }
        with TestClient(app, raise_server_exceptions=False) as client:
            barrier.wait()
            response = client.post(f"/api/v1/tasks/{task_id}/actions/{action}", json=body, headers=headers)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    counts = Counter(statuses)
    assert counts[200] == 1, counts
    assert set(counts) <= {200, 409, 412}, counts
    assert _events_of(task_id) == events_before + 1
    with Session(get_engine()) as session:
        final = session.get(Task, task_id)
        assert final is not None and final.version == version + 1
        assert final.state in (
            TaskState.in_progress,
            TaskState.draft,
            TaskState.cancelled,
            TaskState.assigned,
        )
    print(f"\n50 conflicting actions: {dict(counts)}")


def test_twenty_retries_with_one_idempotency_key_act_once(committed_postgres: str) -> None:
    """An OA system retrying one accept: the committed database sees one event, every answer is the same."""
    task_id, tokens, version, events_before = _issued_task()
    app = create_app()
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)
    headers = {
        "Authorization": f"Bearer {tokens['lead']}",
        "If-Match": f'"v{version}"',
        "Idempotency-Key": "oa-accept-0001",
    }

    def fire() -> None:
        with TestClient(app, raise_server_exceptions=False) as client:
            barrier.wait()
            response = client.post(f"/api/v1/tasks/{task_id}/actions/accept", json={}, headers=headers)
        with lock:
            answers.append((response.status_code, response.text))

    threads = [threading.Thread(target=fire) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A retry that arrives while the first is still running is told so (409) and retries later.
    assert {status for status, _ in answers} <= {200, 409}, answers
    # The same answer (PostgreSQL's jsonb keeps the stored one's keys in its own order).
    assert (
        len({json.dumps(json.loads(text), sort_keys=True) for status, text in answers if status == 200}) == 1
    )
    with TestClient(app) as client:
        again = client.post(f"/api/v1/tasks/{task_id}/actions/accept", json={}, headers=headers)
    assert again.status_code == 200
    assert again.json()["task"] == {
        "id": task_id,
        "state": "in_progress",
        "version": version + 1,
        "allowed_actions": ["submit"],
    }
    assert _events_of(task_id) == events_before + 1


def test_reassign_on_a_committed_database_moves_the_lead_in_one_transaction(committed_postgres: str) -> None:
    """Reassign rewrites the holders and then moves the task: the path that keeps its transaction."""
    task_id, tokens, version, events_before = _issued_task()
    with Session(get_engine()) as session:
        new_lead = session.exec(select(Department.id).where(Department.code == "slt")).one()
    with TestClient(create_app()) as client:
        moved = client.post(
            f"/api/v1/tasks/{task_id}/actions/reassign",
            json={"new_lead_id": new_lead},
            headers={"Authorization": f"Bearer {tokens['office']}", "If-Match": f'"v{version}"'},
        )
    assert moved.status_code == 200, moved.text
    with Session(get_engine()) as session:
        leads = session.exec(
            select(TaskAssignment.department_id).where(
                TaskAssignment.task_id == task_id, TaskAssignment.role == "lead"
            )
        ).all()
    assert leads == [new_lead]
    assert _events_of(task_id) == events_before + 1
