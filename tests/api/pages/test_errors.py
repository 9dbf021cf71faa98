"""Odd addresses and forms get a friendly page with a 4xx status — never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from duban.tasks.enums import TaskState
from tests.api.pages.helpers import PageClient
from tests.fixtures.tasks import TaskWorld

GETS = [
    "/tasks/0",
    "/tasks/99999999999",
    "/tasks/abc",
    "/plans/999999",
    "/plans/-1",
    "/overdue/ledger.pdf",
    "/lang/fr",
    "/overdue?page=99999&per_page=abc&sort=;drop&desc=2",
    "/tasks?bucket=%00&page=-1",
    "/scorecards?start=0000-00-00",
]


@pytest.mark.parametrize("path", GETS)
def test_odd_addresses_get_a_friendly_page(signed_in: Callable[[str], PageClient], path: str) -> None:
    response = signed_in("office").get(path)
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("text/html")
        assert "返回首页" in response.text


def test_odd_forms_get_a_friendly_page(signed_in: Callable[[str], PageClient], world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.assigned)
    office, lead = signed_in("office"), signed_in("lead")
    for client, path, data in (
        (office, f"/tasks/{task_id}/actions/fly", {}),
        (office, f"/tasks/{task_id}/actions/return", {"version": "v3"}),
        (office, "/tasks/99999/actions/issue", {}),
        (office, f"/overdue/{task_id}/ladder/teleport", {"back": "https://evil.example"}),
        (office, "/extensions/99999/decision", {"grant": "1", "granted_deadline": "soon"}),
        (office, "/plans/99999/issue", {}),
        (office, "/plans/99999/bulk-edit", {"task": ["x:y"]}),
        (lead, f"/tasks/{task_id}/progress", {"percent": "x" * 5000, "text": "\x00"}),
        (lead, f"/tasks/{task_id}/extensions", {"requested_deadline": "2026-02-30"}),
        (lead, f"/tasks/{task_id}/contribution", {"text": "y"}),
        (lead, "/plans/1/bulk-edit", {}),
    ):
        response = client.post(path, data)
        assert response.status_code < 500, (path, response.status_code, response.text[:300])
        if response.status_code == 303:
            assert response.headers["location"].startswith("/"), path
