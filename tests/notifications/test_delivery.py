"""Delivery: office hours on working days only, retries with backoff, leases after a crash, digests,
the weekly summary."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col

from duban.core import clock
from duban.core.config import get_settings
from duban.core.db import session_scope
from duban.notifications.delivery import LEASE, MAX_ATTEMPTS, claim, deliver_due, relay
from duban.notifications.events import notify_task_event
from duban.notifications.messages import outbox_t, shown_status
from duban.notifications.models import NotificationOutbox, OutboxKind, OutboxStatus
from duban.tasks.models import Department
from duban.workflow.sweep import apply_ladder_action
from tests.fixtures.services import SmtpCatcher
from tests.notifications.conftest import Robot, mails
from tests.notifications.scenario import Scenario, at, deliver_at

D = dt.date


def _office_supervises(scene: Scenario, task_id: int, moment: str) -> NotificationOutbox:
    """The office issues a 督办单 by hand; its notice is immediate."""
    clock.set_now(at(moment))
    outcome = apply_ladder_action(
        scene.session, task_id, "supervise", scene.actor("office"), reason="专项督办"
    )
    scene.session.commit()
    notify_task_event(scene.session, outcome.event_id)
    scene.session.commit()
    (row,) = scene.outbox(task_id=task_id, rule="event", step="supervise")
    return row


def _office_supervises_again(scene: Scenario, task_id: int, moment: str) -> int:
    clock.set_now(at(moment))
    outcome = apply_ladder_action(scene.session, task_id, "supervise", scene.actor("office"))
    notify_task_event(scene.session, outcome.event_id)
    scene.session.commit()
    row = scene.outbox(task_id=task_id, rule="event", step="supervise")[-1]
    assert row.id is not None and row.payload["colour"] == "orange"
    return row.id


def test_nothing_leaves_on_a_holiday_or_outside_office_hours(scene: Scenario, tmp_path: Path) -> None:
    task = scene.task(D(2025, 12, 31), issued="2025-09-01T09:00")
    row = _office_supervises(scene, task, "2025-10-03T10:00")  # 国庆
    assert row.delivery == "immediate" and row.urgency == 3
    for moment in ("2025-10-03T10:00", "2025-10-08T15:00", "2025-10-09T07:59"):
        deliver_at(scene, moment)
        assert mails(tmp_path) == [], moment
    (waiting,) = scene.outbox(task_id=task, rule="event")
    assert waiting.status == OutboxStatus.pending
    assert waiting.next_attempt_at.astimezone(clock.TZ) == at("2025-10-09T08:00")
    deliver_at(scene, "2025-10-09T08:00")
    (mail,) = [m for m in mails(tmp_path) if not m["Subject"].startswith("【每周督办汇总】")]
    assert mail["Subject"].startswith("【督办单（蓝）】")
    assert "委员会办公室发出督办单（蓝）" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    evening = _office_supervises_again(scene, task, "2025-10-09T18:00")  # office hours end at 18:00
    before = len(mails(tmp_path))
    deliver_at(scene, "2025-10-09T18:00")
    assert len(mails(tmp_path)) == before
    assert scene.outbox(id=evening)[0].next_attempt_at.astimezone(clock.TZ) == at("2025-10-10T08:00")


def test_failures_retry_with_backoff_and_keep_the_message_id(
    scene: Scenario, smtp_server: SmtpCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBAN_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("DUBAN_SMTP_PORT", "9")  # nobody listens: refused
    get_settings.cache_clear()
    task = scene.task(D(2025, 12, 31), issued="2025-09-01T09:00")
    row = _office_supervises(scene, task, "2025-10-13T10:00")
    start = at("2025-10-13T10:00")
    assert deliver_due(start)["retry"] == 1
    first = scene.outbox(id=row.id)[0]
    assert (first.status, first.attempts) == (OutboxStatus.pending, 1)
    assert first.next_attempt_at == start + dt.timedelta(minutes=1)
    assert "SMTP" in first.last_error
    assert deliver_due(start + dt.timedelta(seconds=30)) == {}  # not due yet
    assert deliver_due(start + dt.timedelta(minutes=1))["retry"] == 1
    assert scene.outbox(id=row.id)[0].next_attempt_at == start + dt.timedelta(minutes=3)  # then 2 minutes
    monkeypatch.setenv("DUBAN_SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    assert deliver_due(start + dt.timedelta(minutes=3))["sent"] == 1
    done = scene.outbox(id=row.id)[0]
    assert (done.status, done.attempts) == (OutboxStatus.sent, 3)
    (received,) = smtp_server.messages
    assert received["Message-ID"] == first.message_id == done.message_id


def test_gives_up_after_the_last_attempt(scene: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("DUBAN_SMTP_PORT", "9")
    get_settings.cache_clear()
    task = scene.task(D(2025, 12, 31), issued="2025-09-01T09:00")
    row = _office_supervises(scene, task, "2025-10-13T09:00")
    scene.session.execute(
        sa.update(NotificationOutbox)
        .where(col(NotificationOutbox.id) == row.id)
        .values(attempts=MAX_ATTEMPTS - 1)
    )
    scene.session.commit()
    assert deliver_due(at("2025-10-13T09:00"))["failed"] == 1
    assert scene.outbox(id=row.id)[0].status == OutboxStatus.failed


def test_a_crash_mid_send_is_sent_again_with_the_same_message_id(scene: Scenario, tmp_path: Path) -> None:
    task = scene.task(D(2025, 12, 31), issued="2025-09-01T09:00")
    row = _office_supervises(scene, task, "2025-10-13T10:00")
    assert row.id is not None
    with session_scope() as unit:  # a worker claims the row and dies before it can say "sent"
        (claimed,), _ = claim(unit, [row.id], at("2025-10-13T10:00"))
    held = scene.outbox(id=row.id)[0]
    assert held.status == OutboxStatus.sending
    assert deliver_due(at("2025-10-13T10:01")) == {}  # in someone's hands until the lease ends
    clock.set_now(at("2025-10-13T10:02"))
    assert relay(scene.session, at("2025-10-13T10:02")) == []
    later = at("2025-10-13T10:00") + LEASE + dt.timedelta(seconds=1)
    assert relay(scene.session, later) == [row.id]
    scene.session.commit()
    assert scene.sent_jobs[-1] == ("duban.deliver", (row.id,))
    assert deliver_due(later)["sent"] == 1
    (mail,) = mails(tmp_path)
    assert mail["Message-ID"] == claimed.message_id == held.message_id
    assert scene.outbox(id=row.id)[0].attempts == 2


def test_one_digest_per_department_per_day_with_supervision_on_top(scene: Scenario, tmp_path: Path) -> None:
    near = scene.task(D(2025, 10, 17), issued="2025-09-01T09:00", title="整治黑臭水体")
    late = scene.task(D(2025, 10, 10), issued="2025-09-01T09:00", title="淘汰燃煤锅炉")
    later = scene.task(D(2025, 9, 30), issued="2025-09-01T09:00", title="治理扬尘")
    scene.sweep("2025-10-13T00:05")
    outcome = deliver_at(scene, "2025-10-13T09:00")
    assert outcome["digests"] == 2  # the lead, and the cooperating unit (contribution reminders)
    assert deliver_at(scene, "2025-10-13T15:00")["digests"] == 0  # once a day
    digests = scene.outbox(kind=OutboxKind.digest)
    lead_digest = next(row for row in digests if row.department_id == scene.ids["lead"])
    titles = [item["title"] for item in lead_digest.payload["items"]]
    assert titles == ["治理扬尘", "淘汰燃煤锅炉", "整治黑臭水体"]  # blue, 催办, 提醒
    written = mails(tmp_path)
    digest_mail = next(
        m for m in written if m["Subject"].startswith("【每日督办摘要】") and m["To"] == "sthjt@duban.example"
    )
    text = digest_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert (
        text.index("督办事项") < text.index("治理扬尘") < text.index("催办事项") < text.index("淘汰燃煤锅炉")
    )
    # The items are not written on: they are found by the digest's window, and shown as in a digest.
    assert {row.status for row in scene.outbox(task_id=near, rule="deadline")} == {OutboxStatus.pending}
    shown = sa.select(shown_status()).where(outbox_t.c.task_id == near, outbox_t.c.rule == "deadline")
    assert set(scene.session.execute(shown).scalars()) == {OutboxStatus.digested.value}
    assert [row.status for row in scene.outbox(task_id=later, rule="deadline")] == [OutboxStatus.sent]
    # The next notice waits for the next day's digest; a task finished meanwhile leaves the ladder, and
    # its 报送 (to the office) and 销号 (to the lead) are told — by the dispatcher's catch-up here, since
    # this test never ran the events' own jobs.
    scene.sweep("2025-10-14T00:05")
    scene.act(late, "submit", "lead", "2025-10-14T07:00")
    scene.act(late, "approve", "office", "2025-10-14T07:30")
    assert deliver_at(scene, "2025-10-14T09:00")["caught_up"] == 2
    second = [row for row in scene.outbox(kind=OutboxKind.digest) if row.id not in {d.id for d in digests}]
    items = [(item["title"], item["step_label"]) for row in second for item in row.payload["items"]]
    assert sorted(items) == [
        ("整治黑臭水体", "临近提醒"),
        ("淘汰燃煤锅炉", "办结待审核"),
        ("淘汰燃煤锅炉", "销号通知"),
    ]


def test_weekly_summary_for_the_office_once_a_week(scene: Scenario, tmp_path: Path) -> None:
    scene.task(D(2025, 9, 30), issued="2025-09-01T09:00")
    scene.task(D(2025, 12, 31), issued="2025-09-01T09:00")
    scene.sweep("2025-10-13T00:05")
    deliver_at(scene, "2025-10-13T09:00")  # Monday
    deliver_at(scene, "2025-10-14T09:00")
    (weekly,) = scene.outbox(kind=OutboxKind.weekly)
    assert weekly.department_id == scene.ids["office"]
    assert (weekly.payload["open_tasks"], weekly.payload["overdue_tasks"]) == (2, 1)
    assert weekly.payload["departments"] == [{"name": "自治区生态环境厅", "overdue": 1}]
    mail = next(m for m in mails(tmp_path) if m["Subject"].startswith("【每周督办汇总】"))
    assert mail["To"] == "sthbwbgs@duban.example"
    deliver_at(scene, "2025-10-20T09:00")
    assert len(scene.outbox(kind=OutboxKind.weekly)) == 2


def test_a_robot_gets_its_own_signed_message(scene: Scenario, robot: tuple[str, type[Robot]]) -> None:
    url, handler = robot
    scene.session.execute(
        sa.update(Department)
        .where(col(Department.id) == scene.ids["lead"])
        .values(webhook=url, webhook_secret="robot-secret")
    )
    task = scene.task(D(2025, 9, 30), issued="2025-09-01T09:00", title="燃煤锅炉<b>整治</b>")
    scene.sweep("2025-10-11T09:00")
    outcome = deliver_at(scene, "2025-10-11T09:30")
    assert outcome["sent"] >= 2  # the 督办单 by mail and by robot (and the week's summary)
    ((_, headers, body),) = handler.received
    payload = json.loads(body)
    assert payload["title"].startswith("【督办单（蓝）】")
    assert "燃煤锅炉＜b＞整治＜/b＞" in payload["markdown"]  # robots get no live markup from a title
    expected = hmac.new(b"robot-secret", headers["X-Duban-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["X-Duban-Signature"] == f"sha256={expected.hexdigest()}"
    webhook_row = [row for row in scene.outbox(task_id=task) if row.channel == "webhook"]
    assert [row.status for row in webhook_row] == [OutboxStatus.sent]
    assert headers["X-Duban-Message-Id"] == webhook_row[0].message_id


def test_an_event_whose_job_was_lost_is_told_by_the_dispatcher_once(scene: Scenario) -> None:
    task = scene.task(D(2025, 12, 31), issued="2025-10-09T09:00")
    scene.session.commit()
    scene.sent_jobs.clear()  # the broker was down: none of these jobs reached a worker
    scene.act(task, "submit", "lead", "2025-10-13T10:00")
    scene.session.commit()
    assert scene.sent_jobs  # queued after commit, then lost with the broker
    assert deliver_at(scene, "2025-10-13T10:02")["caught_up"] == 0  # the job's own grace period
    assert scene.outbox(task_id=task, rule="event", step="submit") == []
    assert deliver_at(scene, "2025-10-13T10:06")["caught_up"] == 1
    (notice,) = scene.outbox(task_id=task, rule="event", step="submit")
    assert notice.department_id is not None and notice.payload["headline"].startswith("牵头单位已报送办结")
    assert deliver_at(scene, "2025-10-13T10:07")["caught_up"] == 0  # never twice
    # The sweep's own events carry their notices already; the catch-up leaves them alone.
    late = scene.task(D(2025, 12, 31), issued="2026-01-04T09:00")
    scene.sweep("2026-01-05T00:05")
    assert scene.events(late, "urge", "supervise")
    assert (
        deliver_at(scene, "2026-01-05T10:00")["caught_up"] == 1
    )  # only the 交办 of `late` (签收 tells nobody)
