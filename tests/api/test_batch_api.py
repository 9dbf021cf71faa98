"""`POST /api/v1/tasks/actions/{action}`: many tasks, one action each, answered per item; a refused item
undoes no other; each item its own event, version check and authorization."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import col, select

from duban.tasks.enums import SupervisionLevel, TaskState
from duban.tasks.models import Task, TaskEvent
from duban.workflow.batch import MAX_BATCH_ITEMS
from tests.fixtures.tasks import LEAD, OTHER, TaskWorld

Headers = Callable[..., dict[str, str]]


def _etag(world: TaskWorld, task_id: int) -> str:
    return f'"v{world.session.exec(select(Task.version).where(Task.id == task_id)).one()}"'


def _events(world: TaskWorld, task_id: int, kind: str) -> int:
    return len(
        world.session.exec(
            select(TaskEvent).where(TaskEvent.task_id == task_id, TaskEvent.kind == kind)
        ).all()
    )


def test_a_department_signs_for_many_and_a_bad_item_undoes_no_other(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    good = [world.task_in(TaskState.assigned) for _ in range(3)]
    stale, done = world.task_in(TaskState.assigned), world.task_in(TaskState.in_progress)
    items = [{"id": t, "if_match": _etag(world, t)} for t in good]
    items.insert(1, {"id": stale, "if_match": '"v1"'})  # the task is at v2 since it was issued
    items.append({"id": done, "if_match": _etag(world, done)})
    items.append({"id": 2**31 - 1, "if_match": "*"})
    response = client.post(
        "/api/v1/tasks/actions/accept", json={"items": items}, headers=auth_headers("department", LEAD)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["action"], body["succeeded"], body["failed"]) == ("accept", 3, 3)
    answers = {item["id"]: item for item in body["items"]}
    assert [item["id"] for item in body["items"]] == [item["id"] for item in items]
    for task_id in good:
        assert answers[task_id]["status"] == 200
        assert answers[task_id]["etag"] == _etag(world, task_id) == '"v3"'
        assert (
            answers[task_id]["moved_to"] == "in_progress" and "submit" in answers[task_id]["allowed_actions"]
        )
        assert _events(world, task_id, "accept") == 1
    assert answers[stale]["status"] == 412 and answers[stale]["problem"]["code"] == "stale_version"
    assert answers[done]["status"] == 409 and answers[done]["problem"]["code"] == "transition_not_allowed"
    assert answers[2**31 - 1]["status"] == 404
    assert "/" in answers[stale]["problem"]["detail"]  # 中文 / English
    assert world.session.get(Task, stale) is not None and _events(world, stale, "accept") == 0
    event_ids = {answers[t]["event_id"] for t in good}
    assert len(event_ids) == 3  # one event each


def test_each_item_is_authorized_and_needs_if_match(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    mine, draft = world.task_in(TaskState.assigned), world.task_in(TaskState.draft)
    lead = auth_headers("department", LEAD)
    missing = client.post("/api/v1/tasks/actions/accept", json={"items": [{"id": mine}]}, headers=lead)
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error"
    body = {"items": [{"id": mine, "if_match": "v7"}, {"id": draft, "if_match": "*"}]}
    first, second = client.post("/api/v1/tasks/actions/accept", json=body, headers=lead).json()["items"]
    assert first["status"] == 412 and first["problem"]["current_version"] == 2
    assert second["status"] == 403  # a draft never issued is the office's
    other = client.post(
        "/api/v1/tasks/actions/accept",
        json={"items": [{"id": mine, "if_match": "*"}]},
        headers=auth_headers("department", OTHER),
    )
    assert other.json()["items"][0]["status"] == 403
    assert client.post("/api/v1/tasks/actions/accept", json=body).status_code == 401


def test_the_office_urges_and_escalates_in_one_batch(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    tasks = [world.task_in(TaskState.in_progress) for _ in range(2)]
    closed = world.task_in(TaskState.completed)
    items = [{"id": t, "if_match": "*"} for t in [*tasks, closed]]
    urged = client.post(
        "/api/v1/tasks/actions/urge",
        json={"items": items, "reason": "请加快进度"},
        headers=auth_headers("office"),
    ).json()
    assert [i["status"] for i in urged["items"]] == [200, 200, 409]
    for task_id in tasks:
        task = world.session.get(Task, task_id)
        assert task is not None
        world.session.refresh(task)
        assert task.supervision_level is SupervisionLevel.urged
        event = world.session.exec(
            select(TaskEvent).where(TaskEvent.task_id == task_id, TaskEvent.kind == "urge")
        ).one()
        assert event.reason == "请加快进度"
    supervised = client.post(
        "/api/v1/tasks/actions/supervise", json={"items": items[:2]}, headers=auth_headers("office")
    ).json()
    assert supervised["succeeded"] == 2 and supervised["items"][0]["moved_to"].startswith("supervised")


def test_a_batch_is_refused_whole_when_empty_too_long_or_unknown(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    office = auth_headers("office")
    empty = client.post("/api/v1/tasks/actions/accept", json={"items": []}, headers=office)
    assert empty.status_code == 422 and empty.headers["content-type"].startswith("application/problem+json")
    many = {"items": [{"id": 1, "if_match": "*"}] * (MAX_BATCH_ITEMS + 1)}
    assert client.post("/api/v1/tasks/actions/accept", json=many, headers=office).status_code == 422
    unknown = client.post(
        "/api/v1/tasks/actions/fly", json={"items": [{"id": 1, "if_match": "*"}]}, headers=office
    )
    assert unknown.status_code == 422  # the path names one of the actions a batch takes (in the OpenAPI)
    task_id = world.task_in(TaskState.assigned)
    assert world.session.exec(select(col(Task.state)).where(Task.id == task_id)).one() is TaskState.assigned
