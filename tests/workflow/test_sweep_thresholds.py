"""Per-date thresholds agree with counting working days one task at a time; reporting periods."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban.workflow.calendar import WorkingCalendar
from duban.workflow.sweep import Thresholds, period_containing, period_label, periods_of

CALENDAR = WorkingCalendar.from_bundled()
D = dt.date


@settings(max_examples=400, deadline=None)
@given(
    today=st.dates(D(2024, 1, 1), D(2026, 12, 31)),
    due=st.dates(D(2023, 10, 1), D(2027, 3, 1)),
    offset=st.integers(-12, 35).filter(lambda n: n != 0),
)
def test_threshold_matches_the_step_day_of_every_due_date(today: dt.date, due: dt.date, offset: int) -> None:
    thresholds = Thresholds(CALENDAR, today)
    step_day = CALENDAR.add_working_days(due, offset).date
    assert thresholds.has_come(due, offset) == (step_day <= today)


@pytest.mark.parametrize(
    ("today", "offset", "last_due"),
    [
        # 国庆 2025: 10-01..10-08 off. On 10-09, day 1 overdue covers every deadline up to 10-08.
        (D(2025, 10, 9), 1, D(2025, 10, 8)),
        # The 调休 Saturday 10-11 is the third working day after 09-30 and after every holiday deadline.
        (D(2025, 10, 11), 3, D(2025, 10, 8)),
        (D(2025, 10, 10), 3, D(2025, 9, 29)),
        # During the holiday nothing moves: the thresholds equal those of the last working day.
        (D(2025, 10, 5), 1, D(2025, 9, 29)),
        (D(2025, 9, 30), 1, D(2025, 9, 29)),
        # Five working days ahead of Wednesday 09-24 is Tuesday 09-30 (Sunday 09-28 works).
        (D(2025, 9, 24), -5, D(2025, 9, 30)),
    ],
)
def test_holidays_and_make_up_days(today: dt.date, offset: int, last_due: dt.date) -> None:
    assert Thresholds(CALENDAR, today).last_due(offset) == last_due


def test_no_threshold_moves_on_a_day_off() -> None:
    friday = Thresholds(CALENDAR, D(2025, 11, 14))
    saturday = Thresholds(CALENDAR, D(2025, 11, 15))
    sunday = Thresholds(CALENDAR, D(2025, 11, 16))
    for offset in (-5, -1, 1, 3, 30):
        assert friday.last_due(offset) == saturday.last_due(offset) == sunday.last_due(offset)


def test_offset_zero_is_not_a_step() -> None:
    with pytest.raises(ValueError):
        Thresholds(CALENDAR, D(2025, 1, 2)).last_due(0)


@pytest.mark.parametrize(
    ("frequency", "day", "key", "start", "end", "label"),
    [
        ("monthly", D(2025, 2, 14), "2025-02", D(2025, 2, 1), D(2025, 2, 28), "2025年2月"),
        ("monthly", D(2024, 12, 31), "2024-12", D(2024, 12, 1), D(2024, 12, 31), "2024年12月"),
        ("quarterly", D(2025, 8, 1), "2025-Q3", D(2025, 7, 1), D(2025, 9, 30), "2025年第三季度"),
        ("half_yearly", D(2025, 8, 1), "2025-H2", D(2025, 7, 1), D(2025, 12, 31), "2025年下半年"),
        ("yearly", D(2025, 8, 1), "2025", D(2025, 1, 1), D(2025, 12, 31), "2025年度"),
        ("weekly", D(2025, 10, 1), "2025-W40", D(2025, 9, 29), D(2025, 10, 5), "2025年第40周"),
    ],
)
def test_periods(frequency: str, day: dt.date, key: str, start: dt.date, end: dt.date, label: str) -> None:
    period = period_containing(frequency, day)
    assert (period.key, period.start, period.end, period.label) == (key, start, end, label)
    assert period_label(key) == label


@pytest.mark.parametrize("frequency", ["weekly", "monthly", "quarterly", "half_yearly", "yearly"])
def test_periods_of_a_window_are_consecutive(frequency: str) -> None:
    pairs = list(periods_of(frequency, D(2025, 12, 15)))
    assert pairs
    for (period, previous), (following, _) in itertools.pairwise(pairs):
        assert previous.end + dt.timedelta(days=1) == period.start
        assert period.end + dt.timedelta(days=1) == following.start
    assert pairs[-1][0].end <= D(2025, 12, 15) + dt.timedelta(days=31)
    assert pairs[0][0].end >= D(2025, 12, 15) - dt.timedelta(days=200)


def test_unknown_frequency() -> None:
    with pytest.raises(ValueError):
        period_containing("daily", D(2025, 1, 1))
