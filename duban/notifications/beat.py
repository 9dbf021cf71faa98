"""One beat at a time: beat sends its jobs only while it holds a lock; a second beat waits as a standby.

The sweep and the dispatcher are safe to run twice (every notice has a dedupe key), so the lock avoids
double work rather than double notices. On Redis the lock is a key with a time to live that the holder
renews on every tick; a beat that dies (even by SIGKILL) leaves a key that expires, and a standby takes
over within `LOCK_TTL` + `STANDBY_SECONDS`. The embedded runtime (filesystem broker, one machine) uses a
file lock, released by the operating system when the process ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import uuid
from pathlib import Path
from typing import IO, Any, Final, Protocol

from celery.beat import PersistentScheduler

from duban.core.config import Settings, get_settings
from duban.notifications.heartbeat import BEAT, Pulse

log = logging.getLogger("duban.beat")

LOCK_KEY: Final = "duban:beat:lock"
LOCK_TTL_MS: Final = 30_000
RENEW_SECONDS: Final = 5.0
STANDBY_SECONDS: Final = 5.0

# Take the lock when it is free, renew it when it is ours; 1 when held, 0 when someone else holds it.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class BeatLock(Protocol):
    """What the scheduler needs of a lock."""

    holder: str

    def hold(self) -> bool:
        """Take or renew the lock; False while another beat holds it (or the lock cannot be reached)."""
        ...

    def release(self) -> None:
        """Give the lock up if it is ours."""
        ...


class RedisBeatLock:
    """A lock key on the Redis broker, with a time to live renewed by its holder."""

    def __init__(self, url: str, ttl_ms: int = LOCK_TTL_MS, key: str = LOCK_KEY) -> None:
        """A lock on the Redis at `url`; nothing is taken until `hold()`."""
        import redis

        self.key = key
        self.ttl_ms = ttl_ms
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._hold = self._client.register_script(_HOLD)
        self._release = self._client.register_script(_RELEASE)

    def hold(self) -> bool:
        """Take or renew the lock."""
        try:
            return bool(self._hold(keys=[self.key], args=[self.holder, self.ttl_ms]))
        except Exception as error:  # redis.RedisError, OSError: the broker is away, so is beat's work
            log.warning("beat lock: Redis unreachable (%s)", type(error).__name__)
            return False

    def release(self) -> None:
        """Delete the key if it still names this holder."""
        with contextlib.suppress(Exception):
            self._release(keys=[self.key], args=[self.holder])


class FileBeatLock:
    """An exclusive `flock` on a file: the embedded runtime's beats share a machine."""

    def __init__(self, path: Path) -> None:
        """A lock on `path` (created when missing)."""
        self.path = path
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self._handle: IO[str] | None = None

    def hold(self) -> bool:
        """Take the lock once; keep it for the life of the process."""
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        """Unlock and close the file."""
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def beat_lock(settings: Settings | None = None) -> BeatLock:
    """The lock that suits the configured broker."""
    config = settings or get_settings()
    if config.broker_url.startswith(("redis://", "rediss://")):
        return RedisBeatLock(config.broker_url)
    return FileBeatLock(config.var_dir / "beat.lock")


class LockedScheduler(PersistentScheduler):  # type: ignore[misc]
    """Celery's persistent scheduler, ticking only while it holds the beat lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Set up the schedule and the lock (not taken yet)."""
        self.lock: BeatLock = beat_lock()
        self.holding = False
        self.pulse: Pulse | None = None  # the `beat` heartbeat, written while this beat holds the lock
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Send what is due when holding the lock; otherwise wait as a standby."""
        held = self.lock.hold()
        if held != self.holding:
            self.holding = held
            if held:
                log.info("beat lock taken by %s: this beat sends the schedule", self.lock.holder)
                self.pulse = Pulse([BEAT], self.lock.holder)
                self.pulse.start()
            else:
                log.warning("beat lock not held by %s: standing by", self.lock.holder)
                self._stop_pulse()
        if not held:
            return STANDBY_SECONDS
        interval = float(super().tick(*args, **kwargs) or 0.0)
        return min(interval, RENEW_SECONDS)

    def _stop_pulse(self) -> None:
        if self.pulse is not None:
            self.pulse.stop()
            self.pulse = None

    def close(self) -> None:
        """Save the schedule and release the lock."""
        self._stop_pulse()
        try:
            super().close()
        finally:
            self.lock.release()
