"""The embedded runtime's worker SIGKILLed three times in a row: `duban run`'s supervisor starts it again,
/healthz answers 503 while reminders are down and 200 once they are back, and the reminders that fell due
meanwhile go out within a minute, each once."""

from __future__ import annotations

import contextlib
import email
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from duban.core.db import build_engine
from duban.notifications.outbox import outbox_t
from faults.core import Context, Outcome, elapsed
from faults.processes import HOST, Child, children, descendants, role_of, spawn
from faults.services import free_port
from faults.world import NOW, attempts, populate, wait

NAME = "worker"
TITLE = "embedded worker SIGKILLed ×3 under `duban run`"
TASKS = 8  # 蓝色督办单 each: a mail renders its PDF while the delivery claim holds SQLite's write lock
KILLS = 3
RESUME_LIMIT = 60.0
HEARTBEAT = 1.0
STALE = 6.0


class HealthWatch:
    """Polls /healthz every second in a thread: (seconds since start, status, worker status)."""

    def __init__(self, port: int) -> None:
        """Start polling `port`."""
        self.port = port
        self.began = time.monotonic()
        self.seen: list[tuple[float, int, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(1.0):
            status, worker = 0, ""
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/healthz", timeout=5) as response:
                    status, body = response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                status, body = error.code, json.loads(error.read() or b"{}")
            except OSError:
                body = {}
            worker = str((body.get("worker") or {}).get("status", ""))
            self.seen.append((time.monotonic() - self.began, status, worker))

    def first(self, status: int, after: float = 0.0) -> float | None:
        """When `status` was first answered after `after` seconds."""
        return next((at for at, code, _ in self.seen if code == status and at > after), None)

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        self._thread.join(timeout=10)


class MailWatch:
    """Notes every write of a mail file (a file written again shows as a new inode)."""

    def __init__(self, folder: Path) -> None:
        """Watch `folder`."""
        self.folder = folder
        self.writes: Counter[str] = Counter()
        self._inodes: dict[str, int] = {}

    def look(self) -> int:
        """Record new and rewritten files; the number of mail files."""
        for path in self.folder.glob("*.eml") if self.folder.exists() else []:
            with contextlib.suppress(FileNotFoundError):
                inode = path.stat().st_ino
                if self._inodes.get(path.name) != inode:
                    self._inodes[path.name] = inode
                    self.writes[path.name] += 1
        return len(self._inodes)


def _env(folder: Path) -> dict[str, str]:
    return {
        "DUBAN_VAR_DIR": str(folder),
        "DUBAN_ENV": "development",
        "DUBAN_MAIL_BACKEND": "file",
        "DUBAN_NOW": NOW,
        "DUBAN_LOG_FORMAT": "json",
        "DUBAN_SWEEP_INTERVAL_SECONDS": "10",
        "DUBAN_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "DUBAN_HEARTBEAT_STALE_SECONDS": str(STALE),
    }


def _worker(run: Child) -> int | None:
    found = [pid for pid in children(run.process.pid) if role_of(pid) == "worker"]
    return found[0] if found else None


def _metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=10) as response:
        lines = response.read().decode().splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(name))


def _sent(engine: sa.Engine) -> int:
    """Reminders (notices) sent so far."""
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(outbox_t.c.kind == "notice", outbox_t.c.status == "sent")
        return int(conn.execute(query).scalar_one())


def _keys_of_mails(folder: Path, engine: sa.Engine) -> Counter[str]:
    """Mail files per natural key (the outbox row's dedupe key, found by the mail's Message-ID)."""
    with engine.connect() as conn:
        keys = {
            str(row.message_id): str(row.dedupe_key)
            for row in conn.execute(sa.select(outbox_t.c.message_id, outbox_t.c.dedupe_key))
        }
    found: Counter[str] = Counter()
    for path in folder.glob("*.eml") if folder.exists() else []:
        message = email.message_from_bytes(path.read_bytes())
        found[keys.get(str(message["Message-ID"]), f"unknown:{path.name}")] += 1
    return found


