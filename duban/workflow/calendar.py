"""The working-day calendar (工作日): statutory holidays and 调休 make-up working days, pure date arithmetic.

Each year is decided by the first of these that knows it:

1. ``announced``: our table of State Council notices (bundled ``data/schedules.yaml`` plus schedules loaded
   with ``duban calendar load``, passed in by the caller);
2. ``recorded``: for 2001–2023, the ``holidays`` package's record of that year's notice (days off and
   make-up working days);
3. ``estimated``: the ``holidays`` package's rule-based view (statutory holidays, weekend holidays moved
   to the next working day, no make-up working days known). Every date computed through such a year is
   flagged ``estimated``.

From 2024 on only our table counts as announced, so upgrading the ``holidays`` package can never move a
deadline that an office has confirmed; it may only improve an estimate.

All functions take ``datetime.date`` values already in Asia/Shanghai (see ``duban.core.clock.today``);
a ``datetime`` is refused because it never compares equal to a date and would silently miscount.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import holidays

from duban.workflow.calendar_files import (
    bundled_schedules,
    load_schedule_file,
    load_schedules_file,
    parse_schedules_text,
)
from duban.workflow.calendar_schedules import MAX_YEAR, MIN_YEAR, HolidayPeriod, YearSchedule, parse_schedule
from duban.workflow.errors import CalendarError

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "RECORDED_YEARS",
    "CalendarError",
    "DayDifference",
    "HolidayPeriod",
    "ScheduleKind",
    "WorkingCalendar",
    "WorkingDayResult",
    "YearSchedule",
    "bundled_schedules",
    "load_schedule_file",
    "load_schedules_file",
    "package_differences",
    "parse_schedule",
    "parse_schedules_text",
]

# The holidays package checks China against each State Council notice from 2001; our table rules from 2024.
RECORDED_YEARS = range(2001, 2024)


class ScheduleKind(StrEnum):
    """Where a year's working days come from."""

    ANNOUNCED = "announced"
    RECORDED = "recorded"
    ESTIMATED = "estimated"


@dataclass(frozen=True, slots=True)
class WorkingDayResult:
    """A computed date and whether any estimated year was involved in computing it."""

    date: dt.date
    estimated: bool


@dataclass(frozen=True, slots=True)
class DayDifference:
    """A date on which an announced schedule and the holidays package disagree."""

    date: dt.date
    announced_working: bool
    package_working: bool


@dataclass(frozen=True, slots=True)
class _Year:
    kind: ScheduleKind
    working: tuple[int, ...]  # ordinals of the year's working days, ascending
    working_set: frozenset[int]


