"""py-spy profiles of a benchmark's child process: wall-clock samples (waiting included), summarised."""

from __future__ import annotations

import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.core import Context

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


def profile_folder(ctx: Context) -> Path | None:
    """Where a benchmark's py-spy samples go (None when py-spy is not installed)."""
    return ctx.scratch / "profile" if available() else None


def record_command(output: Path, *options: str, rate: int = 100) -> list[str]:
    """`py-spy record` with `options`, raw stacks to `output`, sampling without pausing the target.

    `--nonblocking` reads the stacks without pausing the process, so a profiled run is timed as any
    other (py-spy's own CPU, a few per cent of one core, is the only cost it adds to the machine).
    """
    exe = available()
    if exe is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    output.parent.mkdir(parents=True, exist_ok=True)
    raw = ["--nonblocking", "--rate", str(rate), "--format", "raw", "--output", str(output)]
    return [exe, "record", *options, *raw]


def wrap(command: list[str], folder: Path | None, rate: int = 100) -> list[str]:
    """`command` under `py-spy record` (raw stacks in `folder`/profile.txt, idle kept); as is if no folder."""
    if folder is None:
        return command
    return [*record_command(folder / "profile.txt", "--idle", rate=rate), "--", *command]


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for raw in stack.split(";"):
        found = FRAME.match(raw)
        if found:
            frames.append((found.group("func"), found.group("file")))
    return frames


def stacks(folder: Path, pattern: str = "*.txt") -> Iterator[tuple[list[tuple[str, str]], int]]:
    """Each stack in `folder`'s raw files matching `pattern`: its frames (outermost first) and samples."""
    for path in folder.glob(pattern):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            frames = _frames(stack)
            if frames:
                yield frames, int(count_text)


def library(file: str, libraries: tuple[str, ...] = LIBRARIES) -> str:
    """The library a frame's file belongs to: one of `libraries`, duban, bench, or the rest."""
    top = file.split("/", 1)[0]
    if top in libraries or file.startswith(("duban/", "bench/")):
        return top
    return "Python stdlib and other"


def summarise(folder: Path) -> dict[str, Any]:
    """Samples by deepest duban function, by library of the leaf, hottest leaves; waiting counted apart."""
    functions: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = waiting = 0
    for frames, count in stacks(folder):
        total += count
        own = [f"{func} ({file})" for func, file in frames if file.startswith("duban/")]
        functions[own[-1] if own else "outside duban (start-up, imports, bench)"] += count
        func, file = frames[-1]
        if func.rsplit(".", 1)[-1] in WAITING:
            waiting += count
            libraries["waiting (database, network)"] += count
        else:
            libraries[library(file)] += count
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
        *share_table("deepest duban function on the stack", summary["functions"], total, code=True),
        "",
        *leaf_tables(summary, total),
    ]
    return "\n".join(lines)


def share_table(heading: str, counts: list[tuple[str, int]], total: int, *, code: bool = False) -> list[str]:
    """A two-column report table: each name (as code if `code`) and its share of `total` samples."""
    quote = "`" if code else ""
    rows = [f"| {quote}{name}{quote} | {100 * count / total:.1f}% |" for name, count in counts]
    return [f"| {heading} | share |", "|---|---:|", *rows]


def leaf_tables(summary: dict[str, Any], total: int) -> list[str]:
    """The tables of the innermost frames: by library, then the hottest functions."""
    libraries = share_table("library of the innermost frame", summary["libraries"], total)
    return [*libraries, "", *share_table("hottest innermost functions", summary["leaves"], total, code=True)]


def report(ctx: Context, folder: Path, what: str) -> None:
    """Add the profile of `what`, sampled into `folder`, to the benchmark's section."""
    ctx.detail(markdown(summarise(folder), f"{what} (sampled without pausing it, `--nonblocking`)"))
