"""The working-day calendar: announced notices, recorded history, estimates, arithmetic, the YAML loader."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban.workflow.calendar import (
    RECORDED_YEARS,
    CalendarError,
    ScheduleKind,
    WorkingCalendar,
    WorkingDayResult,
    YearSchedule,
    bundled_schedules,
    load_schedule_file,
    package_differences,
    parse_schedule,
)

D = dt.date

# The notices as published (国办发明电〔2023〕7号, 〔2024〕12号, and the 2026 notice of 2025-11-04),
# typed in independently of data/schedules.yaml: (days-off ranges, 调休 make-up working days).
NOTICES: dict[int, tuple[list[tuple[D, D]], list[D]]] = {
    2024: (
        [
            (D(2024, 1, 1), D(2024, 1, 1)),
            (D(2024, 2, 10), D(2024, 2, 17)),
            (D(2024, 4, 4), D(2024, 4, 6)),
            (D(2024, 5, 1), D(2024, 5, 5)),
            (D(2024, 6, 10), D(2024, 6, 10)),
            (D(2024, 9, 15), D(2024, 9, 17)),
            (D(2024, 10, 1), D(2024, 10, 7)),
        ],
        [
            D(2024, 2, 4),
            D(2024, 2, 18),
            D(2024, 4, 7),
            D(2024, 4, 28),
            D(2024, 5, 11),
            D(2024, 9, 14),
            D(2024, 9, 29),
            D(2024, 10, 12),
        ],
    ),
    2025: (
        [
            (D(2025, 1, 1), D(2025, 1, 1)),
            (D(2025, 1, 28), D(2025, 2, 4)),
            (D(2025, 4, 4), D(2025, 4, 6)),
            (D(2025, 5, 1), D(2025, 5, 5)),
            (D(2025, 5, 31), D(2025, 6, 2)),
            (D(2025, 10, 1), D(2025, 10, 8)),
        ],
        [D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)],
    ),
    2026: (
        [
            (D(2026, 1, 1), D(2026, 1, 3)),
            (D(2026, 2, 15), D(2026, 2, 23)),
            (D(2026, 4, 4), D(2026, 4, 6)),
            (D(2026, 5, 1), D(2026, 5, 5)),
            (D(2026, 6, 19), D(2026, 6, 21)),
            (D(2026, 9, 25), D(2026, 9, 27)),
            (D(2026, 10, 1), D(2026, 10, 7)),
        ],
        [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)],
    ),
}

# A made-up 2027 notice for the tests (the real one is not out yet).
NOTICE_2027 = """\
year: 2027
source: 国务院办公厅关于2027年部分节假日安排的通知（测试用）
published: 2026-11-05
holidays:
  - {name: 元旦, start: 2027-01-01, end: 2027-01-03}
  - {name: 春节, start: 2027-02-05, end: 2027-02-12}
  - {name: 国庆节, start: 2027-10-01, end: 2027-10-07}
