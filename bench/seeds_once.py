"""One cold run of the seeds benchmark, in a fresh interpreter: `python -m bench.seeds_once DIR [--profile]`.

Prints one JSON object: module import time, registry load, per-document read/decode, parse and import
times, the commit, a warm repeat in the same process, and the bare sqlite3 executemany references.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from sqlmodel import Session  # noqa: E402

from duban import migrations  # noqa: E402
from duban.core.db import build_engine  # noqa: E402
from duban.tasks.departments import load_departments  # noqa: E402
from duban.tasks.parser import decode_bytes, parse  # noqa: E402
from duban.tasks.plans import import_plan  # noqa: E402

MODULE_IMPORT_SECONDS = time.perf_counter() - _T0
REPO_ROOT = Path(__file__).resolve().parents[1]
SEED_DIR = REPO_ROOT / "examples" / "plans"
CORE_TABLES = ("plan", "measure", "task")
TABLES = ("department", *CORE_TABLES, "task_assignment", "milestone", "task_event", "target")


def seed_files() -> list[Path]:
    """The example plans, in name order."""
    return sorted(SEED_DIR.glob("*.txt"))


def fresh_database(folder: Path, name: str) -> str:
    """A new migrated SQLite database under `folder`; returns its URL."""
    url = f"sqlite:///{folder / name}"
    migrations.upgrade(url)
    return url


def import_all(url: str, files: list[Path]) -> dict[str, Any]:
    """Load the registry, then read, parse and import each file in one session committed at the end."""
    engine = build_engine(url)
    documents: list[dict[str, Any]] = []
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        t = time.perf_counter()
        load_departments(session)
        departments = time.perf_counter() - t
        for file in files:
            t0 = time.perf_counter()
            text = decode_bytes(file.read_bytes(), file.name)
            t1 = time.perf_counter()
            parsed = parse(text)
            t2 = time.perf_counter()
            result = import_plan(session, text, parsed, file.name)
            t3 = time.perf_counter()
            documents.append(
                {
                    "name": file.name,
                    "chars": len(text),
                    "measures": result.measures,
                    "read": t1 - t0,
                    "parse": t2 - t1,
                    "import": t3 - t2,
                }
            )
        t = time.perf_counter()
        session.commit()
        commit = time.perf_counter() - t
    total = time.perf_counter() - started
    engine.dispose()
    return {"departments": departments, "documents": documents, "commit": commit, "total": total}


def read_only(files: list[Path]) -> float:
    """Seconds to read and decode the files (the floor under any import)."""
    t = time.perf_counter()
    for file in files:
        decode_bytes(file.read_bytes(), file.name)
    return time.perf_counter() - t


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def bare_insert(source_url: str, target_url: str, tables: tuple[str, ...]) -> tuple[float, int]:
    """Seconds for one sqlite3 transaction that executemany-inserts the rows duban wrote to `tables`."""
    source = _connect(source_url.removeprefix("sqlite:///"))
    rows = {table: source.execute(f"SELECT * FROM {table}").fetchall() for table in tables}  # noqa: S608
    source.close()
    target = _connect(target_url.removeprefix("sqlite:///"))
    t = time.perf_counter()
    target.execute("BEGIN IMMEDIATE")
    for table in tables:
        if rows[table]:
            marks = ",".join("?" * len(rows[table][0]))
            target.executemany(f"INSERT INTO {table} VALUES ({marks})", rows[table])  # noqa: S608
    target.execute("COMMIT")
    seconds = time.perf_counter() - t
    target.close()
    return seconds, sum(len(r) for r in rows.values())


def row_counts(url: str) -> dict[str, int]:
    """Rows per table that an import writes."""
    conn = _connect(url.removeprefix("sqlite:///"))
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608
    conn.close()
    return counts


def profile_cold(folder: Path, files: list[Path]) -> str:
    """The top cumulative costs of one import (run first in the process, so it is cold)."""
    url = fresh_database(folder, "profile.sqlite3")
    profiler = cProfile.Profile()
    profiler.enable()
    import_all(url, files)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


def main(argv: list[str]) -> None:
    """Run once and print the JSON."""
    folder = Path(argv[0])
    files = seed_files()
    if "--profile" in argv:
        print(json.dumps({"profile": profile_cold(folder, files)}))
        return
    cold_url = fresh_database(folder, "cold.sqlite3")
    cold = import_all(cold_url, files)
    warm = import_all(fresh_database(folder, "warm.sqlite3"), files)
    read = read_only(files)
    bare_mt, rows_mt = bare_insert(cold_url, fresh_database(folder, "bare1.sqlite3"), CORE_TABLES)
    bare_all, rows_all = bare_insert(cold_url, fresh_database(folder, "bare2.sqlite3"), TABLES)
    print(
        json.dumps(
            {
                "module_import": MODULE_IMPORT_SECONDS,
                "cold": cold,
                "warm": warm,
                "read": read,
                "bare_plan_measure_task": bare_mt,
                "bare_plan_measure_task_rows": rows_mt,
                "bare_all": bare_all,
                "bare_all_rows": rows_all,
                "rows": row_counts(cold_url),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
