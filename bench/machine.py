"""The machine and the versions a report was measured on, and CPU accounting from /proc."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bench.core import REPO_ROOT

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PACKAGES = ("fastapi", "sqlalchemy", "sqlmodel", "psycopg", "psycopg-pool", "uvicorn", "pydantic", "rich")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    for line in _read("/proc/cpuinfo").splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def ram_gib() -> float:
    """Total RAM in GiB, from /proc/meminfo."""
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / (1024 * 1024)
    return 0.0


def package_version(name: str) -> str:
    """An installed distribution's version, or `not installed`."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_revision() -> str:
    """The work tree's commit, marked `+changes` when files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def versions() -> dict[str, str]:
    """Python, SQLite and the Python packages the figures depend on."""
    found = {"Python": platform.python_version(), "SQLite": sqlite3.sqlite_version}
    for name in PACKAGES:
        found[name] = package_version(name)
    return found


def machine() -> dict[str, str]:
    """Cores, RAM, CPU model, kernel."""
    return {
        "cores": str(usable_cores()),
        "RAM": f"{ram_gib():.1f} GiB",
        "CPU": cpu_model(),
        "kernel": platform.release(),
    }


def busy_ticks() -> tuple[int, int]:
    """(busy, total) CPU clock ticks of the whole machine since boot, from /proc/stat."""
    fields = _read("/proc/stat").splitlines()[0].split()[1:]
    values = [int(v) for v in fields[:8]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def process_ticks(pid: int) -> int:
    """User + system clock ticks of one process (0 if it is gone)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    found = [pid]
    queue = [pid]
    while queue:
        current = queue.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = _read(str(task / "children")).split()
            for child in children:
                found.append(int(child))
                queue.append(int(child))
    return found


@dataclass
class CpuMeter:
    """CPU seconds used by a process tree and by the whole machine between start() and stop()."""

    root_pid: int | None = None
    _tree: list[int] | None = None
    _tree_start: int = 0
    _busy_start: int = 0
    tree_seconds: float = 0.0
    machine_seconds: float = 0.0

    def start(self) -> None:
        """Take the first reading."""
        if self.root_pid is not None:
            self._tree = descendants(self.root_pid)
            self._tree_start = sum(process_ticks(p) for p in self._tree)
        self._busy_start = busy_ticks()[0]

    def stop(self) -> None:
        """Take the second reading."""
        if self._tree is not None:
            self.tree_seconds = (sum(process_ticks(p) for p in self._tree) - self._tree_start) / CLOCK_TICKS
        self.machine_seconds = (busy_ticks()[0] - self._busy_start) / CLOCK_TICKS
