"""The injectable clock: `DUBAN_NOW` or a test fixture can stand the whole system on any date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

from duban.core.config import get_settings

TZ = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None


def _parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)


def now() -> datetime:
    """Current time, aware, in Asia/Shanghai; honours a frozen test clock, then `DUBAN_NOW`."""
    if _frozen is not None:
        return _frozen
    configured = get_settings().now
    if configured:
        return _parse(configured).astimezone(TZ)
    return datetime.now(TZ)


def today() -> date:
    """Today's date in Asia/Shanghai."""
    return now().date()


def set_now(moment: datetime | str | None) -> None:
    """Freeze the clock at `moment` (None thaws it)."""
    global _frozen
    if moment is None:
        _frozen = None
    else:
        parsed = _parse(moment) if isinstance(moment, str) else moment
        _frozen = parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)


@contextmanager
def frozen(moment: datetime | str) -> Iterator[None]:
    """Freeze the clock for the duration of a block."""
    previous = _frozen
    set_now(moment)
    try:
        yield
    finally:
        set_now(previous)
