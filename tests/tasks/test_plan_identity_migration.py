"""Migration 0007 on a database with plans in it (issue 14): existing plans get their identity from their
stored text, the bundled examples import `unchanged` afterwards (a second `make run`), and a downgrade
gives older releases back the title keys they look for."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from duban import migrations
from duban.core.db import build_engine
from duban.tasks.departments import load_departments
from duban.tasks.models import Plan, PlanRevision
from duban.tasks.parser import parse
from duban.tasks.plan_identity import squeeze_title
from duban.tasks.plans import import_plan
from tests.conftest import BACKENDS, database_url_for

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "plans").glob("*.txt"))


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url_for(request.param, tmp_path, as_owner=True)


def _import_examples(url: str) -> list[str]:
    engine = build_engine(url)
    try:
        with Session(engine) as session:
            load_departments(session)
            statuses: list[str] = []
            for file in EXAMPLES:
                text = file.read_text(encoding="utf-8")
                statuses.append(import_plan(session, text, parse(text), file.name).status)
            session.commit()
        return statuses
    finally:
        engine.dispose()


def _keys(url: str) -> dict[str, str]:
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            return {row.title: row.key for row in conn.execute(sa.text("SELECT title, key FROM plan"))}
    finally:
        engine.dispose()


@pytest.mark.skipif(not EXAMPLES, reason="examples missing")
def test_existing_plans_keep_working_across_the_migration(fresh_url: str) -> None:
    assert set(_import_examples(fresh_url)) == {"created"}
    identified = _keys(fresh_url)
    # Down to 0006 (the schema before identities): the plans are back on their title keys.
    migrations.downgrade(fresh_url, "0006")
    legacy = _keys(fresh_url)
    for title, key in legacy.items():
        assert key == hashlib.sha256(f"title:{squeeze_title(title)}".encode()).hexdigest()[:32]
    assert legacy != identified  # the examples with an issuer had other keys
    # Up again: the backfill reads each plan's identity from its stored text.
    migrations.upgrade(fresh_url)
    assert _keys(fresh_url) == identified
    assert set(_import_examples(fresh_url)) == {"unchanged"}
    engine = build_engine(fresh_url)
    try:
        with Session(engine) as session:
            plans = session.exec(select(Plan)).all()
            assert len(plans) == len(EXAMPLES)
            bases = {plan.title[:8]: (plan.identity_basis, plan.issuer) for plan in plans}
            assert ("issuer", "内蒙古自治区环境保护厅") in bases.values()
            assert ("title", None) in bases.values()
            reasons = session.exec(select(PlanRevision.reason, PlanRevision.revision)).all()
            assert sorted(reasons) == [("backfill", 1)] * len(EXAMPLES)
    finally:
        engine.dispose()