workdays: [2027-02-20, 2027-09-26, 2027-10-09]
"""


def days_of(year: int) -> Iterator[D]:
    """Every date of a year."""
    day = D(year, 1, 1)
    while day.year == year:
        yield day
        day += dt.timedelta(days=1)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    """The bundled calendar."""
    return WorkingCalendar.from_bundled()


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_bundled_year_matches_the_notice_day_by_day(cal: WorkingCalendar, year: int) -> None:
    ranges, makeup = NOTICES[year]
    off = {day for start, end in ranges for day in days_of(year) if start <= day <= end}
    for day in days_of(year):
        expected = day in makeup or (day.weekday() < 5 and day not in off)
        assert cal.is_working_day(day) is expected, day
        assert not cal.is_estimated(day)
    assert cal.kind_of_year(year) is ScheduleKind.ANNOUNCED
    assert all(day.weekday() >= 5 for day in makeup)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 9, 28), True),  # 星期日调休上班
        *((D(2025, 10, d), False) for d in range(1, 9)),  # 国庆节、中秋节 8 天
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),  # 星期六调休上班
        (D(2026, 2, 14), True),  # 星期六调休上班
        (D(2026, 2, 15), False),
        (D(2026, 2, 23), False),  # 星期一，正月初七
        (D(2026, 2, 24), True),
        (D(2024, 2, 9), True),  # 2024 年除夕只是“鼓励安排休息”，仍是工作日
        (D(2026, 1, 4), True),
        (D(2025, 12, 31), True),
    ],
)
def test_notable_days(cal: WorkingCalendar, day: D, working: bool) -> None:
    assert cal.is_working_day(day) is working


@pytest.mark.parametrize("schedule", bundled_schedules(), ids=lambda s: str(s.year))
def test_bundled_table_agrees_with_the_holidays_package(schedule: YearSchedule) -> None:
    assert package_differences(schedule) == []
    assert schedule.source.startswith("国务院办公厅关于")


def test_bundled_sources_name_the_verified_documents() -> None:
    documents = {s.year: s.document for s in bundled_schedules()}
    assert documents == {2024: "国办发明电〔2023〕7号", 2025: "国办发明电〔2024〕12号", 2026: None}


def test_adding_across_national_day_week(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2025, 9, 30), 1) == WorkingDayResult(D(2025, 10, 9), False)
    assert cal.add_working_days(D(2025, 9, 26), 1).date == D(2025, 9, 28)  # Sunday make-up day
    assert cal.add_working_days(D(2025, 9, 26), 4).date == D(2025, 10, 9)
    assert cal.add_working_days(D(2025, 10, 3), 1).date == D(2025, 10, 9)  # from inside the holiday
    assert cal.add_working_days(D(2024, 9, 27), 1).date == D(2024, 9, 29)


def test_adding_lands_on_a_makeup_saturday(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2025, 10, 10), 1).date == D(2025, 10, 11)
    assert cal.add_working_days(D(2026, 2, 13), 1).date == D(2026, 2, 14)
    assert cal.add_working_days(D(2026, 2, 13), 2).date == D(2026, 2, 24)
    assert cal.add_working_days(D(2024, 5, 10), 1).date == D(2024, 5, 11)


def test_negative_offsets(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2025, 10, 9), -1).date == D(2025, 9, 30)
    assert cal.add_working_days(D(2025, 10, 13), -1).date == D(2025, 10, 11)
    assert cal.add_working_days(D(2025, 10, 13), -2).date == D(2025, 10, 10)
    assert cal.add_working_days(D(2025, 10, 5), -1).date == D(2025, 9, 30)
    assert cal.add_working_days(D(2025, 10, 9), -5).date == D(2025, 9, 25)
    assert cal.previous_working_day(D(2026, 2, 24)) == D(2026, 2, 14)


def test_zero_offset_rolls_forward_only_from_a_day_off(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2025, 9, 30), 0).date == D(2025, 9, 30)
    assert cal.add_working_days(D(2025, 10, 3), 0).date == D(2025, 10, 9)
    assert cal.add_working_days(D(2025, 3, 2), 0).date == D(2025, 3, 3)
    assert cal.add_working_days(D(2025, 9, 28), 0).date == D(2025, 9, 28)


def test_next_working_day_is_strictly_after(cal: WorkingCalendar) -> None:
    assert cal.next_working_day(D(2025, 9, 30)) == D(2025, 10, 9)
    assert cal.next_working_day(D(2025, 3, 3)) == D(2025, 3, 4)
    assert cal.next_working_day(D(2024, 12, 31)) == D(2025, 1, 2)


def test_working_days_between(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(D(2025, 9, 30), D(2025, 10, 9)) == 1
    assert cal.working_days_between(D(2025, 10, 9), D(2025, 9, 30)) == -1
    assert cal.working_days_between(D(2025, 10, 3), D(2025, 10, 3)) == 0
    # deadline Friday 2025-09-26, today 2025-10-09: overdue on 9/28, 9/29, 9/30 and 10/9
    assert cal.working_days_between(D(2025, 9, 26), D(2025, 10, 9)) == 4
    assert cal.working_days_between(D(2025, 10, 2), D(2025, 10, 8)) == 0
    assert cal.working_days_between(D(2024, 1, 1), D(2024, 12, 31)) == 251


def test_working_days_in_a_closed_range(cal: WorkingCalendar) -> None:
    expected = [D(2025, 9, 26), D(2025, 9, 28), D(2025, 9, 29), D(2025, 9, 30)]
    expected += [D(2025, 10, 9), D(2025, 10, 10), D(2025, 10, 11)]
    assert cal.working_days_in(D(2025, 9, 26), D(2025, 10, 12)) == expected
    assert cal.working_days_in(D(2025, 10, 12), D(2025, 9, 26)) == []
    assert cal.working_days_in(D(2025, 10, 1), D(2025, 10, 8)) == []
    assert len(cal.working_days_in(D(2024, 12, 1), D(2026, 1, 31))) == 22 + 248 + 21


def test_resolve_within_counts_from_the_day_after_the_start(cal: WorkingCalendar) -> None:
    assert cal.resolve_within(D(2025, 9, 30), 5) == D(2025, 10, 14)
    assert cal.resolve_within(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert cal.resolve_within(D(2026, 2, 14), 3) == D(2026, 2, 26)  # received on a make-up Saturday
    assert cal.resolve_within(D(2025, 10, 4), 1) == D(2025, 10, 9)  # received during the holiday
    for bad in (0, -3):
        with pytest.raises(CalendarError) as caught:
            cal.resolve_within(D(2025, 9, 30), bad)
        assert caught.value.code == "calendar_invalid_count"


def test_a_year_without_a_notice_is_estimated(cal: WorkingCalendar) -> None:
    assert cal.kind_of_year(2027) is ScheduleKind.ESTIMATED
    assert cal.is_estimated(D(2027, 3, 1))
    assert not cal.is_estimated(D(2026, 12, 31))
    # statutory days off and the weekend holidays moved on, but no make-up Saturday is known
    assert not cal.is_working_day(D(2027, 2, 5))  # 除夕
    assert not cal.is_working_day(D(2027, 2, 10))
    assert not cal.is_working_day(D(2027, 10, 5))
    assert cal.is_working_day(D(2027, 10, 6))
    assert not cal.is_working_day(D(2027, 10, 9))


def test_results_touching_an_estimated_year_are_flagged(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2026, 12, 1), 5).estimated is False
    crossing = cal.add_working_days(D(2026, 12, 28), 5)
    assert crossing == WorkingDayResult(D(2027, 1, 5), True)
    assert cal.add_working_days(D(2027, 1, 5), -5).estimated is True
    assert cal.add_working_days(D(2027, 1, 4), 0).estimated is True
    assert cal.is_span_estimated(D(2025, 1, 1), D(2027, 1, 1))
    assert not cal.is_span_estimated(D(2026, 12, 31), D(2024, 1, 1))


def test_history_comes_from_the_recorded_notices(cal: WorkingCalendar) -> None:
    assert cal.kind_of_year(2023) is ScheduleKind.RECORDED
    assert not cal.is_estimated(D(2023, 6, 1))
    assert cal.is_working_day(D(2023, 1, 28))  # Saturday make-up day for 春节 2023
    assert cal.is_working_day(D(2023, 10, 7))
    assert not cal.is_working_day(D(2023, 1, 27))
    assert not cal.is_working_day(D(2023, 10, 6))
    assert cal.is_working_day(D(2001, 12, 29))  # make-up day of the 2002 notice
    assert cal.kind_of_year(RECORDED_YEARS.start - 1) is ScheduleKind.ESTIMATED
    assert cal.add_working_days(D(2023, 12, 29), 1) == WorkingDayResult(D(2024, 1, 2), False)


def test_a_loaded_2027_notice_wins_over_the_estimate(tmp_path: Path, cal: WorkingCalendar) -> None:
    path = tmp_path / "2027.yaml"
    path.write_text(NOTICE_2027, encoding="utf-8")
    notice = load_schedule_file(path)
    loaded = WorkingCalendar.from_bundled([notice])
    assert loaded.kind_of_year(2027) is ScheduleKind.ANNOUNCED
    assert not loaded.is_estimated(D(2027, 10, 9))
    assert loaded.is_working_day(D(2027, 10, 9)) and not cal.is_working_day(D(2027, 10, 9))
    assert not loaded.is_working_day(D(2027, 10, 6)) and cal.is_working_day(D(2027, 10, 6))
    assert loaded.is_working_day(D(2027, 2, 20))
    assert loaded.add_working_days(D(2027, 9, 30), 1) == WorkingDayResult(D(2027, 10, 8), False)
    assert loaded.add_working_days(D(2026, 12, 28), 5) == WorkingDayResult(D(2027, 1, 5), False)
    differences = {d.date for d in package_differences(notice)}
    assert {D(2027, 10, 6), D(2027, 10, 9), D(2027, 2, 20)} <= differences


def test_a_later_schedule_replaces_an_earlier_one_for_the_same_year() -> None:
    bundled_2026 = next(s for s in bundled_schedules() if s.year == 2026)
    data = bundled_2026.to_mapping()
    data["workdays"] = [day for day in data["workdays"] if day != "2026-10-10"]
    corrected = WorkingCalendar.from_bundled([parse_schedule(data)])
    assert not corrected.is_working_day(D(2026, 10, 10))
    assert corrected.schedule_for(2026) != bundled_2026


def test_next_years_new_year_arrangement_reaches_back_into_december() -> None:
    notice = parse_schedule(
        {
            "year": 2028,
            "source": "测试通知",
            "holidays": [{"name": "元旦", "start": "2027-12-30", "end": "2028-01-01"}],
            "workdays": ["2027-12-26"],
        }
    )
    cal = WorkingCalendar.from_bundled([notice])
    assert not cal.is_working_day(D(2027, 12, 30))
    assert cal.is_working_day(D(2027, 12, 26))  # a Sunday
    assert cal.is_estimated(D(2027, 12, 30))  # 2027 itself still has no notice


def test_datetimes_and_far_years_are_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(CalendarError) as caught:
        cal.is_working_day(dt.datetime(2025, 10, 9, 9, 0))
    assert caught.value.code == "calendar_not_a_date"
    with pytest.raises(CalendarError) as caught:
        cal.add_working_days(D(2099, 12, 30), 10)
    assert caught.value.code == "calendar_out_of_range"
    with pytest.raises(CalendarError):
        cal.is_working_day(D(1900, 1, 1))


working_dates = st.dates(min_value=D(2015, 1, 1), max_value=D(2031, 12, 31))


@settings(max_examples=300, deadline=None)
@given(day=working_dates, n=st.integers(min_value=1, max_value=700))
def test_adding_then_counting_gives_back_n(day: D, n: int) -> None:
    cal = _shared_calendar()
    start = cal.add_working_days(day, 0).date  # a working day
    forward = cal.add_working_days(start, n).date
    assert cal.working_days_between(start, forward) == n
    backward = cal.add_working_days(start, -n).date
    assert cal.working_days_between(start, backward) == -n
    assert cal.is_working_day(forward) and cal.is_working_day(backward)


@settings(max_examples=200, deadline=None)
@given(a=working_dates, span=st.integers(min_value=0, max_value=800))
def test_listing_agrees_with_counting_and_membership(a: D, span: int) -> None:
    cal = _shared_calendar()
    b = a + dt.timedelta(days=span)
    listed = cal.working_days_in(a, b)
    assert len(listed) == cal.working_days_between(a - dt.timedelta(days=1), b)
    assert listed == [d for d in (a + dt.timedelta(days=i) for i in range(span + 1)) if cal.is_working_day(d)]


_SHARED: list[WorkingCalendar] = []


def _shared_calendar() -> WorkingCalendar:
    if not _SHARED:
        _SHARED.append(WorkingCalendar.from_bundled())
    return _SHARED[0]
