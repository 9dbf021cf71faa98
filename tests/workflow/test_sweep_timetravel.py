"""Time travel: one task from issue (2025-09-01) to the 问责 referral, swept twice a day for 80 days.

2025 calendar facts used: 国庆/中秋 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are 调休 working days.
Deadline Tuesday 09-30. Working days after it: 10-09 (1), 10-10 (2), 10-11 Saturday (3), 10-13 (4),
10-14 (5), 10-15 (6) … 10-21 (10) … 10-28 (15) … 11-18 (30).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from duban.core import clock
from duban.core.config import get_settings
from duban.notifications.models import OutboxKind, OutboxStatus
from duban.workflow.sweep import apply_ladder_action
from tests.notifications.scenario import Scenario, at, deliver_at, open_scenario, run_jobs

EXPECTED: dict[str, list[str]] = {
    "2025-09-05": ["accept:accept"],
    "2025-09-19": ["contribution:contribution_remind_3"],
    "2025-09-23": ["contribution:contribution_remind_1"],
    "2025-09-24": ["deadline:remind_5"],
    "2025-09-25": ["contribution:contribution_urge_1"],
    "2025-09-26": ["deadline:remind_3"],
    "2025-09-29": ["deadline:remind_1"],
    "2025-10-09": ["deadline:urge"],
    "2025-10-11": ["deadline:supervise_blue"],
    "2025-10-15": ["deadline:supervise_orange"],
    "2025-10-21": ["deadline:supervise_red"],
    "2025-10-28": ["deadline:propose_interview"],
    "2025-11-18": ["deadline:propose_accountability"],
}
LEVELS: dict[str, tuple[str, str | None]] = {
    "2025-09-05": ("reminded", None),
    "2025-10-09": ("urged", None),
    "2025-10-11": ("supervised", "blue"),
    "2025-10-15": ("supervised", "orange"),
    "2025-10-21": ("supervised", "red"),
}


@pytest.fixture
def scene(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scenario]:
    monkeypatch.setenv("DUBAN_MAIL_DIR", str(tmp_path / "mail"))
    monkeypatch.setenv("DUBAN_BASE_URL", "https://duban.example.gov.cn")
    get_settings.cache_clear()
    yield from open_scenario(session)


def _mails(folder: Path) -> list[email.message.Message]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def test_one_task_from_issue_to_accountability(scene: Scenario, tmp_path: Path) -> None:
    task_id = scene.task(dt.date(2025, 9, 30), issued="2025-09-01T09:00", accept=False)
    run_jobs(scene, "2025-09-01T09:30")
    raised: dict[str, list[str]] = defaultdict(list)
    levels: dict[str, tuple[str, str | None]] = {}
    day = dt.date(2025, 9, 1)
    while day <= dt.date(2025, 11, 20):
        # On the days a step falls due, a midnight sweep raises it and the 09:00 sweep must add nothing.
        for hour in ("00:05", "09:00") if day.isoformat() in EXPECTED else ("09:00",):
            result = scene.sweep(f"{day.isoformat()}T{hour}")
            for step, count in result.by_step.items():
                raised[day.isoformat()] += [step] * count
        if day == dt.date(2025, 9, 8):
            scene.act(task_id, "accept", "lead", "2025-09-08T10:00")
        if day == dt.date(2025, 10, 29):
            # The office confirms the proposed 约谈; the scheduler never takes that step itself.
            clock.set_now(at("2025-10-29T10:00"))
            apply_ladder_action(
                scene.session, task_id, "interview", scene.actor("office"), reason="经研究同意约谈"
            )
            scene.session.commit()
        if day == dt.date(2025, 11, 19):
            clock.set_now(at("2025-11-19T10:00"))
            apply_ladder_action(
                scene.session, task_id, "hold_accountable", scene.actor("office"), reason="移交"
            )
            scene.session.commit()
        run_jobs(scene, f"{day.isoformat()}T10:30")
        deliver_at(scene, f"{day.isoformat()}T10:30")
        levels[day.isoformat()] = scene.level(task_id)
        day += dt.timedelta(days=1)

    assert dict(raised) == EXPECTED
    notices = [row for row in scene.outbox(kind=OutboxKind.notice) if row.rule != "event"]
    assert Counter((row.rule, row.step) for row in notices).most_common(1)[0][1] == 1  # each notice once
    for when, level in LEVELS.items():
        assert levels[when] == level, when
    assert levels["2025-10-10"] == ("urged", None)
    assert levels["2025-10-29"] == ("interviewed", "red")
    assert levels["2025-11-19"] == ("accountability", "red")
    scheduler_moves = [
        (e.kind, e.from_level, e.to_level) for e in scene.events(task_id) if e.actor_label.startswith("调度")
    ]
    assert scheduler_moves == [
        ("remind", "none", "reminded"),
        ("urge", "reminded", "urged"),
        ("supervise", "urged", "supervised"),
        ("supervise", "supervised", "supervised"),
        ("supervise", "supervised", "supervised"),
    ]
    # 约谈 and 问责 reach the lead at once after the office confirms them.
    confirmations = [
        row for row in scene.outbox(rule="event") if row.step in ("interview", "hold_accountable")
    ]
    assert [(row.step, row.delivery, row.department_id) for row in confirmations] == [
        ("interview", "immediate", scene.ids["lead"]),
        ("hold_accountable", "immediate", scene.ids["lead"]),
    ]
    proposals = scene.outbox(step="propose_interview") + scene.outbox(step="propose_accountability")
    assert {row.department_id for row in proposals} == {scene.ids["office"]}

    mails = _mails(tmp_path / "mail")
    by_subject = Counter(str(mail["Subject"]).split("】")[0] + "】" for mail in mails)
    assert (
        by_subject["【督办单（蓝）】"]
        == by_subject["【督办单（橙）】"]
        == by_subject["【督办单（红）】"]
        == 1
    )
    assert by_subject["【约谈建议】"] == by_subject["【问责建议】"] == 1
    assert by_subject["【约谈通知】"] == by_subject["【问责通知】"] == 1
    assert len({mail["Message-ID"] for mail in mails}) == len(mails)
    sent = [row for row in scene.outbox() if row.status == OutboxStatus.sent]
    assert len(sent) == len(mails)
    dates = {
        str(mail["Subject"]).split("】")[0] + "】": email.utils.parsedate_to_datetime(mail["Date"])
        for mail in mails
    }
    blue = dates["【督办单（蓝）】"].astimezone(clock.TZ)
    assert (blue.date(), blue.weekday()) == (dt.date(2025, 10, 11), 5)  # the 调休 Saturday
    # Nothing was written or sent during the 国庆 week.
    holiday = [
        row
        for row in scene.outbox()
        if dt.date(2025, 10, 1) <= row.created_at.astimezone(clock.TZ).date() <= dt.date(2025, 10, 8)
        or (
            row.sent_at
            and dt.date(2025, 10, 1) <= row.sent_at.astimezone(clock.TZ).date() <= dt.date(2025, 10, 8)
        )
    ]
    assert holiday == []
    # Every message links to the task page.
    blue_mail = next(mail for mail in mails if str(mail["Subject"]).startswith("【督办单（蓝）】"))
    html = next(part for part in blue_mail.walk() if part.get_content_type() == "text/html").get_payload(
        decode=True
    )
    assert f"https://duban.example.gov.cn/tasks/{task_id}".encode() in html
