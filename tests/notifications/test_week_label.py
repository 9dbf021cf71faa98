"""The weekly summary is labelled with the ISO week whose dates it prints (the week it reports on)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from duban.notifications.digest import weekly_summary


@pytest.mark.parametrize(
    ("today", "label", "start", "end"),
    [
        (dt.date(2026, 11, 16), "2026年第46周", "2026-11-09", "2026-11-15"),
        (dt.date(2026, 11, 18), "2026年第46周", "2026-11-09", "2026-11-15"),
        (dt.date(2026, 1, 5), "2026年第1周", "2025-12-29", "2026-01-04"),  # ISO 2026-W01 starts in 2025
        (dt.date(2021, 1, 4), "2020年第53周", "2020-12-28", "2021-01-03"),
    ],
)
def test_the_label_names_the_reported_week(
    session: Session, today: dt.date, label: str, start: str, end: str
) -> None:
    summary = weekly_summary(session, today)
    assert (summary["week_label"], summary["start"], summary["end"]) == (label, start, end)
    assert dt.date.fromisoformat(start).isocalendar().week == int(label.split("第")[1].rstrip("周"))
