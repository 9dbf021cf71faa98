"""A small HTTP/1.1 keep-alive load generator for task actions: `python -m bench.http.loadgen < config.json`.

One process, one event loop (uvloop when installed), one connection per client; each client owns its
own tasks and alternates `submit` (lead's token) and `return` (office's token, with a reason) on each,
sending the task's ETag as If-Match. A refused action marks the task stale, and the next turn reads it
with a GET first. Only responses that complete inside the measuring window (after the warm-up) count.
Prints one JSON object: accepted actions/s, latency percentiles, statuses and the generator's own CPU.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

CONNECTION_LOST = 599  # recorded for a request whose connection dropped
RETURN_REASON = "材料不全，请补充监测数据（基准测试）"


@dataclass
class TaskSlot:
    """A task as the client believes it is."""

    id: int
    state: str
    version: int
    stale: bool = False


@dataclass
class Window:
    """The measuring window and what happened inside it."""

    start: float
    end: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes | None, bytes]:
    """Status, ETag and body of one response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    etag = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"etag":
            etag = value.strip()
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, etag, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, etag, body
        body += chunk[:-2]


def _request(method: str, path: str, host: str, token: str, extra: str = "", body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Accept: application/json\r\n{extra}"
    )
    if method == "POST":
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def _version(etag: bytes | None, fallback: int) -> int:
    if not etag:
        return fallback
    digits = etag.strip(b'W/"v')
    return int(digits) if digits.isdigit() else fallback


class Client:
    """One connection working through its own tasks."""

    def __init__(self, config: dict[str, Any], tasks: list[TaskSlot], window: Window) -> None:
        self.config = config
        self.tasks = tasks
        self.window = window
        self.host = f"{config['host']}:{config['port']}"
        self.submit_body = b"{}"
        self.return_body = json.dumps({"reason": RETURN_REASON}, ensure_ascii=False).encode()

    def _record(self, status: int, began: float, ended: float) -> None:
        if self.window.start <= ended <= self.window.end:
            self.window.statuses[status] = self.window.statuses.get(status, 0) + 1
            if status == 200:
                self.window.latencies.append(ended - began)

    async def _refresh(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, slot: TaskSlot
    ) -> None:
        path = self.config["get_path"].format(id=slot.id)
        writer.write(_request("GET", path, self.host, self.config["tokens"]["submit"]))
        status, etag, body = await read_response(reader)
        if status == 200:
            data = json.loads(body)
            slot.state = data["state"]
            slot.version = _version(etag, int(data.get("version", slot.version)))
            slot.stale = False

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.config["host"], self.config["port"])

    async def _act(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, slot: TaskSlot) -> None:
        if slot.stale:
            await self._refresh(reader, writer, slot)
        action = "return" if slot.state == "submitted" else "submit"
        path = self.config["action_path"].format(id=slot.id, action=action)
        request = _request(
            "POST",
            path,
            self.host,
            self.config["tokens"][action],
            f'If-Match: "v{slot.version}"\r\n',
            self.return_body if action == "return" else self.submit_body,
        )
        began = time.perf_counter()
        writer.write(request)
        status, etag, body = await read_response(reader)
        self._record(status, began, time.perf_counter())
        if status == 200:
            slot.state = "returned" if action == "return" else "submitted"
            slot.version = _version(etag, slot.version + 1)
            return
        slot.stale = True
        if len(self.window.failures) < 5:
            self.window.failures.append(f"{status} {body[:300]!r}")

    async def run(self) -> None:
        """Send actions until the window closes; a dropped connection counts as status 599 and reconnects."""
        reader, writer = await self._connect()
        turn = 0
        try:
            while time.perf_counter() < self.window.end:
                slot = self.tasks[turn % len(self.tasks)]
                turn += 1
                began = time.perf_counter()
                try:
                    await self._act(reader, writer, slot)
                except (ConnectionError, asyncio.IncompleteReadError) as error:
                    self._record(CONNECTION_LOST, began, time.perf_counter())
                    slot.stale = True
                    if len(self.window.failures) < 5:
                        self.window.failures.append(f"{CONNECTION_LOST} {type(error).__name__}: {error}")
                    writer.close()
                    reader, writer = await self._connect()
        finally:
            writer.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def generate(config: dict[str, Any]) -> dict[str, Any]:
    """Run the clients through warm-up and the window; the summary of the window."""
    now = time.perf_counter()
    window = Window(now + config["warmup"], now + config["warmup"] + config["duration"])
    clients = [Client(config, [TaskSlot(*task) for task in tasks], window) for tasks in config["clients"]]
    runners = asyncio.gather(*(client.run() for client in clients))
    await asyncio.sleep(max(0.0, window.start - time.perf_counter()))
    cpu_start = _cpu_seconds()
    await asyncio.sleep(max(0.0, window.end - time.perf_counter()))
    cpu = _cpu_seconds() - cpu_start
    await runners
    latencies = sorted(window.latencies)
    accepted = window.statuses.get(200, 0)
    return {
        "accepted": accepted,
        "requests": sum(window.statuses.values()),
        "duration": config["duration"],
        "rate": accepted / config["duration"],
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else 0.0) * 1000,
        "statuses": {str(k): v for k, v in sorted(window.statuses.items())},
        "failures": window.failures,
        "cpu_seconds": cpu,
    }


def main() -> None:
    """Read the config from stdin, print the summary."""
    config = json.load(sys.stdin)
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        result = runner.run(generate(config))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
