"""Tasks that are due for notices, and what became of the outbox rows and the mails they caused.

Shared by the fault suite and the worker tests: the clock stands on a Monday in office hours so that
nothing waits for the office to open, whatever time the suite runs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from duban.core import clock
from duban.notifications.delivery import LEASE, REQUEUE_AFTER, relay
from duban.notifications.models import OutboxStatus
from duban.notifications.outbox import department_t, outbox_t
from duban.tasks.departments import load_departments
from duban.tasks.enums import AssignmentRole, LeadSource, TaskState
from duban.tasks.models import Plan, TaskAssignment
from duban.workflow.policy import task_t

NOW = "2025-10-13T10:00:00+08:00"  # Monday, office hours; deadlines of 10-09 are 3 working days late
DEADLINE = dt.date(2025, 10, 9)
# When the leases of a killed worker have run out and the relay queues its rows again.
AFTER_LEASES = dt.datetime.fromisoformat(NOW) + max(LEASE, REQUEUE_AFTER) + dt.timedelta(minutes=1)


def populate(engine: Engine, tasks: int, *, key: str = "kill", lead: int | None = None) -> list[int]:
    """`tasks` in-progress tasks due 10-09, led by `lead` or round-robin by every department."""
    with Session(engine) as session:
        load_departments(session)
        session.flush()
        departments = [
            row.id for row in session.execute(sa.select(department_t.c.id).order_by(department_t.c.id))
        ]
        plan = Plan(key=key, title="投递压力测试", content_hash=f"{key:0>64}"[-64:])
        session.add(plan)
        session.flush()
        issued = dt.datetime(2025, 6, 2, 9, tzinfo=clock.TZ)
        ids = list(
            session.execute(
                task_t.insert().returning(task_t.c.id),
                [
                    {
                        "plan_id": plan.id,
                        "title": f"推进第{i}项整治任务",
                        "state": TaskState.in_progress.value,
                        "supervision_level": "none",
                        "deadline": DEADLINE,
                        "original_deadline": DEADLINE,
                        "version": 1,
                        "issued_at": issued,
                        "created_at": issued,
                        "updated_at": issued,
                        "region_code": f"{key}{i}",
                    }
                    for i in range(tasks)
                ],
            )
            .scalars()
            .all()
        )
        session.execute(
            TaskAssignment.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "task_id": task_id,
                    "department_id": lead if lead is not None else departments[n % len(departments)],
                    "role": AssignmentRole.lead.value,
                    "source": LeadSource.explicit.value,
                    "evidence": [],
                    "position": 0,
                }
                for n, task_id in enumerate(ids)
            ],
        )
        session.commit()
    return ids


def unsent(engine: Engine) -> int:
    """Outbox rows not sent yet."""
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(outbox_t.c.status != OutboxStatus.sent.value)
        return int(conn.execute(query).scalar_one())


def waiting(engine: Engine) -> int:
    """Rows waiting to be delivered on their own (pending or in a worker's hands; not digest items)."""
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(
            outbox_t.c.status.in_([OutboxStatus.pending.value, OutboxStatus.sending.value]),
            sa.or_(outbox_t.c.kind != "notice", outbox_t.c.delivery == "immediate"),
        )
        return int(conn.execute(query).scalar_one())


def rows(engine: Engine) -> dict[int, tuple[str, str | None]]:
    """Every outbox row: id → (status, Message-ID)."""
    with engine.connect() as conn:
        return {
            row.id: (str(row.status), row.message_id)
            for row in conn.execute(sa.select(outbox_t.c.id, outbox_t.c.status, outbox_t.c.message_id))
        }


def in_flight(engine: Engine) -> set[int]:
    """Rows a worker holds the lease on (claimed, maybe sent, not yet marked)."""
    return {row_id for row_id, (status, _) in rows(engine).items() if status == OutboxStatus.sending.value}


def attempts(engine: Engine) -> Counter[int]:
    """How many rows took how many attempts."""
    with engine.connect() as conn:
        return Counter(int(n) for (n,) in conn.execute(sa.select(outbox_t.c.attempts)))


def settled(engine: Engine, redis_url: str, quiet: float = 1.0) -> Callable[[], bool]:
    """True once the broker's delivery queue is empty and no row has been sent for `quiet` seconds."""
    import redis

    client = redis.Redis.from_url(redis_url)
    last: list[tuple[int, float]] = [(-1, time.monotonic())]

    def check() -> bool:
        count = unsent(engine)
        if count != last[0][0]:
            last[0] = (count, time.monotonic())
            return False
        return int(client.llen("delivery")) == 0 and time.monotonic() - last[0][1] > quiet

    return check


def wait(
    condition: Callable[[], bool], seconds: float, what: str, log: Callable[[], str] = str, every: float = 0.1
) -> float:
    """Wait until `condition()`; returns the seconds it took, raises with `log()` after `seconds`."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > seconds:
            raise AssertionError(f"timed out waiting for {what}\n{log()[-4000:]}")
        time.sleep(every)
    return time.monotonic() - began


def relay_at(engine: Engine, moment: dt.datetime) -> list[int]:
    """Play beat's dispatcher at `moment`: queue again what is due (new, retried, expired leases)."""
    with Session(engine) as session:
        requeued = relay(session, moment)
        session.commit()
    return requeued


def drain(
    engine: Engine, redis_url: str, log: Callable[[], str], first: dt.datetime = AFTER_LEASES
) -> tuple[list[int], int]:
    """Play beat's relay at `first` and later until every row is sent: a send that failed is retried
    after its backoff, and the relay runs only while no row is in a worker's hands (no live lease is
    taken away). Returns the rows re-queued and the number of relay passes."""
    requeued = relay_at(engine, first)
    passes = 1
    for attempt in range(1, 18):
        if unsent(engine) == 0:
            break
        wait(settled(engine, redis_url), 60, "the relayed rows", log)
        if unsent(engine) and not in_flight(engine):
            requeued += relay_at(engine, first + dt.timedelta(minutes=15 * attempt))
            passes += 1
    wait(lambda: unsent(engine) == 0, 60, "every row sent", log)
    return requeued, passes


@dataclass
class Verdict:
    """What the mails received say about the outbox rows: lost rows and repeated messages."""

    rows: int
    received: int
    distinct: int
    lost: list[int] = field(default_factory=list)
    repeats: dict[int, int] = field(default_factory=dict)  # row id → extra copies received
    unexplained: dict[int, int] = field(default_factory=dict)  # repeats beyond the row's kills in flight

    @property
    def ok(self) -> bool:
        """No row lost, no repeat that a kill does not explain."""
        return not self.lost and not self.unexplained


def verdict(
    outbox: Mapping[int, tuple[str, str | None]],
    messages: Sequence[Message],
    flights: Iterable[set[int]] = (),
) -> Verdict:
    """Compare rows with mails: a row may repeat once per interruption that caught it in flight."""
    counts = Counter(str(message["Message-ID"]) for message in messages)
    caught = Counter(row_id for flight in flights for row_id in flight)
    result = Verdict(len(outbox), len(messages), len(counts))
    for row_id, (_, message_id) in outbox.items():
        copies = counts[str(message_id)] if message_id else 0
        if copies == 0:
            result.lost.append(row_id)
        elif copies > 1:
            result.repeats[row_id] = copies - 1
            if copies - 1 > caught[row_id]:
                result.unexplained[row_id] = copies - 1 - caught[row_id]
    return result
