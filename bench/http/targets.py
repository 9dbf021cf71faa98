"""One measured run of each target: duban's endpoint, the bare endpoint (each under uvicorn), pgbench."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.core import REPO_ROOT
from bench.http import pgbench
from bench.http.database import BENCH_SECRET, Seeded, sessions_opened, task_states
from bench.http.servers import HOST, Server, serve
from bench.machine import CpuMeter

DUBAN_APP = "duban.api.app:create_app"
BARE_APP = "bench.http.bare_app:create_app"


@dataclass(frozen=True)
class Load:
    """The shape of the load: clients, tasks per client, seconds, server processes."""

    clients: int
    per_client: int
    warmup: float
    duration: float
    workers: int


@dataclass(frozen=True)
class Figures:
    """One target's run: accepted actions/s, latencies, refusals, and who used the CPU meanwhile."""

    target: str
    rate: float
    p50_ms: float
    p99_ms: float
    refused: int
    statuses: dict[str, int]
    failures: list[str]
    server_cpu: float
    client_cpu: float
    machine_cpu: float
    duration: float
    connections_opened: int = 0

    def share(self, seconds: float) -> float:
        """CPU seconds as a percentage of one core over the window."""
        return 100.0 * seconds / self.duration


def duban_env(seeded: Seeded, var_dir: Path) -> dict[str, str]:
    """The environment `duban run --no-worker` would have, pointed at the bench database."""
    return {
        "DUBAN_DATABASE_URL": seeded.url,
        "DUBAN_ENV": "development",
        "DUBAN_SECRET_KEY": BENCH_SECRET,
        "DUBAN_VAR_DIR": str(var_dir),
        # No worker runs beside the measured API: /healthz must not wait for its heartbeat.
        "DUBAN_EXPECT_WORKER": "false",
    }


def bare_env(seeded: Seeded) -> dict[str, str]:
    """The bare app's environment."""
    return {
        "BENCH_BARE_DSN": seeded.dsn,
        "BENCH_LEAD_USER": str(seeded.lead_user_id),
        "BENCH_LEAD_DEPARTMENT": str(seeded.lead_department_id),
        "BENCH_OFFICE_USER": str(seeded.office_user_id),
    }


def loadgen_config(seeded: Seeded, load: Load, port: int, bare: bool) -> dict[str, Any]:
    """The generator's config: each client's tasks with their current state and version."""
    states = task_states(seeded)
    prefix = "/bare/tasks" if bare else "/api/v1/tasks"
    return {
        "host": HOST,
        "port": port,
        "action_path": prefix + "/{id}/actions/{action}",
        "get_path": prefix + "/{id}",
        "tokens": {"submit": seeded.lead_token, "return": seeded.office_token},
        "warmup": load.warmup,
        "duration": load.duration,
        "clients": [states[i * load.per_client : (i + 1) * load.per_client] for i in range(load.clients)],
    }


def drive(
    server: Server,
    config: dict[str, Any],
    load: Load,
    target: str,
    at_window: Callable[[], object] | None = None,
) -> Figures:
    """Run the generator against a running server and meter the CPU during the window (calling
    `at_window` when the window opens)."""
    meter = CpuMeter(root_pid=server.pid)
    generator = subprocess.Popen(
        [sys.executable, "-m", "bench.http.loadgen"],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert generator.stdin is not None
    generator.stdin.write(json.dumps(config))
    generator.stdin.close()
    time.sleep(load.warmup)
    if at_window is not None:
        at_window()
    meter.start()
    time.sleep(load.duration)
    meter.stop()
    assert generator.stdout is not None and generator.stderr is not None
    stdout = generator.stdout.read()
    stderr = generator.stderr.read()
    if generator.wait(timeout=120) != 0:
        raise RuntimeError(f"load generator failed:\n{stderr[-3000:]}")
    out = json.loads(stdout)
    return Figures(
        target=target,
        rate=out["rate"],
        p50_ms=out["p50_ms"],
        p99_ms=out["p99_ms"],
        refused=out["requests"] - out["accepted"],
        statuses=out["statuses"],
        failures=out["failures"],
        server_cpu=meter.tree_seconds,
        client_cpu=out["cpu_seconds"],
        machine_cpu=meter.machine_seconds,
        duration=load.duration,
    )


def run_http(target: str, seeded: Seeded, load: Load, scratch: Path) -> Figures:
    """Start the target's server, drive it, stop it."""
    bare = target == "bare"
    factory = BARE_APP if bare else DUBAN_APP
    env = bare_env(seeded) if bare else duban_env(seeded, scratch / "var")
    ready = "/ping" if bare else "/healthz"
    with serve(factory, env, load.workers, ready, scratch / f"{target}.log") as server:
        config = loadgen_config(seeded, load, server.port, bare)
        opened = sessions_opened(seeded)
        figures = drive(server, config, load, target)
        # pg_stat_database is updated when a session ends, so count after the server has stopped.
    return dataclasses.replace(figures, connections_opened=sessions_opened(seeded) - opened - 1)


def run_pgbench(seeded: Seeded, load: Load, scratch: Path) -> Figures:
    """pgbench with the same clients, tasks per client and window."""
    meter = CpuMeter()
    result = pgbench.run(
        seeded, scratch / "pgbench", load.clients, load.per_client, load.warmup, load.duration, meter
    )
    return Figures(
        target="pgbench",
        rate=result.rate,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        refused=result.failed,
        statuses={},
        failures=[],
        server_cpu=0.0,
        client_cpu=result.cpu_seconds,
        machine_cpu=meter.machine_seconds,
        duration=load.duration,
    )
