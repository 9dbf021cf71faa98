"""Whom a sweep's notices go to, and on which channels: leads, the office, a missing office, a task without a
lead, a department without a mail address or with an empty webhook; and (PostgreSQL) that the planner
expects about as many addressed notices as there are, so it never joins the channels row by row."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from duban.core.db import build_engine
from duban.tasks.models import Department
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.policy import RULE_DEADLINE, bundled_policy
from duban.workflow.sweep import RuleContext, Thresholds, notice_queries
from tests.conftest import database_url_for
from tests.notifications.scenario import Scenario, at, build_scenario, open_scenario, recording_jobs

D = dt.date
DEADLINE = D(2025, 9, 30)


@pytest.fixture
def scene(session: Session) -> Iterator[Scenario]:
    yield from open_scenario(session)


def _addressed(scene: Scenario, task_id: int) -> list[tuple[str, int | None, str, str]]:
    """(step, department, channel, recipient) of the task's deadline notices, in insertion order."""
    return [
        (row.step, row.department_id, row.channel, row.recipient)
        for row in scene.outbox(task_id=task_id, rule=RULE_DEADLINE)
    ]


def test_without_the_office_in_the_registry_office_steps_go_nowhere(scene: Scenario) -> None:
    task = scene.task(DEADLINE, issued="2025-09-01T09:00")
    scene.session.execute(
        sa.update(Department).where(col(Department.id) == scene.ids["office"]).values(code="gone")
    )
    scene.sweep("2025-10-09T09:00")  # 催办, to the lead
    scene.sweep("2025-10-28T09:00")  # 约谈 proposal, to the office: there is none
    lead = scene.ids["lead"]
    assert _addressed(scene, task) == [("urge", lead, "email", "sthjt@duban.example")]


def test_a_task_without_a_lead_still_reaches_the_office(scene: Scenario) -> None:
    task = scene.task(DEADLINE, issued="2025-09-01T09:00")
    scene.session.execute(
        sa.text("DELETE FROM task_assignment WHERE task_id = :t AND role = 'lead'"), {"t": task}
    )
    scene.sweep("2025-10-09T09:00")  # 催办: nobody to send it to
    scene.sweep("2025-10-28T09:00")
    office = scene.ids["office"]
    assert [row[:3] for row in _addressed(scene, task)] == [("propose_interview", office, "email")]


def test_no_mail_address_and_an_empty_webhook_give_one_mail_row_to_nobody(scene: Scenario) -> None:
    scene.session.execute(
        sa.update(Department).where(col(Department.id) == scene.ids["lead"]).values(email=None, webhook="")
    )
    task = scene.task(DEADLINE, issued="2025-09-01T09:00")
    scene.sweep("2025-10-09T09:00")
    assert _addressed(scene, task) == [("urge", scene.ids["lead"], "email", "")]


def _plan_rows(plan: dict[str, Any]) -> tuple[float, float]:
    return float(plan["Plan Rows"]), float(plan["Actual Rows"]) * float(plan["Actual Loops"])


@pytest.fixture
def analysed(tmp_path: Path) -> Iterator[Session]:
    """A PostgreSQL database of its own, as its owner (ANALYZE needs it), with the rows committed."""
    urls = database_url_for("postgres", tmp_path, as_owner=True)
    engine = build_engine(next(urls))
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
        next(urls, None)


def test_the_planner_expects_the_addressed_notices_there_are(analysed: Session) -> None:
    scene = build_scenario(analysed)
    with recording_jobs(scene.sent_jobs):
        tasks = [scene.task(DEADLINE, issued="2025-09-01T09:00") for _ in range(60)]
    analysed.commit()
    conn = analysed.connection()
    conn.exec_driver_sql("ANALYZE task, task_assignment")
    today = at("2025-10-28T09:00").date()
    context = RuleContext(
        bundled_policy(), Thresholds(WorkingCalendar.from_bundled(), today), "postgresql", scene.ids["office"]
    )
    (deadline,) = [query for query in notice_queries(context) if query.rule == RULE_DEADLINE]
    statement = deadline.select.compile(conn, compile_kwargs={"render_postcompile": True})
    (row,) = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", statement.params).one()
    plan = (json.loads(row) if isinstance(row, str) else row)[0]["Plan"]
    expected, actual = _plan_rows(plan)
    assert actual == len(tasks)  # one 约谈 proposal each, to the office
    # With filters on the computed step (no statistics: half a percent per name) this was 1 for 60 rows.
    assert expected >= actual / 4
