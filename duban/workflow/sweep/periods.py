"""Reporting periods of recurring duties (定期报送): weeks, months, quarters, half years, years."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

# Periods ending this far around today can still have a step due (the ladder reaches ~40 working days).
LOOK_BACK: Final = dt.timedelta(days=200)
LOOK_AHEAD: Final = dt.timedelta(days=31)


@dataclass(frozen=True, slots=True)
class Period:
    """One reporting period: a stable key ("2025-09", "2025-Q3", "2025-H2", "2025", "2025-W40")."""

    key: str
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        """The period as a Chinese reader names it."""
        return period_label(self.key)


def _month(year: int, month: int) -> Period:
    start = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return Period(f"{year}-{month:02d}", start, following - dt.timedelta(days=1))


def _span(year: int, first_month: int, months: int, key: str) -> Period:
    start = _month(year, first_month).start
    return Period(key, start, _month(year, first_month + months - 1).end)


def period_containing(frequency: str, day: dt.date) -> Period:
    """The period of `frequency` that contains `day`."""
    if frequency == "weekly":
        start = day - dt.timedelta(days=day.weekday())
        iso = start.isocalendar()
        return Period(f"{iso.year}-W{iso.week:02d}", start, start + dt.timedelta(days=6))
    if frequency == "monthly":
        return _month(day.year, day.month)
    if frequency == "quarterly":
        quarter = (day.month - 1) // 3
        return _span(day.year, quarter * 3 + 1, 3, f"{day.year}-Q{quarter + 1}")
    if frequency == "half_yearly":
        half = (day.month - 1) // 6
        return _span(day.year, half * 6 + 1, 6, f"{day.year}-H{half + 1}")
    if frequency == "yearly":
        return _span(day.year, 1, 12, f"{day.year}")
    raise ValueError(f"unknown frequency {frequency!r}")


def periods_of(frequency: str, today: dt.date) -> Iterator[tuple[Period, Period]]:
    """(period, the one before it) for each period ending within the window around today, oldest first."""
    period = period_containing(frequency, today - LOOK_BACK)
    previous = period_containing(frequency, period.start - dt.timedelta(days=1))
    while period.end <= today + LOOK_AHEAD:
        yield period, previous
        previous, period = period, period_containing(frequency, period.end + dt.timedelta(days=1))


def period_label(key: str) -> str:
    """A period key in Chinese: "2025-09" → 2025年9月, "2025-Q3" → 2025年第三季度, "2025-H1" → 上半年."""
    year, _, rest = key.partition("-")
    if not rest:
        return f"{year}年度"
    if rest.startswith("Q"):
        return f"{year}年第{'一二三四'[int(rest[1]) - 1]}季度"
    if rest.startswith("H"):
        return f"{year}年{'上下'[int(rest[1]) - 1]}半年"
    if rest.startswith("W"):
        return f"{year}年第{int(rest[1:])}周"
    return f"{year}年{int(rest)}月"
