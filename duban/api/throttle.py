"""Sign-in throttling (OWASP ASVS 2.2.1): repeated failures are slowed, then refused for a while, and nobody
can lock a real user out for good.

Three buckets count failed sign-ins in a sliding window (a failure older than `WINDOW` starts the count
again), each in a row of `signin_throttle`, so that every API process counts the same failures:

- **account and address** (`pair:`): after 4 failures each attempt waits 2, 4, 8 … 60 s; from the 10th the
  pair is refused for 15 minutes. It is the only bucket a correct password empties, and one an attacker
  elsewhere cannot fill.
- **address** (`addr:`): password spraying from one address, slowed after 20 failures, refused for 15
  minutes from the 50th (set high: a government network may put a whole office behind one address).
- **account** (`acct:`): guessing one account from many addresses: after 10 failures one attempt per 2, 4 …
  60 s for the account, never a refusal beyond that; an address the account signed in from in the last 30
  days (`known:`) is not held back by it, so an attack elsewhere cannot keep the user out.

A waiting bucket's next slot is claimed with one guarded UPDATE before the password is checked, so parallel
attempts cannot slip through together. Refusals answer 429 with `Retry-After` and are counted
(`duban_signin_throttled_total`) and logged, as every failure is (`duban_signin_failures_total`).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from duban.api.metrics import SIGNIN_FAILURES, SIGNIN_REFUSED
from duban.api.models import SigninThrottle
from duban.api.problems import TooManyAttempts
from duban.api.users import credentials_match
from duban.core import clock
from duban.core.db import Unit, session_scope, unit_scope
from duban.core.types import UTCDateTime
from duban.tasks.models import User

log = logging.getLogger("duban.auth")

throttle_t: Final = SigninThrottle.__table__  # type: ignore[attr-defined]
WINDOW: Final = dt.timedelta(minutes=30)
KNOWN_FOR: Final = dt.timedelta(days=30)
PURGE_CHANCE: Final = 0.01


@dataclass(frozen=True)
class Rule:
    """How one bucket answers its failures: free ones, then growing waits, then (maybe) a refusal."""

    name: str
    free: int
    max_delay: int
    block_after: int | None = None
    block_seconds: int = 0

    def penalty(self, failures: int) -> int | None:
        """Seconds the bucket must wait after `failures` failures in the window (None: no wait)."""
        if self.block_after is not None and failures >= self.block_after:
            return self.block_seconds
        if failures > self.free:
            return int(min(2 ** (failures - self.free), self.max_delay))
        return None


PAIR: Final = Rule("pair", free=4, max_delay=60, block_after=10, block_seconds=15 * 60)
ADDRESS: Final = Rule("addr", free=20, max_delay=60, block_after=50, block_seconds=15 * 60)
ACCOUNT: Final = Rule("acct", free=10, max_delay=60)


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt: the account named, the address it came from, and the way in (api or page)."""

    username: str
    address: str
    via: str

    def key(self, bucket: str) -> str:
        """The row key of one of the attempt's buckets (`pair`, `addr`, `acct`, `known`)."""
        account, address = self.username[:64], self.address[:64]
        return {
            "pair": f"pair:{account}|{address}",
            "addr": f"addr:{address}",
            "acct": f"acct:{account}",
            "known": f"known:{account}|{address}",
        }[bucket]


def _at(value: dt.datetime) -> sa.BindParameter[dt.datetime]:
    return sa.literal(value, UTCDateTime())


def _rows(unit: Unit, keys: Iterable[str]) -> dict[str, Any]:
    rows = unit.connection().execute(sa.select(throttle_t).where(throttle_t.c.key.in_(list(keys)))).all()
    return {row.key: row for row in rows}


def _refuse(attempt: Attempt, rule: Rule, seconds: float) -> TooManyAttempts:
    wait = max(1, math.ceil(seconds))
    SIGNIN_REFUSED.labels(attempt.via, rule.name).inc()
    log.warning(
        "sign-in throttled: account %r from %s (%s bucket), retry after %d s",
        attempt.username,
        attempt.address,
        rule.name,
        wait,
        extra={
            "account": attempt.username,
            "address": attempt.address,
            "bucket": rule.name,
            "via": attempt.via,
        },
    )
    return TooManyAttempts(
        f"登录失败次数过多，请 {wait} 秒后再试",
        f"Too many failed sign-ins; try again in {wait} seconds",
        retry_after=wait,
        headers={"Retry-After": str(wait)},
    )


