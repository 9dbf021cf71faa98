"""Private servers for the fault suite, on free loopback ports: PostgreSQL, Redis and an SMTP catcher.

The suite stops and restarts these, so it never touches the shared servers other work depends on. A
PostgreSQL cluster runs as the `postgres` user when the suite runs as root (initdb refuses root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import psycopg

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path:
    """The newest PostgreSQL server programs installed (Debian layout), or the ones on PATH."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if versions:
        return versions[-1]
    found = shutil.which("pg_ctl")
    if found is None:
        raise RuntimeError("找不到 PostgreSQL（pg_ctl）/ PostgreSQL (pg_ctl) is not installed")
    return Path(found).parent


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in `root`, listening on its own loopback port."""

    def __init__(self, root: Path) -> None:
        """Nothing runs until `init()` and `start()`."""
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.bin = postgres_bin()
        self._as_postgres = os.geteuid() == 0

    def _run(self, *argv: str, timeout: float = 120) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)  # noqa: S603

    def init(self) -> None:
        """Create the cluster (trust authentication on loopback, fsync on: commits are durable)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses={HOST} -k {self.root} -c max_connections=200 "
            "-c shared_buffers=128MB -c fsync=on -c synchronous_commit=on"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast` rolls back open transactions and disconnects everyone)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    @property
    def admin_dsn(self) -> str:
        """A libpq URL of the maintenance database."""
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of `database`."""
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create `name` (optionally a copy of `template`) and return its SQLAlchemy URL."""
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def server_version(self) -> str:
        """The server's version string."""
        with psycopg.connect(self.admin_dsn) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"

    def destroy(self) -> None:
        """Stop the server if it runs and delete the cluster."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A redis-server without persistence on its own loopback port (a restart empties it)."""

    def __init__(self, root: Path) -> None:
        """Nothing runs until `start()`."""
        self.root = root
        self.port = free_port()
        self.log = root / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        """The Redis URL of database `db`."""
        return f"redis://{HOST}:{self.port}/{db}"

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        import redis

        self.root.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(  # noqa: S603
                [
                    shutil.which("redis-server") or "redis-server",
                    "--bind",
                    HOST,
                    "--port",
                    str(self.port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.root),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis.from_url(self.url())
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start; see {self.log}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server without saving (whatever was queued is gone)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None


@dataclass
class MailServer:
    """An SMTP server (aiosmtpd) on a fixed loopback port that can be taken down and brought back."""

    port: int = field(default_factory=free_port)
    host: str = HOST
    messages: list[Message] = field(default_factory=list)
    _controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """aiosmtpd hook: keep every message."""
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"

    @property
    def running(self) -> bool:
        """Whether the server is up."""
        return self._controller is not None

    def start(self) -> None:
        """Listen on the port (again)."""
        from aiosmtpd.controller import Controller

        if self._controller is None:
            self._controller = Controller(self, hostname=self.host, port=self.port)
            self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until `start()`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self, count: int) -> Callable[[], bool]:
        """A condition: at least `count` messages have arrived."""
        return lambda: len(self.messages) >= count

    def clear(self) -> None:
        """Forget the messages received so far."""
        self.messages.clear()
