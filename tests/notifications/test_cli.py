"""`duban sweep`, `duban calendar load`, `duban notifications preview` on a real database file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from duban.api.cli import app
from duban.core.config import get_settings
from duban.core.db import dispose_engine, get_engine
from duban.notifications.calendars import stored_schedules, working_calendar
from duban.notifications.models import OutboxKind
from tests.notifications.scenario import build_scenario, recording_jobs

runner = CliRunner()

# A made-up notice that also gives 2025-10-09 and 10-10 off (as if 国庆 had been extended).
EXTENDED_2025 = """\
year: 2025
source: 测试用通知（国庆假期延长）
holidays:
  - {name: 元旦, start: 2025-01-01}
  - {name: 春节, start: 2025-01-28, end: 2025-02-04}
  - {name: 清明节, start: 2025-04-04, end: 2025-04-06}
  - {name: 劳动节, start: 2025-05-01, end: 2025-05-05}
  - {name: 端午节, start: 2025-05-31, end: 2025-06-02}
  - {name: 国庆节、中秋节, start: 2025-10-01, end: 2025-10-10}
workdays: [2025-01-26, 2025-02-08, 2025-04-27, 2025-09-28, 2025-10-11]
"""


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("DUBAN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DUBAN_MAIL_DIR", str(tmp_path / "mail"))
    get_settings.cache_clear()
    dispose_engine()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield tmp_path
    dispose_engine()


def test_sweep_command_raises_and_delivers(cli_db: Path) -> None:
    with Session(get_engine()) as session:
        scene = build_scenario(session)
        scene.task(dt.date(2025, 9, 30), issued="2025-09-01T09:00")
        session.commit()
    with recording_jobs([]):
        swept = runner.invoke(app, ["sweep", "--now", "2025-10-13T09:00", "--deliver"])
    assert swept.exit_code == 0, swept.output
    assert "新增通知 1 条" in swept.output
    assert "deadline:supervise_blue: 1" in swept.output
    assert "{'sent': 2}" in swept.output
    assert len(list((cli_db / "mail").glob("*.eml"))) == 2  # the 督办单 and the office's weekly summary
    again = runner.invoke(app, ["sweep", "--now", "2025-10-13T10:00"])
    assert "新增通知 0 条" in again.output
    bad = runner.invoke(app, ["sweep", "--now", "next tuesday"])
    assert bad.exit_code == 2


def test_calendar_load_stores_a_notice_the_sweep_then_follows(cli_db: Path) -> None:
    notice = cli_db / "2025.yaml"
    notice.write_text(EXTENDED_2025, encoding="utf-8")
    loaded = runner.invoke(app, ["calendar", "load", str(notice)])
    assert loaded.exit_code == 0, loaded.output
    assert "2025 年：已载入（覆盖随程序发布的安排）" in loaded.output
    assert "2025-10-09 放假" in loaded.output
    reloaded = runner.invoke(app, ["calendar", "load", str(notice)])
    assert "已替换" in reloaded.output
    with Session(get_engine()) as session:
        assert [schedule.year for schedule in stored_schedules(session)] == [2025]
        assert not working_calendar(session).is_working_day(dt.date(2025, 10, 9))
        scene = build_scenario(session)
        task = scene.task(dt.date(2025, 9, 30), issued="2025-09-01T09:00")
        session.commit()
        with recording_jobs([]):
            assert scene.sweep("2025-10-10T09:00").notices == 0  # a day off under the loaded notice
            assert scene.sweep("2025-10-11T09:00").by_step == {"deadline:urge": 1}
        assert [row.step for row in scene.outbox(task_id=task, kind=OutboxKind.notice)] == ["urge"]


def test_calendar_load_refuses_a_broken_file(cli_db: Path) -> None:
    broken = cli_db / "bad.yaml"
    broken.write_text("year: 2027\nsource: x\nholidays: [{name: 春节, start: 2027-02-30}]\nworkdays: []\n")
    result = runner.invoke(app, ["calendar", "load", str(broken)])
    assert result.exit_code == 2
    assert "2027-02-30" in result.output


@pytest.mark.parametrize(("kind", "needle"), [("supervise_red", "督办单（红）"), ("weekly", "每周督办汇总")])
def test_preview(kind: str, needle: str) -> None:
    for output in ("text", "html", "markdown"):
        result = runner.invoke(app, ["notifications", "preview", kind, "--format", output])
        assert result.exit_code == 0, result.output
        assert needle in result.output
    assert "<html" in runner.invoke(app, ["notifications", "preview", kind, "--format", "html"]).output


def test_preview_refuses_unknown_kinds() -> None:
    assert runner.invoke(app, ["notifications", "preview", "spam"]).exit_code == 2
    assert runner.invoke(app, ["notifications", "preview", "digest", "--format", "pdf"]).exit_code == 2
