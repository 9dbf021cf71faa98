"""Who reads what: every read endpoint × anonymous / unrelated department / cooperating / lead / office.

Departments read issued plans and, in them, only the tasks they lead or cooperate on; drafts (a plan or a
task never issued) are the office's (DESIGN.md, issue 14 item 5).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from duban.tasks.enums import TaskState
from duban.tasks.models import Task
from tests.fixtures.evidence import pdf_bytes
from tests.fixtures.tasks import COOPERATING, LEAD, OTHER, TaskWorld

Headers = Callable[..., dict[str, str]]
CALLERS = ("anonymous", "other", "cooperating", "lead", "office")


@dataclass(frozen=True)
class ReadWorld:
    """An issued task (with a sibling never issued) and a plan never issued."""

    task: int
    plan: int
    sibling: int
    draft_task: int
    draft_plan: int
    file: int  # an evidence file (a PDF) the lead uploaded for the task


@pytest.fixture
def read_world(world: TaskWorld) -> ReadWorld:
    """Tasks led by 生态环境厅 with 发展改革委 cooperating; 水利厅 has no part in any."""
    task = world.task_in(TaskState.in_progress)
    draft_task = world.task_in(TaskState.draft)

    def plan_of(task_id: int) -> int:
        found = world.session.get(Task, task_id)
        assert found is not None
        return found.plan_id

    plan = plan_of(task)
    sibling = world.session.exec(select(Task.id).where(Task.plan_id == plan, Task.id != task)).one()
    assert sibling is not None
    evidence = upload_evidence(world, task)
    return ReadWorld(task, plan, sibling, draft_task, plan_of(draft_task), evidence)


def upload_evidence(world: TaskWorld, task: int) -> int:
    """A PDF the lead uploaded for the task, stored where the app reads it."""
    from duban.core.filestore import configured_store
    from duban.workflow.evidence.files import Limits, upload

    row = upload(
        world.session,
        configured_store(),
        task,
        world.actor("lead"),
        "验收.pdf",
        io.BytesIO(pdf_bytes()),
        Limits(1 << 20, 1 << 24),
    )
    assert row.id is not None
    return row.id


def _headers(auth_headers: Headers, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    if who == "office":
        return auth_headers("office")
    return auth_headers("department", {"lead": LEAD, "cooperating": COOPERATING, "other": OTHER}[who])


ALL = (401, 200, 200, 200, 200)
OFFICE_ONLY = (401, 403, 403, 403, 200)
HOLDERS = (401, 403, 200, 200, 200)

# (name, path built from the world, expected status for anonymous/other/cooperating/lead/office)
MATRIX: list[tuple[str, Callable[[ReadWorld], str], tuple[int, ...]]] = [
    ("me", lambda w: "/api/v1/me", ALL),
    ("departments (the public registry)", lambda w: "/api/v1/departments", (200,) * 5),
    ("responsibility rules", lambda w: "/api/v1/responsibility-rules", ALL),
    ("plans", lambda w: "/api/v1/plans", ALL),
    ("issued plan", lambda w: f"/api/v1/plans/{w.plan}", ALL),
    ("draft plan", lambda w: f"/api/v1/plans/{w.draft_plan}", OFFICE_ONLY),
    ("plan units", lambda w: f"/api/v1/plans/{w.plan}/units", OFFICE_ONLY),
    ("plan review", lambda w: f"/api/v1/plans/{w.plan}/review", OFFICE_ONLY),
    ("division xlsx", lambda w: f"/api/v1/plans/{w.plan}/division.xlsx", OFFICE_ONLY),
    ("division csv", lambda w: f"/api/v1/plans/{w.plan}/division.csv", OFFICE_ONLY),
    ("tasks", lambda w: "/api/v1/tasks", ALL),
    ("task", lambda w: f"/api/v1/tasks/{w.task}", HOLDERS),
    ("draft task", lambda w: f"/api/v1/tasks/{w.draft_task}", OFFICE_ONLY),
    ("never-issued sibling", lambda w: f"/api/v1/tasks/{w.sibling}", OFFICE_ONLY),
    ("events", lambda w: f"/api/v1/tasks/{w.task}/events", HOLDERS),
    ("draft events", lambda w: f"/api/v1/tasks/{w.draft_task}/events", OFFICE_ONLY),
    ("reports", lambda w: f"/api/v1/tasks/{w.task}/reports", HOLDERS),
    ("draft reports", lambda w: f"/api/v1/tasks/{w.draft_task}/reports", OFFICE_ONLY),
    ("task extensions", lambda w: f"/api/v1/tasks/{w.task}/extensions", HOLDERS),
    ("draft extensions", lambda w: f"/api/v1/tasks/{w.draft_task}/extensions", OFFICE_ONLY),
    ("task files", lambda w: f"/api/v1/tasks/{w.task}/files", HOLDERS),
    ("draft files", lambda w: f"/api/v1/tasks/{w.draft_task}/files", OFFICE_ONLY),
    ("file download", lambda w: f"/api/v1/files/{w.file}", HOLDERS),
    ("file view", lambda w: f"/api/v1/files/{w.file}/view", HOLDERS),
    ("regions", lambda w: f"/api/v1/tasks/{w.task}/regions", HOLDERS),
    ("draft regions", lambda w: f"/api/v1/tasks/{w.draft_task}/regions", OFFICE_ONLY),
    ("extensions", lambda w: "/api/v1/extensions", ALL),
    ("overdue", lambda w: "/api/v1/overdue", OFFICE_ONLY),
    ("stats", lambda w: "/api/v1/stats/departments", ALL),
    ("ledger xlsx", lambda w: "/api/v1/exports/ledger.xlsx", ALL),
    ("ledger csv", lambda w: "/api/v1/exports/ledger.csv", ALL),
]


@pytest.mark.parametrize("name,path,expected", MATRIX, ids=[row[0] for row in MATRIX])
def test_read_matrix(
    client: TestClient,
    read_world: ReadWorld,
    auth_headers: Headers,
    name: str,
    path: Callable[[ReadWorld], str],
    expected: tuple[int, ...],
) -> None:
    url = path(read_world)
    for who, status in zip(CALLERS, expected, strict=True):
        response = client.get(url, headers=_headers(auth_headers, who))
        assert response.status_code == status, (name, who, response.text[:300])
        if status >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert " / " in response.json()["detail"]


def test_a_department_lists_issued_plans_and_counts_its_own_tasks(
    client: TestClient, read_world: ReadWorld, auth_headers: Headers
) -> None:
    office = {
        p["id"]: p for p in client.get("/api/v1/plans", headers=_headers(auth_headers, "office")).json()
    }
    assert {read_world.plan, read_world.draft_plan} <= set(office)
    assert office[read_world.plan]["tasks"] == 2
    for who, tasks in (("lead", 1), ("cooperating", 1), ("other", 0)):
        listing = client.get("/api/v1/plans", headers=_headers(auth_headers, who)).json()
        seen = {p["id"]: p for p in listing}
        assert read_world.draft_plan not in seen, who
        assert seen[read_world.plan]["tasks"] == tasks, who


def test_a_department_reads_an_issued_plan_with_only_its_issued_tasks(
    client: TestClient, read_world: ReadWorld, auth_headers: Headers
) -> None:
    url = f"/api/v1/plans/{read_world.plan}"
    office = client.get(url, headers=_headers(auth_headers, "office")).json()
    assert [t["id"] for t in office["task_list"]] == [read_world.task, read_world.sibling]
    assert any(entry["facts"] for entry in office["outline"])
    for who, tasks in (("lead", [read_world.task]), ("cooperating", [read_world.task]), ("other", [])):
        plan = client.get(url, headers=_headers(auth_headers, who)).json()
        assert [t["id"] for t in plan["task_list"]] == tasks, who
        assert plan["tasks"] == len(tasks)
        assert plan["outline"] and all(entry["facts"] == {} for entry in plan["outline"])
        assert plan["warnings"] == [] and plan["registry_fit"] is None
    refused = client.get(f"/api/v1/plans/{read_world.draft_plan}", headers=_headers(auth_headers, "lead"))
    assert refused.json()["code"] == "plan_not_issued"
    assert "尚未交办" in refused.json()["detail"]


def test_task_listings_and_the_ledger_hold_no_draft_for_a_department(
    client: TestClient, read_world: ReadWorld, auth_headers: Headers
) -> None:
    drafts = {read_world.sibling, read_world.draft_task}
    office = client.get("/api/v1/tasks", params={"limit": 500}, headers=_headers(auth_headers, "office"))
    assert drafts | {read_world.task} <= {t["id"] for t in office.json()["items"]}
    for who in ("lead", "cooperating"):
        headers = _headers(auth_headers, who)
        for params in ({}, {"state": "draft"}, {"plan_id": read_world.draft_plan}):
            seen = {
                t["id"] for t in client.get("/api/v1/tasks", params=params, headers=headers).json()["items"]
            }
            assert not seen & drafts, (who, params)
        assert read_world.task in {
            t["id"] for t in client.get("/api/v1/tasks", headers=headers).json()["items"]
        }
        ledger = client.get(
            "/api/v1/exports/ledger.csv", params={"state": ["draft", "in_progress"]}, headers=headers
        )
        rows = list(csv.reader(io.StringIO(ledger.content.decode("utf-8-sig"))))
        assert len(rows) == 2, (who, rows)  # the header and the one issued task
    other = client.get("/api/v1/tasks", headers=_headers(auth_headers, "other")).json()
    assert other["items"] == []


def test_a_disputed_task_stays_readable_to_its_lead(
    client: TestClient, world: TaskWorld, auth_headers: Headers
) -> None:
    """Back in draft after a dispute, the task was issued once: its lead still follows it."""
    from duban.workflow.service import apply_action

    task = world.task_in(TaskState.assigned)
    apply_action(world.session, task, "dispute", world.actor("lead"), reason="非本单位职责")
    world.session.flush()
    lead = _headers(auth_headers, "lead")
    detail = client.get(f"/api/v1/tasks/{task}", headers=lead)
    assert detail.status_code == 200 and detail.json()["state"] == "draft"
    assert task in {t["id"] for t in client.get("/api/v1/tasks", headers=lead).json()["items"]}
