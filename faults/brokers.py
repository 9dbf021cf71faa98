"""`python -m faults.brokers`: the embedded broker measured — half-written messages read and throughput of
kombu's filesystem transport, duban's (`duban.notifications.broker`) and kombu's SQLAlchemy on SQLite."""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from duban.notifications import broker

MESSAGES = 2000
PRODUCERS = 2
ROUNDS = 3
BODY = "督办" * 16384  # 32 Ki characters: a notify job carrying many event ids, or a big payload


def _options(kind: str, folder: Path) -> tuple[str, dict[str, Any]]:
    if kind == "sqlalchemy":
        return f"sqla+sqlite:///{folder / 'broker.sqlite3'}", {}
    for sub in ("queue", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
    }
    return "filesystem://", options


def _transport(kind: str) -> None:
    from kombu import transport

    if kind == "duban":
        broker.install()
    else:
        transport.TRANSPORT_ALIASES["filesystem"] = "kombu.transport.filesystem:Transport"
        transport._transport_cache.pop("filesystem", None)


def _produce(kind: str, folder: Path, count: int) -> None:
    _transport(kind)
    url, options = _options(kind, folder)
    with broker.connection(url, options) as conn:
        queue = conn.SimpleQueue("bench")
        for n in range(count):
            queue.put({"n": n, "body": BODY})
        queue.close()


def measure(kind: str, folder: Path) -> dict[str, float]:
    """Publish MESSAGES from PRODUCERS processes while this process consumes; count what broke."""
    _transport(kind)
    url, options = _options(kind, folder)
    each = MESSAGES // PRODUCERS
    context = multiprocessing.get_context("spawn")
    producers = [context.Process(target=_produce, args=(kind, folder, each)) for _ in range(PRODUCERS)]
    began = time.perf_counter()
    for producer in producers:
        producer.start()
    received = broken = 0
    with broker.connection(url, options) as conn:
        queue = conn.SimpleQueue("bench")
        idle_since = time.monotonic()
        while received + broken < MESSAGES and time.monotonic() - idle_since < 10:
            try:
                message = queue.get(timeout=0.05)
            except queue.Empty:
                continue
            except ValueError:  # JSONDecodeError: a file read before its body was written
                broken += 1
                idle_since = time.monotonic()
                continue
            message.ack()
            received += 1
            idle_since = time.monotonic()
        queue.close()
    seconds = time.perf_counter() - began
    failed = 0
    for producer in producers:
        producer.join()
        failed += producer.exitcode != 0
    return {
        "received": received,
        "half-written": broken,
        "producers failed": failed,
        "msg/s": round(received / seconds),
    }


KINDS = ("kombu-filesystem", "duban", "sqlalchemy")


def main(argv: list[str] | None = None) -> int:
    """Measure the transports named (default all three) `ROUNDS` times each, in fresh folders."""
    kinds = (argv if argv is not None else sys.argv[1:]) or list(KINDS)
    for _ in range(ROUNDS):
        for kind in kinds:
            with tempfile.TemporaryDirectory() as folder:
                print(kind, measure(kind, Path(folder)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
