"""The fault interface: what a fault gets (private servers, a scratch folder) and what it reports."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

from sqlalchemy import Engine

from duban.core.config import Settings
from duban.core.db import build_engine
from duban.notifications.celery_app import celery_app, configure
from faults.services import MailServer, PrivatePostgres, PrivateRedis
from faults.world import NOW

TEMPLATE_DATABASE = "duban_template"
SECRET = secrets.token_urlsafe(36)

# The faults count deliveries of thousands of 督办单 notices in a bounded time; the 督办单 PDF on each mail
# (about 0.2 s of CPU apiece, tested in tests/notifications and tests/workflow/paperwork) would make the
# suite a PDF benchmark, so these mails go without it (the report's introduction says so).
MAIL_NOTICE_PDF: Final = "false"


@dataclass
class Outcome:
    """What one fault tried and found; any `failures` fail the suite."""

    name: str
    title: str
    tried: str
    found: list[str] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def passed(self) -> bool:
        """No failure and no crash of the fault itself."""
        return not self.failures and self.error is None

    def figure(self, name: str, value: object) -> None:
        """Record a figure for the report's table."""
        self.figures[name] = f"{value:.1f}" if isinstance(value, float) else str(value)

    def note(self, text: str) -> None:
        """Add a finding."""
        self.found.append(text)

    def check(self, condition: bool, failure: str) -> bool:
        """Record `failure` unless `condition` holds."""
        if not condition:
            self.failures.append(failure)
        return condition


@dataclass
class Context:
    """The private servers and a scratch folder; `database()` gives a fault a fresh migrated database."""

    scratch: Path
    postgres: PrivatePostgres
    redis: PrivateRedis
    mail: MailServer
    say: Callable[[str], None]
    engines: list[Engine] = field(default_factory=list)

    def database(self, name: str) -> tuple[str, Engine]:
        """A new database copied from the migrated template (departments loaded): URL and engine."""
        url = self.postgres.create_database(f"fault_{name}_{uuid.uuid4().hex[:6]}", TEMPLATE_DATABASE)
        engine = build_engine(url, pool_size=4, max_overflow=4)
        self.engines.append(engine)
        return url, engine

    def env(self, database_url: str, folder: Path, **extra: str) -> dict[str, str]:
        """The DUBAN_* environment of duban processes on this fault's database, the private Redis and
        the SMTP server, standing on the suite's Monday morning."""
        folder.mkdir(parents=True, exist_ok=True)
        return {
            "DUBAN_ENV": "production",
            "DUBAN_SECRET_KEY": SECRET,
            "DUBAN_VAR_DIR": str(folder),
            "DUBAN_DATABASE_URL": database_url,
            "DUBAN_BROKER_URL": self.redis.url(),
            "DUBAN_MAIL_BACKEND": "smtp",
            "DUBAN_SMTP_HOST": self.mail.host,
            "DUBAN_SMTP_PORT": str(self.mail.port),
            "DUBAN_NOW": NOW,
            "DUBAN_LOG_FORMAT": "json",
            "DUBAN_MAIL_NOTICE_PDF": MAIL_NOTICE_PDF,
            **extra,
        }

    @contextmanager
    def celery_on(self, database_url: str) -> Iterator[None]:
        """This process's Celery app (what it sends after commit) on the private Redis and `database_url`."""
        configure(
            celery_app, Settings(var_dir=self.scratch, broker_url=self.redis.url(), database_url=database_url)
        )
        try:
            yield
        finally:
            configure(celery_app, Settings(var_dir=self.scratch))

    def fresh_broker(self) -> None:
        """Empty the private Redis and the SMTP catcher between faults."""
        import redis

        redis.Redis.from_url(self.redis.url()).flushall()
        self.mail.clear()

    def close(self) -> None:
        """Dispose the engines the faults opened."""
        for engine in self.engines:
            engine.dispose()


class Fault(Protocol):
    """What `faults.run` expects of a fault module."""

    NAME: str
    TITLE: str

    def run(self, ctx: Context, outcome: Outcome) -> None: ...


def elapsed(since: float) -> float:
    """Seconds since a `time.monotonic()` reading."""
    return time.monotonic() - since
