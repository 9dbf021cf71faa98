"""The HTTP benchmark's own PostgreSQL database: created, migrated, seeded, and dropped at the end."""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

ADMIN_URL = os.environ.get("DUBAN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_SECRET = "duban-bench-secret-0123456789abcdef0123456789"  # noqa: S105  (a throwaway bench database)
REGION_PREFIX = "bench"


@dataclass(frozen=True)
class Seeded:
    """What the load needs: the database, the users' bearer tokens and the tasks, contiguous by id."""

    url: str
    dsn: str
    first_task_id: int
    task_count: int
    lead_token: str
    office_token: str
    lead_department: str
    lead_department_id: int
    lead_user_id: int
    office_user_id: int


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def server_version() -> str:
    """The PostgreSQL server's version string (raises if it cannot be reached)."""
    with psycopg.connect(ADMIN_URL, connect_timeout=5) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


@contextmanager
def bench_database() -> Iterator[str]:
    """A new database duban_bench_<random>, dropped (forcibly) on exit; yields its SQLAlchemy URL."""
    name = f"duban_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pick_lead(session: Session) -> tuple[int, str]:
    from duban.tasks.models import Department

    row = session.execute(
        sa.select(Department.id, Department.code)  # type: ignore[call-overload]
        .where(Department.kind == "政府部门")
        .order_by(Department.id)
        .limit(1)
    ).first()
    assert row is not None, "the registry has no government department"
    return int(row[0]), str(row[1])


def _clone_tasks(session: Session, lead_id: int, count: int) -> int:
    """Copy the imported tasks into `count` in-progress tasks led by `lead_id`; returns the first id."""
    from bench.policy import policy_without_completion
    from duban.core import clock
    from duban.tasks.models import Milestone, Task, TaskAssignment, TaskEvent
    from duban.workflow.policy_store import register_policy

    task_t = Task.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    originals = (
        conn.execute(sa.select(task_t).where(task_t.c.region_code == "").order_by(task_t.c.id))
        .mappings()
        .all()
    )
    coop = (
        conn.execute(
            sa.select(TaskAssignment.__table__).where(TaskAssignment.__table__.c.role == "cooperating")  # type: ignore[attr-defined]
        )
        .mappings()
        .all()
    )
    milestones = conn.execute(sa.select(Milestone.__table__)).mappings().all()  # type: ignore[attr-defined]
    now = clock.now()
    # As issued under policy version 1 (no `completion` section): the load alternates submit and return
    # only (see bench/policy.py), as the INTRO says.
    frozen = policy_without_completion()
    register_policy(conn, frozen)
    rows: list[dict[str, Any]] = []
    for copy in range(math.ceil(count / len(originals))):
        for original in originals:
            if len(rows) == count:
                break
            row = {k: v for k, v in original.items() if k != "id"}
            row.update(
                region_code=f"{REGION_PREFIX}{copy}",
                state="in_progress",
                version=3,
                deadline=original["deadline"] or now.date().replace(year=now.year + 1),
                issued_at=now,
                accepted_at=now,
                policy_version=frozen.version,
                created_at=now,
                updated_at=now,
            )
            rows.append({"_original": original["id"], **row})
    sources = [row.pop("_original") for row in rows]
    ids = [
        r[0] for r in conn.execute(task_t.insert().returning(task_t.c.id, sort_by_parameter_order=True), rows)
    ]
    if ids != list(range(ids[0], ids[0] + len(ids))):
        raise RuntimeError("cloned task ids are not contiguous; the load partitions tasks by id range")
    coop_by_task: dict[int, list[Any]] = {}
    for a in coop:
        coop_by_task.setdefault(a["task_id"], []).append(a)
    ms_by_task: dict[int, list[Any]] = {}
    for m in milestones:
        ms_by_task.setdefault(m["task_id"], []).append(m)
    assignments: list[dict[str, Any]] = []
    new_milestones: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for task_id, source in zip(ids, sources, strict=True):
        assignments.append(
            {
                "task_id": task_id,
                "department_id": lead_id,
                "role": "lead",
                "source": "office",
                "evidence": [],
                "position": 0,
            }
        )
        for a in coop_by_task.get(source, []):
            if a["department_id"] != lead_id:
                assignments.append({**{k: v for k, v in a.items() if k != "id"}, "task_id": task_id})
        for m in ms_by_task.get(source, []):
            new_milestones.append({**{k: v for k, v in m.items() if k != "id"}, "task_id": task_id})
        for kind, before, after in (
            ("created", None, "draft"),
            ("issue", "draft", "assigned"),
            ("accept", "assigned", "in_progress"),
        ):
            events.append(
                {
                    "task_id": task_id,
                    "kind": kind,
                    "actor_label": "bench seed",
                    "from_state": before,
                    "to_state": after,
                    "reason": "",
                    "data": {},
                    "created_at": now,
                }
            )
    conn.execute(TaskAssignment.__table__.insert(), assignments)  # type: ignore[attr-defined]
    if new_milestones:
        conn.execute(Milestone.__table__.insert(), new_milestones)  # type: ignore[attr-defined]
    conn.execute(TaskEvent.__table__.insert(), events)  # type: ignore[attr-defined]
    return int(ids[0])


def seed(url: str, task_count: int) -> Seeded:
    """Migrate, load the registry, import the example plans, add users and `task_count` in-progress tasks.

    The tasks are copies of the imported ones (same plan, measure, title, deadline and milestones; one
    copy per region code), led by one government department, in state in_progress at version 3, with
    the created/issue/accept events the service would have written.
    """
    from bench.seeds_once import seed_files
    from duban import migrations
    from duban.api.security import create_access_token
    from duban.api.users import create_user
    from duban.core.config import get_settings
    from duban.core.db import build_engine
    from duban.tasks.departments import load_departments
    from duban.tasks.enums import Role
    from duban.tasks.parser import decode_bytes, parse
    from duban.tasks.plans import import_plan

    os.environ["DUBAN_SECRET_KEY"] = BENCH_SECRET
    get_settings.cache_clear()
    migrations.upgrade(url)
    engine = build_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        load_departments(session)
        for file in seed_files():
            text = decode_bytes(file.read_bytes(), file.name)
            import_plan(session, text, parse(text), file.name)
        lead_id, lead_code = _pick_lead(session)
        office = create_user(session, "bench-office", Role.office, None, display_name="委员会办公室（基准）")
        lead = create_user(session, "bench-lead", Role.department, None, lead_code, "牵头单位（基准）")
        first = _clone_tasks(session, lead_id, task_count)
        session.commit()
        assert office.id is not None and lead.id is not None
        seeded = Seeded(
            url=url,
            dsn=_dsn(url),
            first_task_id=first,
            task_count=task_count,
            lead_token=create_access_token(lead.id),
            office_token=create_access_token(office.id),
            lead_department=lead_code,
            lead_department_id=lead_id,
            lead_user_id=lead.id,
            office_user_id=office.id,
        )
    engine.dispose()
    with psycopg.connect(seeded.dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return seeded


def task_states(seeded: Seeded) -> list[tuple[int, str, int]]:
    """(id, state, version) of the bench tasks, in id order."""
    last = seeded.first_task_id + seeded.task_count - 1
    with psycopg.connect(seeded.dsn) as conn:
        rows = conn.execute(
            "SELECT id, state, version FROM task WHERE id BETWEEN %s AND %s ORDER BY id",
            (seeded.first_task_id, last),
        ).fetchall()
    return [(int(i), str(s), int(v)) for i, s, v in rows]


def table_rows(seeded: Seeded) -> dict[str, int]:
    """Row counts of the tables the load grows."""
    with psycopg.connect(seeded.dsn) as conn:
        return {
            t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]  # noqa: S608
            for t in ("task", "task_event")
        }


def sessions_opened(seeded: Seeded) -> int:
    """Connections ever opened to the bench database (PostgreSQL 14+; 0 before)."""
    with psycopg.connect(seeded.dsn) as conn:
        row = conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def connection_usage() -> tuple[int, int]:
    """(max_connections, connections open right now on the whole server)."""
    with psycopg.connect(ADMIN_URL, connect_timeout=5) as conn:
        limit = conn.execute("SHOW max_connections").fetchone()
        used = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        ).fetchone()
    return int(limit[0]) if limit else 0, int(used[0]) if used else 0
