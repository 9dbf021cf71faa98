"""Concurrent imports on a committed database (issue 14, items 1 and 2): the same document posted at once
never answers 500, and different revisions of one plan posted at once are serialised — each its own
revision number, one revision record each, and the stored text always agrees with the measures."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from duban.tasks.enums import Role
from duban.tasks.models import Plan, PlanRevision, Task, TaskEvent
from duban.tasks.plan_revise import revision_inconsistencies
from tests.conftest import BACKENDS, database_url_for

BASE = """内蒙古自治区人民政府办公厅关于印发大气污染防治攻坚实施方案的通知
内政办发〔2025〕31号
各盟行政公署、市人民政府，自治区各委、办、厅、局：
现将《大气污染防治攻坚实施方案》印发给你们，请认真贯彻落实。
内蒙古自治区人民政府办公厅
2025年3月1日
大气污染防治攻坚实施方案

一、重点任务
（一）推进燃煤锅炉整治。2026年12月底前完成燃煤锅炉淘汰改造。（自治区生态环境厅牵头，自治区发展改革委配合）
（二）加强扬尘管控。2026年6月底前出台施工扬尘管理办法。（自治区住房城乡建设厅牵头）
（三）强化监测能力。完善大气环境监测网络。（自治区生态环境厅负责）
"""


def revision_of(base: str, n: int) -> str:
    """A different revision of `base`: one measure reworded and one measure added, both numbered by n."""
    return base.replace("完善大气环境监测网络。", f"完善大气环境监测网络，第{n}批站点。") + (
        f"（四）开展第{n}项专项行动。2026年9月底前完成第{n}项专项行动。（自治区生态环境厅牵头）\n"
    )


@pytest.fixture(params=BACKENDS)
def committed_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A migrated database whose commits are real (no test transaction), on each backend."""
    for url in database_url_for(request.param, tmp_path):
        monkeypatch.setenv("DUBAN_DATABASE_URL", url)
        get_settings.cache_clear()
        dispose_engine()
        yield url
        dispose_engine()


def _office_token() -> str:
    with Session(get_engine()) as session:
        load_departments(session)
        office = create_user(session, "office-user", Role.office, None)
        session.commit()
        assert office.id is not None
        return create_access_token(office.id)


def _post_all(token: str, bodies: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Post every body at once (one thread each, released together); the answers in the bodies' order."""
    app = create_app()
    answers: list[tuple[int, dict[str, Any]]] = [(0, {})] * len(bodies)
    barrier = threading.Barrier(len(bodies))
    headers = {"Authorization": f"Bearer {token}"}

    def fire(index: int) -> None:
        with TestClient(app, raise_server_exceptions=False) as client:
            barrier.wait()
            response = client.post("/api/v1/plans", json=bodies[index], headers=headers)
        answers[index] = (response.status_code, response.json())

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def test_the_same_document_posted_at_once_never_answers_500(committed_url: str) -> None:
    token = _office_token()
    answers = _post_all(token, [{"text": BASE, "name": "攻坚方案.txt"}] * 8)
    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {200, 201, 409}, answers
    assert statuses[201] == 1, statuses
    plans = {body["plan"]["id"] for status, body in answers if status in (200, 201)}
    assert len(plans) == 1
    assert all(body["status"] == "unchanged" for status, body in answers if status == 200)
    with Session(get_engine()) as session:
        assert _count(session, Plan) == 1
        assert _count(session, Task) == 3
        assert _count(session, PlanRevision) == 1


def test_different_revisions_posted_at_once_are_serialised(committed_url: str) -> None:
    token = _office_token()
    (status, first), *_ = _post_all(token, [{"text": BASE}])
    assert status == 201, first
    plan_id = first["plan"]["id"]
    answers = _post_all(token, [{"text": revision_of(BASE, n)} for n in range(1, 5)])
    assert {status for status, _ in answers} == {201}, answers
    assert {body["status"] for _, body in answers} == {"revised"}
    assert {body["plan"]["id"] for _, body in answers} == {plan_id}
    assert sorted(body["revision"] for _, body in answers) == [2, 3, 4, 5]
    with Session(get_engine()) as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None and plan.revision == 5
        revisions = session.exec(
            select(PlanRevision.revision)
            .where(PlanRevision.plan_id == plan_id)
            .order_by(PlanRevision.revision)  # type: ignore[arg-type]
        ).all()
        assert list(revisions) == [1, 2, 3, 4, 5]
        assert revision_inconsistencies(session, plan_id) == []
        # Every revision changed (三) once: one measure_changed event per revision, each numbered once.
        changed = session.exec(select(TaskEvent).where(TaskEvent.kind == "measure_changed")).all()
        assert sorted(e.data["plan_revision"] for e in changed if e.data.get("path") == "一/(三)") == [
            2,
            3,
            4,
            5,
        ]
        # Each revision added its own (四) or replaced the one before: one live task per live measure.
        assert _count(session, Task) == 3 + 1
