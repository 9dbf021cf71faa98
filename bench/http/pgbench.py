"""The database floor: pgbench running the action's SQL (read version, guarded UPDATE, INSERT event)."""

from __future__ import annotations

import resource
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.http.database import Seeded
from bench.http.loadgen import percentile
from bench.machine import CpuMeter

# Each pgbench client works on its own slice of the tasks, as each HTTP client does, so no two clients
# ever race for a task; the event names the same actor (and so checks the same foreign keys) as duban.
_CASE = "CASE WHEN :s = 'submitted' THEN {submitted} ELSE {other} END"
SCRIPT = "\n".join(
    [
        "\\set id :first + :client_id * :per_client + random(0, :per_client - 1)",
        "BEGIN;",
        "SELECT state AS s, version AS v FROM task WHERE id = :id \\gset",
        "UPDATE task SET state = "  # noqa: S608  (a fixed pgbench script, no input)
        + _CASE.format(submitted="'returned'", other="'submitted'")
        + ", version = version + 1, updated_at = now() WHERE id = :id AND version = :v;",
        "INSERT INTO task_event (task_id, kind, actor_user_id, actor_department_id, actor_label,"  # noqa: S608
        " from_state, to_state, reason, data, request_id, created_at) VALUES (:id, "
        + ", ".join(
            [
                _CASE.format(submitted="'return'", other="'submit'"),
                _CASE.format(submitted="CAST(:office_user AS integer)", other="CAST(:lead_user AS integer)"),
                _CASE.format(submitted="NULL", other="CAST(:lead_department AS integer)"),
                "'pgbench'",
                ":s",
                _CASE.format(submitted="'returned'", other="'submitted'"),
                "''",
                "'{}'",
                "NULL",
                "now()",
            ]
        )
        + ");",
        "END;",
        "",
    ]
)


@dataclass(frozen=True)
class PgbenchRun:
    """Transactions/s and latencies inside the window, and pgbench's own CPU."""

    rate: float
    p50_ms: float
    p99_ms: float
    transactions: int
    failed: int
    cpu_seconds: float


def available() -> str | None:
    """The pgbench executable, if installed."""
    return shutil.which("pgbench")


def version() -> str:
    """pgbench's version line."""
    exe = available()
    if exe is None:
        return "not installed"
    return subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S603


def run(
    seeded: Seeded,
    folder: Path,
    clients: int,
    per_client: int,
    warmup: float,
    duration: float,
    meter: CpuMeter | None = None,
) -> PgbenchRun:
    """Run pgbench for warm-up + duration seconds; count the transactions that ended inside the window."""
    exe = available()
    if exe is None:
        raise RuntimeError("pgbench is not installed (Debian: postgresql-client or postgresql-contrib)")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("log*"):
        old.unlink()
    script = folder / "action.sql"
    script.write_text(SCRIPT, encoding="utf-8")
    variables = {
        "first": seeded.first_task_id,
        "per_client": per_client,
        "lead_user": seeded.lead_user_id,
        "lead_department": seeded.lead_department_id,
        "office_user": seeded.office_user_id,
    }
    command = [
        exe,
        "--no-vacuum",
        "--protocol=prepared",
        f"--client={clients}",
        "--jobs=2",
        f"--time={round(warmup + duration)}",
        f"--file={script}",
        "--log",
        f"--log-prefix={folder / 'log'}",
        *(f"--define={k}={v}" for k, v in variables.items()),
        seeded.dsn,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    meter = meter or CpuMeter()
    time.sleep(warmup)
    meter.start()
    time.sleep(duration)
    meter.stop()
    stdout, stderr = process.communicate(timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise RuntimeError(f"pgbench failed ({process.returncode}):\n{stderr[-3000:]}")
    ends: list[tuple[float, float]] = []
    failed = 0
    for log in folder.glob("log*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) < 6:
                continue
            if not fields[2].isdigit():  # "failed" or "skipped" instead of a latency
                failed += 1
                continue
            ends.append((int(fields[4]) + int(fields[5]) / 1e6, int(fields[2]) / 1e6))
    if not ends:
        raise RuntimeError(f"pgbench logged no transactions:\n{stdout[-2000:]}")
    start = min(end - latency for end, latency in ends) + warmup
    inside = sorted(latency for end, latency in ends if start <= end <= start + duration)
    return PgbenchRun(
        rate=len(inside) / duration,
        p50_ms=percentile(inside, 0.50) * 1000,
        p99_ms=percentile(inside, 0.99) * 1000,
        transactions=len(inside),
        failed=failed,
        # pgbench's CPU over its whole run, scaled to the window.
        cpu_seconds=((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))
        * duration
        / (warmup + duration),
    )
