"""Holiday schedules loaded with `duban calendar load` (stored in the database) and the calendar they make."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock
from duban.notifications.models import CalendarSchedule
from duban.workflow.calendar import (
    DayDifference,
    WorkingCalendar,
    YearSchedule,
    bundled_schedules,
    package_differences,
    parse_schedule,
)

schedule_t: Final = CalendarSchedule.__table__  # type: ignore[attr-defined]

_lock = threading.Lock()
_cache: dict[tuple[Any, ...], WorkingCalendar] = {}


@dataclass(frozen=True, slots=True)
class LoadedYear:
    """One year stored by `duban calendar load`: replaced or new, and where it differs from the package."""

    year: int
    replaced: bool
    overrides_bundled: bool
    differences: list[DayDifference]


def stored_schedules(session: Session) -> tuple[YearSchedule, ...]:
    """Every schedule stored in the database, by year."""
    rows = session.connection().execute(sa.select(schedule_t.c.body).order_by(schedule_t.c.year))
    return tuple(parse_schedule(row.body, where=f"calendar_schedule[{row.body.get('year')}]") for row in rows)


def save_schedules(session: Session, schedules: Iterable[YearSchedule]) -> list[LoadedYear]:
    """Store schedules (a reloaded year replaces the stored one); the caller commits."""
    conn = session.connection()
    bundled_years = {schedule.year for schedule in bundled_schedules()}
    loaded: list[LoadedYear] = []
    for schedule in schedules:
        replaced = (
            conn.execute(schedule_t.delete().where(schedule_t.c.year == schedule.year)).rowcount or 0
        ) > 0
        conn.execute(
            schedule_t.insert().values(
                year=schedule.year,
                source=schedule.source,
                body=schedule.to_mapping(),
                loaded_at=clock.now(),
            )
        )
        loaded.append(
            LoadedYear(schedule.year, replaced, schedule.year in bundled_years, package_differences(schedule))
        )
    return loaded


def working_calendar(session: Session) -> WorkingCalendar:
    """The bundled table plus the stored schedules, built once per change of the stored ones."""
    fingerprint = tuple(
        session.connection()
        .execute(
            sa.select(sa.func.count(), sa.func.max(schedule_t.c.loaded_at), sa.func.sum(schedule_t.c.year))
        )
        .one()
    )
    with _lock:
        cached = _cache.get(fingerprint)
    if cached is not None:
        return cached
    calendar = WorkingCalendar.from_bundled(stored_schedules(session))
    with _lock:
        _cache.clear()
        _cache[fingerprint] = calendar
    return calendar
