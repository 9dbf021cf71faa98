"""文号 of the 督办单 and 通报: one number per kind and year, consecutive, never reused, issued the first time
a document is generated for its subject and the same on every re-download; two generations at once never
get the same number (PostgreSQL: the counter row locked; SQLite: its writer lock), as the app's role."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from duban.core.db import build_engine
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.paperwork import bulletin_paper, notice_facts, notice_paper, office_name, to_docx
from duban.workflow.paperwork.models import DocumentSerial
from duban.workflow.paperwork.serials import Serial, issue_serials
from tests.conftest import BACKENDS, database_url_for
from tests.workflow.paperwork.conftest import Supervised, docx_text

CALENDAR = WorkingCalendar.from_bundled()
serial_t = DocumentSerial.__table__  # type: ignore[attr-defined]


def test_notices_are_numbered_in_order_and_keep_their_number(supervised: Supervised) -> None:
    session = supervised.scene.session
    (red,) = notice_facts(session, [supervised.red])
    assert red.serial == "督办〔2025〕第1号"
    selection = notice_facts(session, [supervised.blue, supervised.red, supervised.region])
    assert [f.serial for f in selection] == ["督办〔2025〕第2号", "督办〔2025〕第1号", "督办〔2025〕第3号"]
    (again,) = notice_facts(session, [supervised.red])
    assert again.serial == red.serial  # a re-download: the same number
    paper = notice_paper(again, office_name(session), CALENDAR)
    assert "督办〔2025〕第1号" in docx_text(to_docx([paper]))
    assert session.connection().execute(sa.select(sa.func.count()).select_from(serial_t)).scalar_one() == 3


def test_bulletins_have_their_own_numbers_one_per_period(supervised: Supervised) -> None:
    session = supervised.scene.session
    notice_facts(session, [supervised.red])  # a 督办单 takes the notices' number 1, not the 通报's
    autumn = bulletin_paper(session, dt.date(2025, 9, 1), dt.date(2025, 10, 31), calendar=CALENDAR)
    october = bulletin_paper(session, dt.date(2025, 10, 1), dt.date(2025, 10, 31), calendar=CALENDAR)
    again = bulletin_paper(session, dt.date(2025, 9, 1), dt.date(2025, 10, 31), calendar=CALENDAR)
    year = autumn.date.year
    assert [autumn.serial, october.serial, again.serial] == [
        f"督办通报〔{year}〕第1期",
        f"督办通报〔{year}〕第2期",
        f"督办通报〔{year}〕第1期",
    ]


def test_each_year_counts_from_one(supervised: Supervised) -> None:
    session = supervised.scene.session
    issued = issue_serials(session, "notice", {"a": 2026, "b": 2027, "c": 2026})
    assert issued == {"a": Serial(2026, 1), "b": Serial(2027, 1), "c": Serial(2026, 2)}
    assert issue_serials(session, "notice", {"d": 2026, "a": 2030}) == {
        "d": Serial(2026, 3),
        "a": Serial(2026, 1),
    }


@pytest.fixture(params=BACKENDS)
def app_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database, used as the application's role on PostgreSQL (its ordinary grants)."""
    yield from database_url_for(request.param, tmp_path)


def test_generations_at_once_never_share_or_skip_a_number(app_url: str) -> None:
    engine = build_engine(app_url)
    workers, rounds = 6, 3
    start = threading.Barrier(workers)
    got: dict[str, list[Serial]] = {}
    errors: list[BaseException] = []

    def generate(worker: int) -> None:
        try:
            start.wait()
            for round_ in range(rounds):
                with Session(engine) as session:
                    # its own document and, every worker alike, the period's 通报 of this round
                    subjects = {f"doc-{worker}-{round_}": 2026, f"shared-{round_}": 2026}
                    issued = issue_serials(session, "bulletin", subjects)
                    time.sleep(0.02)  # hold the lock a while: a racing generation must wait, not pass
                    session.commit()
                for subject, serial in issued.items():
                    got.setdefault(subject, []).append(serial)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=generate, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert errors == []
        assert all(len(set(serials)) == 1 for serials in got.values())  # a subject keeps its number
        numbers = sorted(serials[0].number for serials in got.values())
        assert numbers == list(range(1, workers * rounds + rounds + 1))  # consecutive, none twice
        with engine.connect() as conn:
            stored = conn.execute(sa.select(serial_t.c.number).order_by(serial_t.c.number)).scalars().all()
        assert list(stored) == numbers
    finally:
        engine.dispose()
