"""Migration 0016: each task's own policy snapshot becomes the version it names, its rules kept once, and
back; the (version, state) index the sweep's lookups use (0015's, on a column now) on both databases."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from duban import migrations
from duban.core.db import build_engine
from duban.workflow.policy import CHASED_STATES, ISSUED_STATES, bundled_policy, frozen_version, task_t
from tests.conftest import BACKENDS, database_url_for

INDEX = "ix_task_policy_version_state"
AT = dt.datetime(2025, 10, 13, 1, tzinfo=dt.UTC)


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url_for(request.param, tmp_path, as_owner=True)


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """The planner question is PostgreSQL's: no SQLite variant to skip."""
    yield from database_url_for("postgres", tmp_path, as_owner=True)


def _indexes(url: str) -> set[str]:
    engine = build_engine(url)
    try:
        return {str(index["name"]) for index in sa.inspect(engine).get_indexes("task")}
    finally:
        engine.dispose()


def _snapshot(version: int, name: str) -> dict[str, Any]:
    snapshot = {**bundled_policy().snapshot(), "version": version, "name": name}
    snapshot["sha256"] = f"{version:064d}"
    return snapshot


def _old_tasks(url: str, policies: list[dict[str, Any]]) -> list[int]:
    """A plan and one task per snapshot, as the schema before 0016 keeps them (each its own copy)."""
    engine = build_engine(url)
    try:
        with engine.begin() as conn:
            plan = conn.execute(
                sa.text(
                    "INSERT INTO plan (key, title, title_inferred, script, content_hash, revision, status, "
                    "source_text, warnings, created_at, updated_at) VALUES ('p', '方案', false, 'simplified', "
                    "'h', 1, 'issued', '', '[]', :at, :at) RETURNING id"
                ),
                {"at": AT},
            ).scalar_one()
            return [
                int(
                    conn.execute(
                        sa.text(
                            "INSERT INTO task (plan_id, region_code, title, state, supervision_level, policy, "
                            "version, created_at, updated_at) VALUES (:plan, :code, '任务', :state, 'none', "
                            f"{'CAST(:policy AS JSONB)' if conn.dialect.name == 'postgresql' else ':policy'}, "
                            "2, :at, :at) RETURNING id"
                        ),
                        {
                            "plan": plan,
                            "code": str(i),
                            "state": "assigned" if policy else "draft",
                            "policy": json.dumps(policy, ensure_ascii=False),
                            "at": AT,
                        },
                    ).scalar_one()
                )
                for i, policy in enumerate(policies)
            ]
    finally:
        engine.dispose()


def _read(url: str, sql: str) -> list[Any]:
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_0016_keeps_each_version_once_and_back(fresh_url: str) -> None:
    migrations.downgrade(fresh_url, "0015")
    one, two = _snapshot(1, "第一版"), _snapshot(2, "第二版")
    tasks = _old_tasks(fresh_url, [one, two, two, {}])
    migrations.upgrade(fresh_url)
    kept = {
        v: (name, sha, _json(body))
        for v, name, sha, body in _read(
            fresh_url, "SELECT version, name, sha256, body FROM escalation_policy_version ORDER BY version"
        )
    }
    assert kept == {1: ("第一版", one["sha256"], one), 2: ("第二版", two["sha256"], two)}
    named = dict(_read(fresh_url, "SELECT id, policy_version FROM task ORDER BY id"))
    assert [named[t] for t in tasks] == [1, 2, 2, None]
    assert INDEX in _indexes(fresh_url)
    migrations.check(fresh_url)

    migrations.downgrade(fresh_url, "0015")
    back = dict(_read(fresh_url, "SELECT id, policy FROM task ORDER BY id"))
    assert [_json(back[t]) for t in tasks] == [one, two, two, {}]
    assert (INDEX in _indexes(fresh_url)) is fresh_url.startswith("postgresql")
    migrations.upgrade(fresh_url)
    migrations.check(fresh_url)


def test_one_version_with_two_rule_sets_stops_the_migration(fresh_url: str) -> None:
    migrations.downgrade(fresh_url, "0015")
    _old_tasks(fresh_url, [_snapshot(3, "甲"), {**_snapshot(3, "乙"), "sha256": "f" * 64}])
    with pytest.raises(Exception, match="two different rule sets"):
        migrations.upgrade(fresh_url)


def test_the_sweep_lookups_can_use_the_index(postgres_url: str) -> None:
    version = frozen_version()
    # freeze_policy's WHERE: issued tasks without a frozen version
    freeze = sa.select(task_t.c.id).where(task_t.c.state.in_(ISSUED_STATES), version.is_(None))
    least = sa.select(sa.func.min(version)).where(task_t.c.state.in_(CHASED_STATES), version > 1)
    engine = build_engine(postgres_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: ask what the index can do
            for statement in (freeze, least):
                compiled = statement.compile(
                    dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
                )
                plan = "\n".join(
                    str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
                )
                assert INDEX in plan
    finally:
        engine.dispose()


def _estimate(conn: sa.Connection, statement: Any) -> int:
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    top = str(conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).first()[0])  # type: ignore[index]
    return int(top.split(" rows=")[1].split()[0])


def test_0017_tells_the_planner_that_tasks_without_a_version_are_drafts(postgres_url: str) -> None:
    freeze = sa.select(task_t.c.id).where(task_t.c.state.in_(ISSUED_STATES), frozen_version().is_(None))
    engine = build_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO escalation_policy_version (version, name, sha256, body, registered_at) "
                "VALUES (2, 'v2', 'x', '{}', now())"
            )
            plan = conn.exec_driver_sql(
                "INSERT INTO plan (key, title, title_inferred, script, content_hash, revision, status, "
                "source_text, warnings, created_at, updated_at) VALUES ('p', '方案', false, 'simplified', "
                "'h', 1, 'issued', '', '[]', now(), now()) RETURNING id"
            ).scalar_one()
            conn.exec_driver_sql(  # one draft (no version) in ten, the rest issued under version 2
                "INSERT INTO task (plan_id, region_code, title, state, supervision_level, policy_version, "
                "version, created_at, updated_at) SELECT %(plan)s, i::text, '任务', "
                "CASE WHEN i %% 10 = 0 THEN 'draft' ELSE 'in_progress' END, 'none', "
                "CASE WHEN i %% 10 = 0 THEN NULL ELSE 2 END, 1, now(), now() FROM generate_series(1, 20000) i",
                {"plan": plan},
            )
            conn.exec_driver_sql("ANALYZE task")
        with engine.connect() as conn:
            assert _estimate(conn, freeze) <= 10
        migrations.downgrade(postgres_url, "0016")
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE task")
        with engine.connect() as conn:
            assert _estimate(conn, freeze) > 1000  # without them: the drafts' share × the issued share
    finally:
        engine.dispose()
