"""py-spy profiles of a benchmark's child process: wall-clock samples (waiting included), summarised."""

from __future__ import annotations

import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::\d+)?\)$")
LIBRARIES = ("sqlalchemy", "sqlmodel", "psycopg", "pydantic", "jinja2", "kombu", "celery", "SpiffWorkflow")
# A leaf in one of these means the thread was waiting for the database or the network, not computing.
WAITING = (
    "wait",
    "wait_conn",
    "wait_c",
    "_wait",
    "select",
    "poll",
    "recv_into",
    "recv",
    "readinto",
    "sendall",
)


def available() -> str | None:
    """The py-spy executable (the venv's first), if installed."""
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def wrap(command: list[str], folder: Path, rate: int = 100) -> list[str]:
    """`command` run under `py-spy record` (raw stacks in `folder`/profile.txt, idle samples kept).

    `--nonblocking` reads the stacks without pausing the process, so a profiled run is timed as any
    other (py-spy's own CPU, a few per cent of one core, is the only cost it adds to the machine).
    """
    exe = available()
    if exe is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    folder.mkdir(parents=True, exist_ok=True)
    return [
        exe,
        "record",
        "--idle",
        "--nonblocking",
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--output",
        str(folder / "profile.txt"),
        "--",
        *command,
    ]


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for raw in stack.split(";"):
        found = FRAME.match(raw)
        if found:
            frames.append((found.group("func"), found.group("file")))
    return frames


def _library(file: str) -> str:
    top = file.split("/", 1)[0]
    if top in LIBRARIES or file.startswith(("duban/", "bench/")):
        return top
    return "Python stdlib and other"


def summarise(folder: Path) -> dict[str, Any]:
    """Samples by deepest duban function, by library of the leaf, hottest leaves; waiting counted apart."""
    functions: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = waiting = 0
    for path in folder.glob("*.txt"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            frames = _frames(stack)
            if not frames:
                continue
            total += count
            own = [f"{func} ({file})" for func, file in frames if file.startswith("duban/")]
            functions[own[-1] if own else "outside duban (start-up, imports, bench)"] += count
            func, file = frames[-1]
            if func.rsplit(".", 1)[-1] in WAITING:
                waiting += count
                libraries["waiting (database, network)"] += count
            else:
                libraries[_library(file)] += count
            leaves[f"{func} ({file})"] += count
    return {
        "samples": total,
        "waiting": waiting,
        "functions": functions.most_common(14),
        "libraries": libraries.most_common(),
        "leaves": leaves.most_common(12),
    }


def markdown(summary: dict[str, Any], what: str) -> str:
    """The profile as report tables (shares of all wall-clock samples)."""
    total = summary["samples"] or 1
    lines = [
        f"Profile of {what}: py-spy, wall clock, {summary['samples']} samples, "
        f"{100 * summary['waiting'] / total:.0f}% of them waiting on a socket (the database or SMTP):",
        "",
        "| deepest duban function on the stack | share |",
        "|---|---:|",
        *(f"| `{name}` | {100 * count / total:.1f}% |" for name, count in summary["functions"]),
        "",
        "| library of the innermost frame | share |",
        "|---|---:|",
        *(f"| {name} | {100 * count / total:.1f}% |" for name, count in summary["libraries"]),
        "",
        "| hottest innermost functions | share |",
        "|---|---:|",
        *(f"| `{name}` | {100 * count / total:.1f}% |" for name, count in summary["leaves"]),
    ]
    return "\n".join(lines)
