"""The embedded broker: no reader sees a partial message, an unreadable file never kills a consumer, a
message is taken by one consumer only."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from duban.core.config import Settings
from duban.notifications import broker
from duban.notifications.celery_app import broker_options, celery_app


@pytest.fixture(autouse=True)
def _fresh_broker_state() -> None:
    # kombu keeps declared exchanges and bindings per process, not per folder: each test has its own.
    broker.Transport.global_state.clear()  # type: ignore[no-untyped-call]


def _options(folder: Path) -> dict[str, Any]:
    return broker_options(Settings(var_dir=folder))


def _queue(conn: Any) -> Any:
    return conn.SimpleQueue("sweeps")


def test_filesystem_urls_use_dubans_transport(tmp_path: Path) -> None:
    with broker.connection("filesystem://", _options(tmp_path)) as conn:
        assert conn.transport_cls is broker.Transport or isinstance(conn.transport, broker.Transport)
    with celery_app.connection_for_write() as conn:
        assert isinstance(conn.transport, broker.Transport)


def test_a_half_written_message_is_set_aside_not_raised(tmp_path: Path) -> None:
    options = _options(tmp_path)
    with broker.connection("filesystem://", options) as conn:
        queue = _queue(conn)
        queue.put({"n": 1})
        folder = Path(options["data_folder_in"])
        # What kombu's own transport leaves for a reader between creating a file and writing its body.
        (folder / "1_00000000-0000-0000-0000-000000000000.sweeps.msg").write_text('{"body": "eyJu')
        received = queue.get(timeout=1)
        assert received.payload == {"n": 1}
        received.ack()
        with pytest.raises(queue.Empty):
            queue.get(timeout=0.2)
        queue.close()
    corrupt = list((Path(options["processed_folder"]) / broker.CORRUPT).iterdir())
    assert [path.name.split(".", 1)[1] for path in corrupt] == ["sweeps.msg"]


def test_a_message_appears_whole_under_its_name_and_leaves_nothing_behind(tmp_path: Path) -> None:
    options = _options(tmp_path)
    folder = Path(options["data_folder_in"])
    (folder / ".abc123.part").write_bytes(b'{"half')  # a writer's temporary file: nobody's message
    with broker.connection("filesystem://", options) as conn:
        queue = _queue(conn)
        queue.put({"body": "督办" * 50_000})
        names = sorted(path.name for path in folder.iterdir())
        assert names[0] == ".abc123.part" and names[1].endswith(".sweeps.msg") and len(names) == 2
        assert queue.qsize() == 1
        received = queue.get(timeout=1)
        assert received.payload == {"body": "督办" * 50_000}
        received.ack()
        queue.close()
    assert sorted(path.name for path in folder.iterdir()) == [".abc123.part"]
    assert not [path for path in Path(options["processed_folder"]).iterdir() if path.is_file()]


def test_two_consumers_take_each_message_once(tmp_path: Path) -> None:
    options = _options(tmp_path)
    count = 300
    with broker.connection("filesystem://", options) as conn:
        queue = _queue(conn)
        for n in range(count):
            queue.put({"n": n})
        queue.close()
    taken: list[list[int]] = [[], []]

    def consume(into: list[int]) -> None:
        with broker.connection("filesystem://", options) as conn:
            queue = _queue(conn)
            while True:
                try:
                    message = queue.get(timeout=0.5)
                except queue.Empty:
                    break
                into.append(int(message.payload["n"]))
                message.ack()
            queue.close()

    threads = [threading.Thread(target=consume, args=(into,)) for into in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(taken[0] + taken[1]) == list(range(count))