@lru_cache(maxsize=256)
def _package_year(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """The holidays package's days off and weekend working days for one year."""
    # The next year's notice may place 元旦 days off or make-up days in this year's late December.
    calendar = holidays.country_holidays("CN", years=(year, year + 1))
    off = frozenset(day for day in calendar if day.year == year)
    weekend_workdays: set[dt.date] = getattr(calendar, "weekend_workdays", set())
    workdays = frozenset(day for day in weekend_workdays if day.year == year and day.weekday() >= 5)
    return off, workdays


def _check_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise CalendarError(
            f"工作日计算只接受日期（date），收到 {type(value).__name__}：{value!r}",
            f"working-day arithmetic takes dates, not {type(value).__name__}: {value!r}",
            code="calendar_not_a_date",
            entry=value,
        )
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise _out_of_range(value.year)
    return value


def _out_of_range(year: int) -> CalendarError:
    return CalendarError(
        f"{year} 年超出工作日日历的范围（{MIN_YEAR}–{MAX_YEAR}）",
        f"{year} is outside the working-day calendar's range ({MIN_YEAR}-{MAX_YEAR})",
        code="calendar_out_of_range",
        entry=year,
    )


def _schedule_days(schedule: YearSchedule, year: int) -> tuple[set[dt.date], set[dt.date]]:
    off = {day for day in schedule.days_off() if day.year == year}
    work = {day for day in schedule.workdays if day.year == year}
    return off, work


class WorkingCalendar:
    """Working days of mainland China: announced schedules, recorded history, then the rule-based estimate."""

    def __init__(self, schedules: Iterable[YearSchedule] = ()) -> None:
        """Build from schedules; for a repeated year the later one wins (a corrected reload)."""
        self._schedules: dict[int, YearSchedule] = {}
        for schedule in schedules:
            self._schedules[schedule.year] = schedule
        self._years: dict[int, _Year] = {}

    @classmethod
    def from_bundled(cls, extra: Iterable[YearSchedule] = ()) -> WorkingCalendar:
        """The bundled 2024–2026 table plus loaded schedules, which override bundled years."""
        return cls((*bundled_schedules(), *extra))

    @property
    def schedules(self) -> tuple[YearSchedule, ...]:
        """The announced schedules in force, by year."""
        return tuple(self._schedules[year] for year in sorted(self._schedules))

    def schedule_for(self, year: int) -> YearSchedule | None:
        """The announced schedule of a year, if any."""
        return self._schedules.get(year)

    def kind_of_year(self, year: int) -> ScheduleKind:
        """Whether a year's working days are announced, recorded or estimated."""
        return self._year(year).kind

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise _out_of_range(year)
        schedule = self._schedules.get(year)
        if schedule is not None:
            kind = ScheduleKind.ANNOUNCED
            off, work = _schedule_days(schedule, year)
        else:
            kind = ScheduleKind.RECORDED if year in RECORDED_YEARS else ScheduleKind.ESTIMATED
            package_off, package_work = _package_year(year)
            off, work = set(package_off), set(package_work)
        following = self._schedules.get(year + 1)
        if following is not None:
            # The next notice's 元旦 arrangement outranks anything else for these December days.
            spill_off, spill_work = _schedule_days(following, year)
            off = (off - spill_work) | spill_off
            work = (work - spill_off) | spill_work
        first = dt.date(year, 1, 1).toordinal()
        last = dt.date(year, 12, 31).toordinal()
        working = tuple(
            ordinal
            for ordinal in range(first, last + 1)
            if (day := dt.date.fromordinal(ordinal)) in work or (day.weekday() < 5 and day not in off)
        )
        built = _Year(kind=kind, working=working, working_set=frozenset(working))
        self._years[year] = built
        return built

    def is_working_day(self, d: dt.date) -> bool:
        """True when offices work on this date (weekdays not off, plus 调休 Saturdays/Sundays)."""
        day = _check_date(d)
        return day.toordinal() in self._year(day.year).working_set

    def is_estimated(self, d: dt.date) -> bool:
        """True when the date's year has no announced or recorded schedule."""
        day = _check_date(d)
        return self._year(day.year).kind is ScheduleKind.ESTIMATED

    def is_span_estimated(self, a: dt.date, b: dt.date) -> bool:
        """True when any year from a to b (either order) is estimated, so a count over it is too."""
        low, high = sorted((_check_date(a), _check_date(b)))
        return any(self._year(year).kind is ScheduleKind.ESTIMATED for year in range(low.year, high.year + 1))

    def add_working_days(self, d: dt.date, n: int) -> WorkingDayResult:
        """The n-th working day after d (before d when n < 0); n = 0 gives d if working, else the next one.

        The start day itself is never counted, so from a working day d, ``working_days_between(d, result)``
        equals n. The result is ``estimated`` when any year between d and it is estimated.
        """
        start = _check_date(d)
        ordinal = start.toordinal()
        if n == 0:
            if ordinal in self._year(start.year).working_set:
                return WorkingDayResult(start, self.is_estimated(start))
            n = 1
        result = self._forward(ordinal, start.year, n) if n > 0 else self._backward(ordinal, start.year, -n)
        found = dt.date.fromordinal(result)
        return WorkingDayResult(found, self.is_span_estimated(start, found))

    def _forward(self, ordinal: int, year: int, n: int) -> int:
        table = self._year(year)
        index = bisect_right(table.working, ordinal)
        while n > len(table.working) - index:
            n -= len(table.working) - index
            year += 1
            table = self._year(year)
            index = 0
        return table.working[index + n - 1]

    def _backward(self, ordinal: int, year: int, n: int) -> int:
        table = self._year(year)
        index = bisect_left(table.working, ordinal)
        while n > index:
            n -= index
            year -= 1
            table = self._year(year)
            index = len(table.working)
        return table.working[index - n]

    def next_working_day(self, d: dt.date) -> dt.date:
        """The first working day strictly after d."""
        return self.add_working_days(d, 1).date

    def previous_working_day(self, d: dt.date) -> dt.date:
        """The last working day strictly before d."""
        return self.add_working_days(d, -1).date

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days in (a, b]; negative when b < a. With a = deadline, b = today: working days overdue."""
        start, end = _check_date(a), _check_date(b)
        if end < start:
            return -self.working_days_between(end, start)
        first, last = start.toordinal(), end.toordinal()
        total = 0
        for year in range(start.year, end.year + 1):
            working = self._year(year).working
            low = bisect_right(working, first) if year == start.year else 0
            high = bisect_right(working, last) if year == end.year else len(working)
            total += high - low
        return total

    def working_days_in(self, a: dt.date, b: dt.date) -> list[dt.date]:
        """The working days of the closed range [a, b], ascending; empty when b < a."""
        start, end = _check_date(a), _check_date(b)
        first, last = start.toordinal(), end.toordinal()
        days: list[dt.date] = []
        for year in range(start.year, end.year + 1):
            working = self._year(year).working
            low = bisect_left(working, first) if year == start.year else 0
            high = bisect_right(working, last) if year == end.year else len(working)
            days.extend(dt.date.fromordinal(ordinal) for ordinal in working[low:high])
        return days

    def resolve_within(self, start: dt.date, n: int) -> dt.date:
        """Deadline of "N个工作日内" from start: the n-th working day after it (start day not counted).

        The start day is excluded as in 民法典 第二百零一条 (期间开始的当日不计入); use
        ``add_working_days(start, n).estimated`` or ``is_span_estimated`` to learn whether it is estimated.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise CalendarError(
                f"“N个工作日内”的 N 须为正整数，收到 {n!r}",
                f"N in 'within N working days' must be a positive whole number, got {n!r}",
                code="calendar_invalid_count",
                entry=n,
            )
        return self.add_working_days(start, n).date


def package_differences(schedule: YearSchedule) -> list[DayDifference]:
    """Dates of the schedule's year where it and the holidays package disagree about working or not."""
    announced = WorkingCalendar([schedule])
    package = WorkingCalendar()
    differences: list[DayDifference] = []
    day = dt.date(schedule.year, 1, 1)
    while day.year == schedule.year:
        mine, theirs = announced.is_working_day(day), package.is_working_day(day)
        if mine != theirs:
            differences.append(DayDifference(day, mine, theirs))
        day += dt.timedelta(days=1)
    return differences
