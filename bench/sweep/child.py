"""One sweep in a fresh process, as `duban sweep --now …` runs it: `python -m bench.sweep.child NOW`.

The database and var folder come from the environment (DUBAN_DATABASE_URL, DUBAN_VAR_DIR). Prints one
JSON object: the seconds of the sweep (run_sweep, then the commit with its after-commit broker sends),
the process's peak RSS (VmHWM) and its RSS before the sweep, what the sweep did, and the wall time
of every SQL statement it sent (SQLAlchemy cursor events).
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import datetime as dt  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import sqlalchemy as sa  # noqa: E402

import duban.notifications.celery_app  # noqa: E402, F401  (the CLI installs the broker sender too)
from duban.core.db import get_engine, new_session  # noqa: E402
from duban.notifications.outbox import run_sweep  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - _T0


def status_kib(field: str) -> int:
    """A size from /proc/self/status in KiB: VmRSS now, VmHWM the peak of this process image.

    Not getrusage's ru_maxrss: Linux carries it over exec from the forking parent, so a child of a big
    parent would report the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def main(now: str) -> dict[str, Any]:
    """Sweep at `now` (ISO, Asia/Shanghai when naive) and report."""
    moment = dt.datetime.fromisoformat(now)
    statements: list[dict[str, Any]] = []
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool) -> None:
        rows = _cursor.rowcount if _cursor.rowcount is not None else -1
        first = " ".join(statement.split())[:110]
        statements.append(
            {"sql": first, "seconds": time.perf_counter() - started.pop(), "rows": rows, "many": many}
        )

    engine = get_engine()
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    with engine.connect() as conn:  # connect and warm the pool outside the timing, as a worker would be
        conn.execute(sa.text("SELECT 1"))
    statements.clear()
    rss_before = status_kib("VmRSS")
    session = new_session()
    t0 = time.perf_counter()
    try:
        result = run_sweep(session, moment)
        t1 = time.perf_counter()
        session.commit()
        t2 = time.perf_counter()
    finally:
        session.close()
    peak = status_kib("VmHWM")
    return {
        "seconds": t2 - t0,
        "run_sweep": t1 - t0,
        "commit": t2 - t1,
        "import": IMPORT_SECONDS,
        "rss_before_kib": rss_before,
        "peak_rss_kib": peak,
        "notices": result.notices,
        "moved": result.moved,
        "queued": result.queued,
        "frozen": result.frozen,
        "by_step": dict(result.by_step),
        "statements": statements,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), ensure_ascii=False))
