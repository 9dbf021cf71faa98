"""Deliveries claimed CLAIM_BATCH ids at a time (a job, or the CLI's --deliver): each lease is taken just before
its rows are sent, over a real SMTP server that takes its time (it moves the frozen clock per mail)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock
from duban.core.config import get_settings
from duban.core.db import session_scope
from duban.notifications import delivery
from duban.notifications.channels import MailTransport
from duban.notifications.delivery import (
    CLAIM_BATCH,
    DELIVER_BATCH,
    DELIVER_JOB,
    LEASE,
    REQUEUE_AFTER,
    deliver,
    enqueue_delivery,
    relay,
)
from duban.notifications.digest import weekly_summary
from duban.notifications.messages import outbox_t
from duban.notifications.models import NotificationOutbox, OutboxKind, OutboxStatus
from tests.fixtures.services import SmtpCatcher, free_port
from tests.notifications.scenario import Scenario, at, open_scenario

MONDAY = "2025-10-13T10:00"  # a working day, in office hours


@dataclass
class SlowServer(SmtpCatcher):
    """An SMTP server that takes `step` of the (frozen) clock per mail; keeps each mail's outbox id and
    the client connection it came on."""

    step: dt.timedelta = dt.timedelta(seconds=10)
    outbox_ids: list[int] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the mail, then let the clock run on (the worker waits for this answer)."""
        answer = await super().handle_DATA(server, session, envelope)
        self.outbox_ids.append(int(self.messages[-1]["X-Duban-Outbox-Id"]))
        self.peers.append(session.peer)
        clock.set_now(clock.now() + self.step)
        return answer