def run(ctx: Context, outcome: Outcome) -> None:
    """Start `duban run` on SQLite and the filesystem broker, kill its worker, make reminders due."""
    outcome.tried = (
        f"`duban run` on its embedded runtime (SQLite, filesystem broker, mail to files; heartbeat every "
        f"{HEARTBEAT:.0f} s, stale after {STALE:.0f} s, a sweep every 10 s); once healthy, SIGKILL to the "
        f"worker's process group (Celery's main process and its pool), {TASKS} overdue tasks written at "
        f"once, and each replacement the supervisor started SIGKILLed again as soon as it appeared, "
        f"{KILLS} kills in all. Checked: /healthz answers 503 while reminders are down and 200 again "
        f"after; every reminder that fell due is mailed within {RESUME_LIMIT:.0f} s of the first kill, "
        "one mail file per natural key, none written twice; the restarts are logged and counted."
    )
    folder = ctx.scratch / NAME
    env = _env(folder)
    duban = str(Path(sys.executable).with_name("duban"))
    subprocess.run([duban, "db", "upgrade"], env={**os.environ, **env}, check=True, capture_output=True)  # noqa: S603
    writer = build_engine(f"sqlite:///{folder / 'duban.sqlite3'}")
    # The suite only reads while it watches: a plain engine (deferred BEGIN) never takes SQLite's write
    # lock, which duban's engines take for every transaction, away from the runtime under test.
    engine = sa.create_engine(f"sqlite:///{folder / 'duban.sqlite3'}", connect_args={"timeout": 30})
    ctx.engines += [writer, engine]
    port = free_port()
    runtime = spawn([duban, "run", "--host", HOST, "--port", str(port)], env, folder / "run.log")
    mails = MailWatch(folder / "mail")
    leftovers: set[int] = set()
    health: HealthWatch | None = None
    started = time.monotonic()
    try:
        health = HealthWatch(port)
        up = wait(lambda: health.first(200) is not None, 120, "duban run healthy", runtime.output, 0.2)
        ctx.say(f"  duban run healthy after {up:.0f} s")
        killed_at = health.began
        victims: list[int] = []
        for kill in range(KILLS):
            pid = _worker(runtime)
            if pid is None or pid in victims:
                wait(
                    lambda: _worker(runtime) not in (None, *victims), 60, "a new worker", runtime.output, 0.05
                )
                pid = _worker(runtime)
            assert pid is not None
            leftovers |= {pid, *descendants(pid)}
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            victims.append(pid)
            if kill == 0:
                killed_at = time.monotonic()
                populate(writer, TASKS, key="worker")
        first_kill = killed_at - health.began
        sent = wait(lambda: mails.look() >= _sent(engine) >= TASKS, 120, "the reminders", runtime.output, 0.5)
        resumed = time.monotonic() - killed_at
        down = health.first(503, first_kill)
        wait(lambda: health.first(200, down or first_kill) is not None, 60, "healthy again", runtime.output)
        back = health.first(200, down or first_kill)
        time.sleep(3)  # a repeat would come now, if at all
        mails.look()
        restarts = _metric(port, 'duban_runtime_restarts_total{process="worker"}')
    finally:
        if health is not None:
            health.stop()
        leftovers |= descendants(runtime.process.pid)
        runtime.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            runtime.process.wait(timeout=60)
        runtime.kill()
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    log = runtime.output()
    per_key = _keys_of_mails(folder / "mail", engine)
    with engine.connect() as conn:
        kinds = Counter(str(kind) for (kind,) in conn.execute(sa.select(outbox_t.c.kind)))
    notices = kinds["notice"]
    rewritten = sum(count - 1 for count in mails.writes.values())
    tries = attempts(engine)
    corrupt = folder / "broker" / "processed" / "corrupt"
    set_aside = len(list(corrupt.iterdir())) if corrupt.exists() else 0
    logged = log.count("worker exited (signal 9")
    outcome.figure("kills", len(victims))
    outcome.figure(
        "seconds from the first kill to /healthz 503", round(down - first_kill, 1) if down else "never"
    )
    outcome.figure(
        "seconds from the first kill to /healthz 200 again", round(back - first_kill, 1) if back else "-"
    )
    outcome.figure("seconds from the first kill to every reminder mailed", round(resumed, 1))
    outcome.figure("reminders", notices)
    outcome.figure(
        "other messages (the weekly summary, due on Monday morning)", sum(kinds.values()) - notices
    )
    outcome.figure("mail files", sum(per_key.values()))
    outcome.figure("natural keys mailed more than once", sum(1 for n in per_key.values() if n > 1))
    outcome.figure("mail files written twice", rewritten)
    outcome.figure("attempts per row", dict(sorted(tries.items())))
    outcome.figure("restarts counted (duban_runtime_restarts_total)", int(restarts))
    outcome.figure("restarts logged", logged)
    outcome.figure("message files set aside as unreadable", set_aside)
    outcome.figure("seconds", round(elapsed(started), 1))
    outcome.note(
        f"the supervisor noticed each death and started a new worker after 1, 2 and 4 s (its backoff while "
        f"a worker keeps dying young); /healthz answered 503 {down - first_kill:.1f} s after the first kill "
        f"and 200 again {back - first_kill:.1f} s after it"
        if down and back
        else "/healthz never answered 503 while the worker was down"
    )
    outcome.note(
        f"{notices} reminders fell due while the worker was down; all were mailed {resumed:.1f} s after "
        f"the first kill ({sent:.1f} s of waiting), {sum(per_key.values())} mail files for {len(per_key)} "
        "natural keys, none written twice"
    )
    outcome.check(down is not None, "/healthz never answered 503 while the worker was down")
    outcome.check(back is not None, "/healthz did not answer 200 again")
    outcome.check(notices == TASKS, f"{notices} reminders for {TASKS} overdue tasks")
    outcome.check(resumed <= RESUME_LIMIT, f"reminders resumed only {resumed:.0f} s after the first kill")
    outcome.check(
        len(per_key) == sum(kinds.values()), f"{sum(kinds.values()) - len(per_key)} messages never mailed"
    )
    outcome.check(all(n == 1 for n in per_key.values()), "a natural key was mailed more than once")
    outcome.check(rewritten == 0 and set(tries) == {1}, f"mails sent twice: {rewritten}, attempts {tries}")
    outcome.check(int(restarts) == KILLS and logged == KILLS, f"restarts {restarts} counted, {logged} logged")
    outcome.check(set_aside == 0, f"{set_aside} message files could not be read")
