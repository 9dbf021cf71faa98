"""When messages may go out: working days, within office hours (DUBAN_OFFICE_HOURS_START/END, local time)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from duban.core.config import Settings, get_settings
from duban.workflow.calendar import WorkingCalendar


def _local(now: dt.datetime, settings: Settings) -> dt.datetime:
    return now.astimezone(ZoneInfo(settings.timezone))


def office_open(now: dt.datetime, calendar: WorkingCalendar, settings: Settings | None = None) -> bool:
    """Whether `now` is inside office hours of a working day."""
    config = settings or get_settings()
    local = _local(now, config)
    return (
        calendar.is_working_day(local.date())
        and config.office_hours_start <= local.hour < config.office_hours_end
    )


def next_opening(
    now: dt.datetime, calendar: WorkingCalendar, settings: Settings | None = None
) -> dt.datetime:
    """`now` if the office is open, else the next moment it opens."""
    config = settings or get_settings()
    if office_open(now, calendar, config):
        return now
    local = _local(now, config)
    day = local.date()
    if not (calendar.is_working_day(day) and local.hour < config.office_hours_start):
        day = calendar.next_working_day(day)
    return dt.datetime.combine(day, dt.time(config.office_hours_start), tzinfo=local.tzinfo)
