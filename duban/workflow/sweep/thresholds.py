"""Working-day thresholds per *date*: which due dates a step has reached today, computed once per sweep.

A step `offset` working days from a due date d has come when its day is on or before today:

- before the due date (offset = -n): the n-th working day before d is ≤ today  ⟺  d ≤ the n-th working
  day after today;
- after it (offset = +k): the k-th working day after d is ≤ today  ⟺  d < the k-th working day counting
  back from today (today included when it is a working day).

Both are monotone in d, so each becomes one date and the SQL compares the due-date column with it. A due
date on a holiday is handled by the same arithmetic: a deadline on 10-03 during 国庆 is one working day
overdue on 10-09. On a non-working day no threshold moves, so nothing new ever falls due on a holiday.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final

from duban.core import clock
from duban.workflow.calendar import WorkingCalendar

ONE_DAY: Final = dt.timedelta(days=1)


@dataclass
class Thresholds:
    """Per-date step thresholds for one sweep day."""

    calendar: WorkingCalendar
    today: dt.date
    _cache: dict[int, dt.date] = field(default_factory=dict)

    def last_due(self, offset: int) -> dt.date:
        """The latest due date whose step at `offset` working days has come by today."""
        cached = self._cache.get(offset)
        if cached is not None:
            return cached
        if offset < 0:
            found = self.calendar.add_working_days(self.today, -offset).date
        elif offset > 0:
            found = self.calendar.add_working_days(self.today + ONE_DAY, -offset).date - ONE_DAY
        else:
            raise ValueError("a step is never on its due date itself (offset 0)")
        self._cache[offset] = found
        return found

    def has_come(self, due: dt.date, offset: int) -> bool:
        """Whether the step `offset` working days from `due` has come by today."""
        return due <= self.last_due(offset)

    def step_day(self, due: dt.date, offset: int) -> dt.date:
        """The working day on which the step falls."""
        return self.calendar.add_working_days(due, offset).date


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in Asia/Shanghai (aware)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=clock.TZ)
