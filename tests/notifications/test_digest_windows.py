"""Digests keyed by department and day: a notice raised after today's digest goes into the next one, a
repeat after a crash says what the first attempt said, and (PostgreSQL) a notice still being written when
a digest is composed is not lost."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock
from duban.core.db import build_engine, session_scope
from duban.notifications.calendars import working_calendar
from duban.notifications.delivery import LEASE, claim, deliver_due, relay
from duban.notifications.digest import compose_digests, dispatch
from duban.notifications.messages import outbox_t
from duban.notifications.models import OutboxKind, OutboxStatus
from duban.tasks.departments import load_departments
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.policy import bundled_policy, task_t
from tests.conftest import database_url_for
from tests.notifications.conftest import mails
from tests.notifications.scenario import Scenario, at, deliver_at

D = dt.date


def _digests(scene: Scenario, who: str) -> list[list[tuple[str, str]]]:
    rows = scene.outbox(kind=OutboxKind.digest, department_id=scene.ids[who], channel="email")
    return [[(item["title"], item["step_label"]) for item in row.payload["items"]] for row in rows]


def test_a_notice_raised_after_todays_digest_goes_into_the_next_one(scene: Scenario) -> None:
    task = scene.task(D(2025, 10, 17), issued="2025-09-01T09:00", title="整治黑臭水体")
    scene.sweep("2025-10-13T00:05")
    deliver_at(scene, "2025-10-13T09:00")
    assert _digests(scene, "lead") == [[("整治黑臭水体", "临近提醒")]]
    scene.act(task, "submit", "lead", "2025-10-13T10:00")
    scene.act(task, "return", "office", "2025-10-13T10:30", reason="材料不全")
    scene.session.commit()
    # The dispatcher catches the two events up: the office had no digest today and gets one now; the
    # lead had one, so its 退回通知 waits for the next working day's.
    outcome = deliver_at(scene, "2025-10-13T15:00")
    assert (outcome["caught_up"], outcome["digests"]) == (2, 1)
    assert _digests(scene, "office")[-1] == [("整治黑臭水体", "办结待审核")]
    assert len(_digests(scene, "lead")) == 1
    scene.sweep("2025-10-14T00:05")
    deliver_at(scene, "2025-10-14T09:00")
    assert sorted(_digests(scene, "lead")[-1]) == [("整治黑臭水体", "临近提醒"), ("整治黑臭水体", "退回通知")]
    assert deliver_at(scene, "2025-10-14T16:00")["digests"] == 0


def test_a_repeat_after_a_crash_says_what_the_first_attempt_said(scene: Scenario, tmp_path: Path) -> None:
    task = scene.task(D(2025, 10, 17), issued="2025-09-01T09:00", title="整治黑臭水体")
    scene.sweep("2025-10-13T00:05")
    moment = at("2025-10-13T09:00")
    clock.set_now(moment)
    dispatch(scene.session, None, working_calendar(scene.session), bundled_policy())
    scene.session.commit()
    (digest,) = scene.outbox(kind=OutboxKind.digest, department_id=scene.ids["lead"], channel="email")
    assert digest.id is not None and "items" not in digest.payload  # composed: a window, nothing frozen
    with session_scope() as unit:  # a worker claims the digest and dies before it can say "sent"
        (claimed,), _ = claim(unit, [digest.id], moment)
    # Meanwhile the task is renamed and finished: rendered from the rows again, the digest would be empty.
    scene.session.execute(
        task_t.update().where(task_t.c.id == task).values(title="改名后的任务", state="completed")
    )
    scene.session.commit()
    later = moment + LEASE + dt.timedelta(seconds=1)
    assert digest.id in relay(scene.session, later)
    scene.session.commit()
    assert deliver_due(later)["sent"] >= 1
    (mail,) = [m for m in mails(tmp_path) if m["Message-ID"] == claimed.message_id]
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert mail["Subject"] == claimed.rendered.subject
    assert text.get_content().rstrip() == claimed.rendered.text.rstrip()
    assert html.get_content().rstrip() == claimed.rendered.html.rstrip()
    assert "整治黑臭水体" in claimed.rendered.text and "改名后的任务" not in claimed.rendered.text
    (done,) = scene.outbox(id=digest.id)
    assert (done.status, done.attempts) == (OutboxStatus.sent, 2)


def _notice(conn: sa.Connection, key: str, department: int, now: dt.datetime) -> int:
    values = {
        "dedupe_key": key,
        "kind": "notice",
        "department_id": department,
        "rule": "event",
        "step": "issue",
        "delivery": "digest",
        "channel": "email",
        "recipient": "a@example.gov.cn",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "payload": {},
        "last_error": "",
        "created_at": now,
    }
    return int(conn.execute(outbox_t.insert().values(**values).returning(outbox_t.c.id)).scalar_one())


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    yield from database_url_for("postgres", tmp_path)


def test_a_notice_committed_while_a_digest_is_composed_is_in_it(postgres_url: str) -> None:
    """PostgreSQL hands out ids before commit: a notice with a lower id than one already committed may
    commit later. Composing waits for it, so no digest window closes over a notice it did not see."""
    engine = build_engine(postgres_url)
    now = at("2025-10-13T09:00")
    with Session(engine) as session:
        load_departments(session)
        session.commit()
    with engine.begin() as conn:
        department = int(conn.execute(sa.text("SELECT min(id) FROM department")).scalar_one())
        first = _notice(conn, "n:first", department, now)
    slow = engine.connect()
    slow_write = slow.begin()
    straggler = _notice(slow, "n:straggler", department, now)  # written, not committed yet
    with engine.begin() as conn:
        later = _notice(conn, "n:later", department, now)  # a higher id, committed first
    composed: list[int] = []

    def compose() -> None:
        with Session(engine) as session:
            composed.extend(compose_digests(session, now, WorkingCalendar.from_bundled()))
            session.commit()

    worker = threading.Thread(target=compose)
    worker.start()
    time.sleep(1.0)
    assert worker.is_alive()  # waiting for the writer
    slow_write.commit()
    slow.close()
    worker.join(30)
    with engine.connect() as conn:
        (window,) = conn.execute(
            sa.select(outbox_t.c.items_after, outbox_t.c.items_through).where(outbox_t.c.id.in_(composed))
        ).all()
    engine.dispose()
    assert window.items_after == 0
    assert first < later and straggler < later <= window.items_through