@pytest.fixture
def slow_smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowServer]:
    """A real SMTP server (aiosmtpd) on a free port, configured as the mail backend."""
    from aiosmtpd.controller import Controller

    port = free_port()
    catcher = SlowServer("127.0.0.1", port)
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("DUBAN_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("DUBAN_SMTP_PORT", str(port))
    get_settings.cache_clear()
    try:
        yield catcher
    finally:
        controller.stop()


@pytest.fixture
def scene(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scenario]:
    monkeypatch.setenv("DUBAN_MAIL_DIR", str(tmp_path / "mail"))
    get_settings.cache_clear()
    clock.set_now(at(MONDAY))
    yield from open_scenario(session)


def _weekly_rows(scene: Scenario, count: int) -> list[int]:
    """`count` summaries to the office, due now, never queued (each one mail)."""
    summary = weekly_summary(scene.session, clock.today())
    payload = {**summary, "subject": f"【每周督办汇总】{summary['week_label']}", "board_link": "/overdue"}
    rows = [
        NotificationOutbox(
            dedupe_key=f"w:chunks-{n}:email",
            kind=OutboxKind.weekly,
            department_id=scene.ids["office"],
            recipient="sthbwbgs@duban.example",
            next_attempt_at=clock.now(),
            payload=payload,
        )
        for n in range(count)
    ]
    scene.session.add_all(rows)
    scene.session.commit()
    return sorted(row.id for row in rows if row.id is not None)


def _states(ids: list[int]) -> dict[int, tuple[str, int, dt.datetime]]:
    """(status, attempts, next_attempt_at) of each row, read in a unit of work of its own."""
    with session_scope() as unit:
        found = unit.connection().execute(
            sa.select(
                outbox_t.c.id, outbox_t.c.status, outbox_t.c.attempts, outbox_t.c.next_attempt_at
            ).where(outbox_t.c.id.in_(ids))
        )
        return {row.id: (row.status, row.attempts, row.next_attempt_at) for row in found}


@dataclass
class Claims:
    """What each call of `claim` was given, and what the rows and the server looked like around it."""

    chunks: list[list[int]] = field(default_factory=list)
    before: list[dict[int, tuple[str, int, dt.datetime]]] = field(default_factory=list)
    after: list[dict[int, tuple[str, int, dt.datetime]]] = field(default_factory=list)
    mails_before: list[int] = field(default_factory=list)
    clock_at: list[dt.datetime] = field(default_factory=list)


@contextmanager
def watching_claims(
    monkeypatch: pytest.MonkeyPatch, server: SlowServer, ids: list[int], first: Callable[[], None]
) -> Iterator[Claims]:
    """Record every claim of the real `claim` (after running `first`, the other worker's turn)."""
    seen = Claims()
    real = delivery.claim

    def watched(session: Session, chunk: Any, now: dt.datetime) -> Any:
        first()
        chunk = list(chunk)
        seen.chunks.append(chunk)
        seen.before.append(_states(ids))
        seen.mails_before.append(len(server.outbox_ids))
        seen.clock_at.append(clock.now())
        result = real(session, chunk, now)
        leased = session.connection().execute(
            sa.select(
                outbox_t.c.id, outbox_t.c.status, outbox_t.c.attempts, outbox_t.c.next_attempt_at
            ).where(outbox_t.c.id.in_(chunk))
        )
        seen.after.append({row.id: (row.status, row.attempts, row.next_attempt_at) for row in leased})
        return result

    monkeypatch.setattr(delivery, "claim", watched)
    yield seen


def _nothing() -> None:
    pass


@pytest.mark.parametrize("given", [None, at(MONDAY)], ids=["clock", "given-now"])
def test_a_job_takes_one_lease_of_at_most_twenty_rows_just_before_sending_them(
    scene: Scenario, slow_smtp: SlowServer, monkeypatch: pytest.MonkeyPatch, given: dt.datetime | None
) -> None:
    ids = _weekly_rows(scene, 45)
    queued_before = _states(ids)
    with watching_claims(monkeypatch, slow_smtp, ids, _nothing) as seen:
        outcomes = deliver(ids, given)
    assert outcomes == Counter(sent=45)
    assert seen.chunks == [ids[:20], ids[20:40], ids[40:]]
    assert max(len(chunk) for chunk in seen.chunks) == CLAIM_BATCH
    assert seen.mails_before == [0, 20, 40]  # each chunk claimed once the one before had gone out
    for number in range(len(seen.chunks)):
        earlier, later = ids[: 20 * number], ids[20 * number :]
        assert {seen.before[number][i][0] for i in earlier} <= {OutboxStatus.sent.value}
        # Rows of this chunk and the later ones: no lease yet, untouched since they were written.
        assert all(seen.before[number][i] == queued_before[i] for i in later)
        assert {state[0] for state in seen.before[number].values()} <= {"sent", "pending"}
        lease_start = given or seen.clock_at[number]
        assert {state[1:] for state in seen.after[number].values()} == {(1, lease_start + LEASE)}
    # The slow server took 450 s for the job; without a `now`, every lease started when it was claimed.
    assert seen.clock_at[2] - seen.clock_at[0] == 40 * slow_smtp.step
    assert slow_smtp.outbox_ids == ids
    assert len(set(slow_smtp.peers)) == 1  # one SMTP connection for the whole job
    assert {state[:2] for state in _states(ids).values()} == {(OutboxStatus.sent.value, 1)}


def test_relay_and_sweep_queue_jobs_of_at_most_one_lease_of_ids(scene: Scenario) -> None:
    ids = _weekly_rows(scene, 50)
    assert relay(scene.session, clock.now()) == ids
    scene.session.commit()
    jobs = [args for name, args in scene.sent_jobs if name == DELIVER_JOB]
    assert [len(job) for job in jobs] == [DELIVER_BATCH, DELIVER_BATCH, 10] == [20, 20, 10]
    assert [i for job in jobs for i in job] == ids
    scene.sent_jobs.clear()
    # The sweep queues its immediate notices written as queued (`mark=False`), in the same batches.
    assert enqueue_delivery(scene.session, ids[:41], clock.now(), mark=False) == 41
    scene.session.commit()
    assert [len(args) for name, args in scene.sent_jobs if name == DELIVER_JOB] == [20, 20, 1]


@dataclass
class OtherWorker:
    """At the first claim or send at or after `when`, the relay runs and a worker delivers what it queued."""

    scene: Scenario
    when: dt.datetime
    requeued: list[int] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    busy: bool = False

    def __call__(self) -> None:
        """The other worker's turn, once."""
        if self.busy or self.requeued or clock.now() < self.when:
            return
        self.busy = True
        self.scene.sent_jobs.clear()
        with session_scope() as unit:
            self.requeued = relay(unit, clock.now())
        for name, args in list(self.scene.sent_jobs):
            if name == DELIVER_JOB:
                self.outcomes.update(deliver(args))


@contextmanager
def other_worker(
    monkeypatch: pytest.MonkeyPatch, scene: Scenario, server: SlowServer, ids: list[int], when: dt.datetime
) -> Iterator[tuple[OtherWorker, Claims]]:
    """The other worker takes its turn before whichever comes first: the next claim or the next mail."""
    worker = OtherWorker(scene, when)
    real_send = MailTransport.send

    def send(transport: MailTransport, message: Any, outbox_id: int) -> None:
        worker()
        real_send(transport, message, outbox_id)

    monkeypatch.setattr(MailTransport, "send", send)
    with watching_claims(monkeypatch, server, ids, worker) as seen:
        yield worker, seen


def test_a_lease_that_runs_out_mid_chunk_is_claimed_again_and_nothing_goes_out_twice(
    scene: Scenario, slow_smtp: SlowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_smtp.step = dt.timedelta(minutes=2)  # 20 mails would take 40 minutes: the lease ends after 3
    ids = _weekly_rows(scene, 5)
    start = clock.now()
    with other_worker(monkeypatch, scene, slow_smtp, ids, start + LEASE) as (worker, seen):
        outcomes = deliver(ids)
    assert sorted(slow_smtp.outbox_ids) == ids  # every mail once
    # At 10:06 the relay found rows 4 and 5 `sending` with their lease over and queued them again; the
    # other worker sent them; this worker, seeing its lease over, claimed them again instead of sending.
    assert worker.requeued == ids[3:]
    assert worker.outcomes == Counter(sent=2)
    assert seen.chunks == [ids, ids[3:], ids[3:]]  # this worker's, the other's, this one's again
    assert outcomes == Counter(sent=3, done=2)
    assert len({m["Message-ID"] for m in slow_smtp.messages}) == 5
    assert {state[:2] for state in _states(ids[3:]).values()} == {(OutboxStatus.sent.value, 2)}


def test_rows_queued_again_before_their_chunk_is_claimed_go_out_once(
    scene: Scenario, slow_smtp: SlowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_smtp.step = dt.timedelta(seconds=12)  # a chunk takes 4 minutes, within its lease
    ids = _weekly_rows(scene, 65)
    start = clock.now()
    enqueue_delivery(scene.session, ids, start)  # queued 10:00, then delivered at once as the CLI does
    scene.session.commit()
    with other_worker(monkeypatch, scene, slow_smtp, ids, start + REQUEUE_AFTER) as (worker, seen):
        outcomes = deliver(ids)
    assert sorted(slow_smtp.outbox_ids) == ids  # every mail once
    # At 10:10 the last chunk (claimed at 10:12) was still pending, queued 10 minutes before: the relay
    # queued it again and the other worker sent it; this job's claim found those rows sent.
    assert worker.requeued == ids[60:]
    assert worker.outcomes == Counter(sent=5)
    assert seen.chunks == [ids[:20], ids[20:40], ids[40:60], ids[60:], ids[60:]]  # the other's, then ours
    assert outcomes == Counter(sent=60, done=5)
    assert {state[:2] for state in _states(ids).values()} == {(OutboxStatus.sent.value, 1)}
