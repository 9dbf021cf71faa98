"""Jobs after commit: sent as each commit lands, or batched a short window after it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from duban.core import jobs
from duban.core.db import build_engine

Sent = list[tuple[str, tuple[Any, ...]]]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sent]:
    """A capturing sender and a 50 ms batch window; whatever is still pending is sent afterwards."""
    monkeypatch.setenv("DUBAN_JOB_BATCH_SECONDS", "0.05")
    captured: Sent = []
    lock = threading.Lock()

    def capture(name: str, args: tuple[Any, ...]) -> None:
        with lock:
            captured.append((name, args))

    previous = jobs._sender
    jobs.set_sender(capture)
    yield captured
    jobs.flush_batched()
    jobs.set_sender(previous)


@pytest.fixture
def engine() -> Iterator[Engine]:
    """Sessions need a database to commit against; the jobs themselves touch none."""
    local = build_engine("sqlite://")
    yield local
    local.dispose()


def _wait_for(sent: Sent, count: int) -> list[Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ids = [i for _, args in list(sent) for i in args]
        if len(ids) >= count:
            return ids
        time.sleep(0.01)
    raise AssertionError(f"only {len(ids)} of {count} ids were sent: {sent}")


def test_commits_close_together_share_one_job_and_none_is_lost(engine: Engine, sent: Sent) -> None:
    def commit_many(first: int) -> None:
        for event_id in range(first, first + 50):
            with Session(engine) as session:
                jobs.enqueue_batched(session, "duban.notify_task_event", event_id)
                session.commit()

    threads = [threading.Thread(target=commit_many, args=(1000 * n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = _wait_for(sent, 200)
    assert sorted(ids) == sorted(1000 * n + i for n in range(4) for i in range(50))
    assert {name for name, _ in sent} == {"duban.notify_task_event"}
    assert len(sent) < 200  # batched: far fewer messages than commits


def test_a_rolled_back_unit_sends_nothing(engine: Engine, sent: Sent) -> None:
    with Session(engine) as session:
        jobs.enqueue_batched(session, "duban.notify_task_event", 7)
        session.rollback()
    time.sleep(0.2)
    jobs.flush_batched()
    assert sent == []


def test_a_large_batch_is_split_into_bounded_messages(engine: Engine, sent: Sent) -> None:
    with Session(engine) as session:
        jobs.enqueue_batched(session, "duban.notify_task_event", *range(1, 1201))
        session.commit()
    jobs.flush_batched()
    assert [len(args) for _, args in sent] == [jobs.BATCH_LIMIT, jobs.BATCH_LIMIT, 200]
    assert [i for _, args in sent for i in args] == list(range(1, 1201))


def test_window_zero_sends_each_commit_as_it_lands(
    engine: Engine, sent: Sent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBAN_JOB_BATCH_SECONDS", "0")
    with Session(engine) as session:
        jobs.enqueue_batched(session, "duban.notify_task_event", 3)
        assert sent == []
        session.commit()
    assert sent == [("duban.notify_task_event", (3,))]
