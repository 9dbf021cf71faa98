"""文号 of the paperwork: one number per kind and year, consecutive, never reused, issued the first time a
document is generated for its subject (a 督办单 for its 督办 event, a 通报 for its period) and the same on
every later download.

Two generations at once: the counter row of (kind, year) is created if missing (an upsert that does
nothing when it exists) and locked (`FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds
the database's one writer lock); only then is the subject looked up again, so the second generation finds
the first one's number instead of taking the next — no number is taken twice, none is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from duban.core import clock
from duban.workflow.paperwork.models import DocumentSerial, DocumentSerialCounter

serial_t: Final = DocumentSerial.__table__  # type: ignore[attr-defined]
counter_t: Final = DocumentSerialCounter.__table__  # type: ignore[attr-defined]

Kind = Literal["notice", "bulletin"]


@dataclass(frozen=True, slots=True)
class Serial:
    """A number issued: its year and its place in the year."""

    year: int
    number: int


def _issued(conn: sa.Connection, kind: Kind, subjects: Iterable[str]) -> dict[str, Serial]:
    wanted = sorted(set(subjects))
    if not wanted:
        return {}
    rows = conn.execute(
        sa.select(serial_t.c.subject, serial_t.c.year, serial_t.c.number).where(
            serial_t.c.kind == kind, serial_t.c.subject.in_(wanted)
        )
    )
    return {row.subject: Serial(row.year, row.number) for row in rows}


def _lock_counter(conn: sa.Connection, kind: Kind, year: int) -> int:
    """The last number of (kind, year), its row locked until the transaction ends."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(counter_t)
        .values(kind=kind, year=year, last=0)
        .on_conflict_do_nothing(index_elements=["kind", "year"])
    )
    last = conn.execute(
        sa.select(counter_t.c.last)
        .where(counter_t.c.kind == kind, counter_t.c.year == year)
        .with_for_update()
    ).scalar_one()
    return int(last)


def issue_serials(session: Session, kind: Kind, wanted: Mapping[str, int]) -> dict[str, Serial]:
    """The number of each subject (subject → the year it would be issued in), issuing the next numbers of
    that year, in the order given, to those that have none yet."""
    conn = session.connection()
    found = _issued(conn, kind, wanted)
    missing = [subject for subject in wanted if subject not in found]
    for year in sorted({wanted[subject] for subject in missing}):
        last = _lock_counter(conn, kind, year)
        of_year = [s for s in missing if wanted[s] == year]
        found |= _issued(conn, kind, of_year)  # another generation may have issued them meanwhile
        fresh = [s for s in of_year if s not in found]
        if not fresh:
            continue
        now = clock.now()
        numbered = {subject: Serial(year, last + i) for i, subject in enumerate(fresh, start=1)}
        conn.execute(
            serial_t.insert(),
            [
                {"kind": kind, "year": year, "number": serial.number, "subject": subject, "issued_at": now}
                for subject, serial in numbered.items()
            ],
        )
        conn.execute(
            counter_t.update()
            .where(counter_t.c.kind == kind, counter_t.c.year == year)
            .values(last=last + len(fresh))
        )
        found |= numbered
    return {subject: found[subject] for subject in wanted}


def notice_subject(event_id: int) -> str:
    """A 督办单's subject: the 督办 event that issued it."""
    return f"event:{event_id}"


def bulletin_subject(start: dt.date, end: dt.date) -> str:
    """A 通报's subject: its period."""
    return f"period:{start.isoformat()}/{end.isoformat()}"
