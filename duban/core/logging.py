"""Logs: one JSON object a line (`DUBAN_LOG_FORMAT=json`) or plain text, each with the request id in force.

The request id comes from the API's middleware (an incoming `X-Request-ID` or a new one) and travels with
the jobs that request queues, so a line written by a Celery worker names the request that caused it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any

from duban.core.config import Settings, get_settings

REQUEST_ID: ContextVar[str | None] = ContextVar("duban_request_id", default=None)
JOB: ContextVar[tuple[str, str] | None] = ContextVar("duban_job", default=None)

# A client's request id is kept when it is short printable ASCII; anything else is replaced.
_REQUEST_ID_SHAPE = re.compile(r"[\x21-\x7e]{1,64}")
_STANDARD_ATTRIBUTES = frozenset(
    [*logging.LogRecord("", 0, "", 0, "", None, None).__dict__, "message", "asctime", "taskName"]
)
_HANDLER_MARK = "_duban_handler"
# Attributes that are not the caller's extras: uvicorn's coloured copy of the message, our own.
_DROPPED_EXTRAS = frozenset({"color_message", "context", "duban_request_id", "duban_job"})


def accepted_request_id(value: str | None) -> str:
    """The client's request id when it is 1-64 printable ASCII characters, else a new one."""
    if value and _REQUEST_ID_SHAPE.fullmatch(value):
        return value
    return uuid.uuid4().hex


@contextmanager
def request_context(request_id: str | None) -> Iterator[None]:
    """Make `request_id` the current request id for log lines written inside the block."""
    token = REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        REQUEST_ID.reset(token)


_base_factory = logging.getLogRecordFactory()


def _record_with_context(*args: Any, **kwargs: Any) -> logging.LogRecord:
    # Stamped when the record is made, so a handler that formats later (a queue, pytest's caplog)
    # still sees the request and the job in force at the call.
    record = _base_factory(*args, **kwargs)
    record.duban_request_id = REQUEST_ID.get()
    record.duban_job = JOB.get()
    return record


if not getattr(_base_factory, "_duban", False):
    _record_with_context._duban = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(_record_with_context)


def _context(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    request_id = getattr(record, "request_id", None) or getattr(record, "duban_request_id", None)
    if request_id:
        fields["request_id"] = request_id
    job = getattr(record, "duban_job", None)
    if job is not None:
        fields["job"], fields["job_id"] = job
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, job, and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        payload: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            **_context(record),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES | _DROPPED_EXTRAS and not key.startswith("_"):
                payload.setdefault(key, value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A plain line with the request id in brackets when there is one."""

    def __init__(self) -> None:
        """The duban text layout."""
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as a text line."""
        fields = _context(record)
        parts = [fields[key] for key in ("request_id", "job") if key in fields]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


def formatter(settings: Settings | None = None) -> logging.Formatter:
    """The formatter the settings ask for."""
    config = settings or get_settings()
    return JsonFormatter() if config.log_format == "json" else TextFormatter()


def configure_logging(settings: Settings | None = None, stream: IO[str] | None = None) -> None:
    """Send every logger's records to one stream handler with duban's format (idempotent)."""
    config = settings or get_settings()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(config))
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(config.log_level)


def use_duban_format(logger: logging.Logger, settings: Settings | None = None) -> None:
    """Give the handlers another library installed on `logger` (Celery's) duban's format."""
    chosen = formatter(settings)
    for handler in logger.handlers:
        handler.setFormatter(chosen)


def uvicorn_log_config(settings: Settings | None = None) -> dict[str, Any]:
    """uvicorn's `log_config`: duban's format for its loggers and ours; its access log is left to
    duban's own access line, which carries the request id."""
    config = settings or get_settings()
    chosen = (
        "duban.core.logging.JsonFormatter"
        if config.log_format == "json"
        else ("duban.core.logging.TextFormatter")
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"duban": {"()": chosen}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "duban", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": config.log_level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": config.log_level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": config.log_level},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }
