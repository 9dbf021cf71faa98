"""Scratch PostgreSQL databases for the benchmarks: created, migrated, dropped after (never `postgres`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("DUBAN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
# A generated task's title in SQL: one of eight measures of an environmental plan, picked by the row number i.
TASK_TITLE_SQL = """(ARRAY['加强燃煤锅炉综合整治，淘汰城市建成区每小时10蒸吨及以下燃煤锅炉',
              '推进工业园区污水集中处理设施建设和稳定运行',
              '开展黄河流域入河排污口排查整治',
              '实施草原生态保护补助奖励政策，落实禁牧和草畜平衡制度',
              '加快推进矿山地质环境恢复治理',
              '建立健全生态环境损害赔偿制度',
              '完成重点行业挥发性有机物综合治理',
              '推进农村生活垃圾收运处置体系建设'])[1 + i %% 8]"""


@dataclass(frozen=True)
class Scratch:
    """A scratch database: its SQLAlchemy URL (for duban) and its libpq DSN (for psycopg)."""

    name: str
    url: str
    dsn: str


def server_version() -> str:
    """The PostgreSQL server's version string (raises if it cannot be reached)."""
    with psycopg.connect(ADMIN_URL, connect_timeout=5) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


@contextmanager
def scratch_database(prefix: str, *, migrate: bool = True, template: str | None = None) -> Iterator[Scratch]:
    """A new database `duban_<prefix>_<random>`, migrated to head (or a copy of `template`, a database
    nobody is connected to), dropped (forcibly) on exit."""
    name = f"duban_{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if template is None:
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            migrate = False
            # FILE_COPY (PostgreSQL 15+) copies the files after a checkpoint instead of WAL-logging every
            # block, several times faster for a database of a few GB.
            strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    scratch = Scratch(
        name,
        url.render_as_string(hide_password=False),
        url.set(drivername="postgresql").render_as_string(hide_password=False),
    )
    try:
        if migrate:
            from duban import migrations

            migrations.upgrade(scratch.url)
        yield scratch
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_registry(url: str) -> None:
    """The bundled department registry, loaded through duban as `duban departments load` does."""
    from sqlmodel import Session

    from duban.core.db import build_engine
    from duban.tasks.departments import load_departments

    engine = build_engine(url)
    try:
        with Session(engine) as session:
            load_departments(session)
            session.commit()
    finally:
        engine.dispose()


def vacuum_analyze(dsn: str, *tables: str) -> None:
    """VACUUM ANALYZE the tables (all of them when none is named)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE " + ", ".join(tables) if tables else "VACUUM ANALYZE")
