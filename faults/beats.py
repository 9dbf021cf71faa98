"""Two beats at once: one holds the lock and sends the schedule, the other stands by and takes over
when the first is SIGKILLed; every notice still goes out once."""

from __future__ import annotations

import json
import time
from pathlib import Path

from duban.notifications.beat import LOCK_TTL_MS, STANDBY_SECONDS
from faults.core import Context, Outcome, elapsed
from faults.processes import Child, start_beat, start_worker
from faults.world import populate, rows, verdict, wait, waiting

NAME = "beats"
TITLE = "two beats at once"
INTERVAL = 10  # DUBAN_SWEEP_INTERVAL_SECONDS, the smallest the settings allow
BOTH_RUNNING = 42.0
AFTER_TAKEOVER = 2 * INTERVAL + 2.0
TASKS = 200
TAKEN = "beat lock taken"


def _json_lines(log: Path) -> list[dict[str, object]]:
    found = []
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
    return found


def _sweeps(worker_log: Path) -> int:
    """How many duban.sweep jobs the worker finished, from its JSON log."""
    return sum(
        1
        for record in _json_lines(worker_log)
        if record.get("logger") == "duban.worker"
        and str(record.get("message", "")).startswith("job duban.sweep")
    )


def _holds(beat: Child) -> bool:
    return TAKEN in beat.output()


def run(ctx: Context, outcome: Outcome) -> None:
    """Start two beats with a 10 s sweep interval, count the sweeps, kill the holder, time the takeover."""
    outcome.tried = (
        f"{TASKS} overdue tasks; a worker and two `celery beat` processes on the same Redis with a sweep "
        f"every {INTERVAL} s (dispatcher every 60 s); both ran {BOTH_RUNNING:.0f} s, then the beat holding "
        f"the lock was SIGKILLed and the other left running until it had taken over and swept twice more."
    )
    url, engine = ctx.database(NAME)
    populate(engine, TASKS, key="beats")
    folder = ctx.scratch / NAME
    env = ctx.env(url, folder, DUBAN_SWEEP_INTERVAL_SECONDS=str(INTERVAL))
    worker_log = folder / "worker.log"
    worker = start_worker(env, worker_log, concurrency=2, name="beats")
    beats: list[Child] = []
    started = time.monotonic()
    try:
        beats = [start_beat(env, folder / f"beat-{n}.log", folder / f"beat-{n}.schedule") for n in (1, 2)]
        time.sleep(BOTH_RUNNING)
        holders = [beat for beat in beats if _holds(beat)]
        sweeps_together = _sweeps(worker_log)
        outcome.check(len(holders) == 1, f"{len(holders)} beats took the lock while both ran")
        expected = int(BOTH_RUNNING // INTERVAL)
        outcome.check(
            sweeps_together <= expected + 1,
            f"{sweeps_together} sweeps in {BOTH_RUNNING:.0f} s with two beats: both sent the schedule",
        )
        outcome.check(
            sweeps_together >= expected - 1, f"only {sweeps_together} sweeps in {BOTH_RUNNING:.0f} s"
        )
        holder = holders[0] if holders else beats[0]
        standby = next(beat for beat in beats if beat is not holder)
        holder.kill()
        killed = time.monotonic()
        limit = LOCK_TTL_MS / 1000 + STANDBY_SECONDS + 5
        takeover = wait(lambda: _holds(standby), limit, "the standby beat to take over", standby.output, 0.2)
        sweeps_at_takeover = _sweeps(worker_log)
        time.sleep(AFTER_TAKEOVER)
        sweeps_after = _sweeps(worker_log) - sweeps_at_takeover
        outcome.check(sweeps_after >= 1, "no sweep after the standby took over")
        wait(lambda: waiting(engine) == 0, 60, "every notice sent", worker.output)
    finally:
        for beat in beats:
            beat.stop()
        worker.stop()
    result = verdict(rows(engine), ctx.mail.messages)
    outcome.figure("sweeps with two beats running", sweeps_together)
    outcome.figure("sweeps expected with one beat", expected)
    outcome.figure("seconds until the standby took over", round(takeover, 1))
    outcome.figure("sweeps after the takeover", sweeps_after)
    outcome.figure("notices", result.rows)
    outcome.figure("mails received", result.received)
    outcome.figure("lost", len(result.lost))
    outcome.figure("repeats", sum(result.repeats.values()))
    outcome.figure("seconds", round(elapsed(started), 1))
    outcome.note(
        f"with both beats up, one took the lock and the other stood by: {sweeps_together} sweeps in "
        f"{BOTH_RUNNING:.0f} s, as one beat sends ({expected} expected)"
    )
    outcome.note(
        f"after SIGKILL to the holder the standby took the lock in {takeover:.1f} s (lock TTL "
        f"{LOCK_TTL_MS / 1000:.0f} s + standby poll {STANDBY_SECONDS:.0f} s) and swept {sweeps_after} times "
        f"in the next {AFTER_TAKEOVER:.0f} s"
    )
    outcome.note(f"{result.received} mails for {result.rows} notices: each sent once")
    outcome.check(not result.lost, f"{len(result.lost)} notices lost")
    outcome.check(not result.repeats, f"{len(result.repeats)} notices sent twice")
    outcome.check(time.monotonic() - killed < 600, "the takeover took too long")