def admit(unit: Unit, attempt: Attempt, now: dt.datetime | None = None) -> None:
    """Let the attempt go on to the password check, or raise TooManyAttempts (429) while one of its buckets
    waits; a bucket past its free failures has its next slot claimed here, atomically."""
    now = now or clock.now()
    rows = _rows(unit, [attempt.key(b) for b in ("pair", "addr", "acct", "known")])
    known = rows.get(attempt.key("known"))
    is_known = bool(known and known.last_success_at and known.last_success_at >= now - KNOWN_FOR)
    rules = [(PAIR, "pair"), (ADDRESS, "addr")] + ([] if is_known else [(ACCOUNT, "acct")])
    for rule, bucket in rules:
        row = rows.get(attempt.key(bucket))
        if row is None or row.last_failure_at is None or row.last_failure_at < now - WINDOW:
            continue
        if row.not_before is not None and row.not_before > now:
            raise _refuse(attempt, rule, (row.not_before - now).total_seconds())
        delay = rule.penalty(row.failures)
        if delay is None:
            continue
        claimed = unit.connection().execute(
            throttle_t.update()
            .where(
                throttle_t.c.key == attempt.key(bucket),
                sa.or_(throttle_t.c.not_before.is_(None), throttle_t.c.not_before <= _at(now)),
            )
            .values(not_before=_at(now + dt.timedelta(seconds=min(delay, rule.max_delay))))
        )
        if claimed.rowcount == 0:  # another attempt took the slot a moment ago
            raise _refuse(attempt, rule, 1)


def _upsert(unit: Unit, values: dict[str, Any], update: dict[str, Any]) -> Any:
    conn = unit.connection()
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(throttle_t).values(**values)
    return conn.execute(
        statement.on_conflict_do_update(index_elements=[throttle_t.c.key], set_=update).returning(
            throttle_t.c.failures
        )
    ).scalar_one()


def record_failure(unit: Unit, attempt: Attempt, now: dt.datetime | None = None) -> int:
    """Count a failed sign-in in its three buckets and set their waits; returns the pair's failures."""
    now = now or clock.now()
    SIGNIN_FAILURES.labels(attempt.via).inc()
    counts: dict[str, int] = {}
    for rule, bucket in ((PAIR, "pair"), (ADDRESS, "addr"), (ACCOUNT, "acct")):
        key = attempt.key(bucket)
        stale = sa.or_(
            throttle_t.c.last_failure_at.is_(None), throttle_t.c.last_failure_at < _at(now - WINDOW)
        )
        failures = _upsert(
            unit,
            {"key": key, "failures": 1, "last_failure_at": now},
            {
                "failures": sa.case((stale, 1), else_=throttle_t.c.failures + 1),
                "last_failure_at": _at(now),
            },
        )
        counts[rule.name] = failures
        wait = rule.penalty(failures)
        if wait is not None:
            unit.connection().execute(
                throttle_t.update()
                .where(throttle_t.c.key == key)
                .values(not_before=_at(now + dt.timedelta(seconds=wait)))
            )
    log.info(
        "sign-in failed: account %r from %s (%d for the account from there)",
        attempt.username,
        attempt.address,
        counts["pair"],
        extra={"account": attempt.username, "address": attempt.address, "via": attempt.via},
    )
    if random.random() < PURGE_CHANCE:  # housekeeping, not security
        purge(unit, now)
    return counts["pair"]


def record_success(unit: Unit, attempt: Attempt, now: dt.datetime | None = None) -> None:
    """A correct password: the account-and-address bucket empties and the address becomes known."""
    now = now or clock.now()
    conn = unit.connection()
    conn.execute(throttle_t.delete().where(throttle_t.c.key == attempt.key("pair")))
    _upsert(
        unit,
        {"key": attempt.key("known"), "failures": 0, "last_success_at": now},
        {"last_success_at": _at(now)},
    )


def forget_account(unit: Unit, username: str) -> None:
    """Empty an account's buckets (an administrator set a new password or enabled it again)."""
    unit.connection().execute(
        throttle_t.delete().where(
            sa.or_(
                throttle_t.c.key == f"acct:{username[:64]}",
                throttle_t.c.key.startswith(f"pair:{username[:64]}|", autoescape=True),
            )
        )
    )


def purge(unit: Unit, now: dt.datetime | None = None) -> int:
    """Delete the rows that no longer count for anything; returns how many."""
    now = now or clock.now()
    c = throttle_t.c
    result = unit.connection().execute(
        throttle_t.delete().where(
            sa.or_(c.last_failure_at.is_(None), c.last_failure_at < _at(now - WINDOW)),
            sa.or_(c.not_before.is_(None), c.not_before < _at(now)),
            sa.or_(c.last_success_at.is_(None), c.last_success_at < _at(now - KNOWN_FOR)),
        )
    )
    return int(result.rowcount or 0)


def client_address(request: Request) -> str:
    """The caller's address (behind the proxy, the one uvicorn took from X-Forwarded-For)."""
    return request.client.host if request.client else "unknown"


def guarded_sign_in(username: str, password: str, address: str, via: str) -> User | None:
    """The active user with these credentials, or None; TooManyAttempts (429) while the throttle holds the
    account or the address back. Each step is its own short unit of work — the bucket check, reading the
    user, recording the outcome — and the password is checked (argon2, slow on purpose) outside any, so
    that no transaction, nor SQLite's write lock, is held while it runs."""
    attempt = Attempt(username, address, via)
    with unit_scope() as unit:
        admit(unit, attempt)
    with session_scope() as session:
        found = session.exec(select(User).where(User.username == username)).first()
    user = credentials_match(found, password)
    with unit_scope() as unit:
        if user is None:
            record_failure(unit, attempt)
        else:
            record_success(unit, attempt)
    return user
