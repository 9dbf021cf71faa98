"""Migration 0014 on an outbox with digests in it: the items an old digest listed (`digest_id`) become its
id window, a notice no digest listed yet stays for the next one, and a downgrade writes `digest_id` back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from duban import migrations
from duban.core.db import build_engine
from duban.tasks.departments import load_departments
from tests.conftest import BACKENDS, database_url_for

AT = dt.datetime(2025, 10, 13, 1, tzinfo=dt.UTC)


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url_for(request.param, tmp_path, as_owner=True)


def _row(key: str, **values: Any) -> dict[str, Any]:
    return {
        "dedupe_key": key,
        "kind": "notice",
        "delivery": "digest",
        "channel": "email",
        "recipient": "a@example.gov.cn",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": AT,
        "payload": "{}",
        "last_error": "",
        "created_at": AT,
        "urgency": 0,
        "rule": "deadline",
        "step": "remind_5",
        "period": "",
        **values,
    }


def _insert(conn: sa.Connection, row: dict[str, Any]) -> int:
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    query = sa.text(f"INSERT INTO notification_outbox ({columns}) VALUES ({values}) RETURNING id")
    return int(conn.execute(query, row).scalar_one())


def _outbox(url: str) -> dict[int, dict[str, Any]]:
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM notification_outbox ORDER BY id")).mappings()
            return {row["id"]: dict(row) for row in rows}
    finally:
        engine.dispose()


def test_old_digests_become_windows_and_back(fresh_url: str) -> None:
    migrations.downgrade(fresh_url, "0013")
    engine = build_engine(fresh_url)
    with Session(engine) as session:
        load_departments(session)
        session.commit()
    with engine.begin() as conn:
        department = int(conn.execute(sa.text("SELECT min(id) FROM department")).scalar_one())
        other = department + 1
        listed = [
            _insert(conn, _row(f"n:{i}", department_id=department, status="digested")) for i in range(3)
        ]
        sent = _insert(conn, _row("n:sent", department_id=department, delivery="immediate", status="sent"))
        digest = _insert(
            conn,
            _row(f"d:{department}:2025-10-13:email", kind="digest", delivery="immediate", status="sent",
                 attempts=1, department_id=department, rule="", step="digest",
                 payload='{"items": [{"title": "x"}]}'),
        )  # fmt: skip
        conn.execute(
            sa.text("UPDATE notification_outbox SET digest_id = :d WHERE id IN (:a, :b, :c, :s)"),
            {"d": digest, "a": listed[0], "b": listed[1], "c": listed[2], "s": sent},
        )
        late = _insert(conn, _row("n:late", department_id=department))  # after the digest: not listed yet
        lone = _insert(conn, _row("n:lone", department_id=other))  # a department without any digest yet
    engine.dispose()

    migrations.upgrade(fresh_url, "0014")
    rows = _outbox(fresh_url)
    assert (rows[digest]["items_after"], rows[digest]["items_through"]) == (0, sent)
    assert rows[late]["id"] > rows[digest]["items_through"]  # the next digest's
    assert rows[lone]["items_through"] is None and "digest_id" not in rows[lone]
    assert [rows[i]["status"] for i in listed] == ["digested"] * 3  # their history is kept

    migrations.downgrade(fresh_url, "0013")
    rows = _outbox(fresh_url)
    assert [rows[i]["digest_id"] for i in (*listed, sent)] == [digest] * 4
    assert rows[late]["digest_id"] is None and rows[lone]["digest_id"] is None
    assert rows[late]["status"] == "pending"
    migrations.upgrade(fresh_url)
