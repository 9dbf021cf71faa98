"""The injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from duban.core import clock
from duban.core.config import get_settings


def test_now_is_aware_in_shanghai() -> None:
    moment = clock.now()
    assert moment.tzinfo is not None
    assert moment.utcoffset() is not None
    assert moment.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]


def test_duban_now_stands_the_system_on_a_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_NOW", "2018-12-31T09:30:00")
    get_settings.cache_clear()
    assert clock.now() == datetime(2018, 12, 31, 1, 30, tzinfo=UTC)
    assert clock.today().isoformat() == "2018-12-31"


def test_frozen_clock_wins_over_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_NOW", "2018-12-31T09:30:00")
    get_settings.cache_clear()
    with clock.frozen("2025-10-09T08:00:00+08:00"):
        assert clock.today().isoformat() == "2025-10-09"
    assert clock.today().isoformat() == "2018-12-31"


def test_clock_fixture(clock_at: object) -> None:
    clock.set_now("2026-02-14T10:00:00")
    assert clock.now().isoformat() == "2026-02-14T10:00:00+08:00"
