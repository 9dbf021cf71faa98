"""Structured logs: JSON lines with the request id, the id accepted or replaced, the API's access line."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from duban.core.config import Settings
from duban.core.logging import (
    JOB,
    JsonFormatter,
    TextFormatter,
    accepted_request_id,
    configure_logging,
    request_context,
    uvicorn_log_config,
)


def _record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    logger = logging.getLogger("duban.test")
    return logger.makeRecord(
        "duban.test", logging.WARNING, __file__, 1, message, args or ("world",), None, extra=extra
    )


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger's handlers and level back after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_line_has_time_level_logger_message_and_extras() -> None:
    line = JsonFormatter().format(_record(route="/healthz", status=200, payload={"a": 1}))
    data = json.loads(line)
    assert data["level"] == "WARNING"
    assert data["logger"] == "duban.test"
    assert data["message"] == "hello world"
    assert data["route"] == "/healthz" and data["status"] == 200 and data["payload"] == {"a": 1}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", data["ts"])
    assert "request_id" not in data


def test_json_line_carries_the_request_id_in_force_when_the_record_was_made() -> None:
    with request_context("req-42"):
        record = _record()
    # Formatted after the request ended, as a queue or pytest's caplog would.
    assert json.loads(JsonFormatter().format(record))["request_id"] == "req-42"


def test_json_line_names_the_job_and_keeps_chinese_and_exceptions_readable() -> None:
    token = JOB.set(("duban.sweep", "task-1"))
    try:
        try:
            raise ValueError("坏了")
        except ValueError:
            record = logging.getLogger("duban.test").makeRecord(
                "duban.test", logging.ERROR, __file__, 1, "督办 %s", ("失败",), sys.exc_info()
            )
    finally:
        JOB.reset(token)
    line = JsonFormatter().format(record)
    assert "督办 失败" in line  # not \\u escapes
    data = json.loads(line)
    assert data["job"] == "duban.sweep" and data["job_id"] == "task-1"
    assert "ValueError: 坏了" in data["exc"]


def test_text_line_shows_the_request_id_in_brackets() -> None:
    with request_context("abc"):
        record = _record()
    assert "duban.test [abc] hello world" in TextFormatter().format(record)
    assert "[" not in TextFormatter().format(_record()).split("duban.test", 1)[1]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("3f2a-OA-00017", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("with space", False),
        ("new\nline", False),
        ("中文", False),
        ("", False),
        (None, False),
    ],
)
def test_a_client_request_id_is_kept_only_when_short_printable_ascii(given: str | None, kept: bool) -> None:
    result = accepted_request_id(given)
    if kept:
        assert result == given
    else:
        assert result != given and re.fullmatch(r"[0-9a-f]{32}", result)


def test_configure_logging_installs_one_handler_with_the_chosen_format(root_logging: None) -> None:
    stream = io.StringIO()
    settings = Settings(log_format="json", log_level="INFO")
    configure_logging(settings, stream)
    configure_logging(settings, stream)  # idempotent: still one duban handler
    marked = [h for h in logging.getLogger().handlers if getattr(h, "_duban_handler", False)]
    assert len(marked) == 1
    with request_context("rid-1"):
        logging.getLogger("duban.test").info("ready")
    assert json.loads(stream.getvalue().strip().splitlines()[-1])["request_id"] == "rid-1"


def test_uvicorn_log_config_is_a_valid_dict_config(root_logging: None) -> None:
    config = uvicorn_log_config(Settings(log_format="json"))
    logging.config.dictConfig(config)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler.formatter, JsonFormatter)
    assert logging.getLogger("uvicorn.access").level == logging.WARNING  # duban's access line replaces it
    text = uvicorn_log_config(Settings(log_format="text"))
    assert text["formatters"]["duban"]["()"].endswith("TextFormatter")


def test_the_api_returns_and_logs_the_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="duban.access"):
        given = client.get("/healthz", headers={"X-Request-ID": "oa-7781"})
        generated = client.get("/healthz")
        replaced = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert given.headers["x-request-id"] == "oa-7781"
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    assert replaced.headers["x-request-id"] != "bad id with spaces"
    access = [r for r in caplog.records if r.name == "duban.access"]
    assert len(access) == 3
    line = json.loads(JsonFormatter().format(access[0]))
    assert line["request_id"] == "oa-7781"
    assert line["method"] == "GET" and line["route"] == "/healthz" and line["status"] == 200
    assert line["duration_ms"] >= 0
    assert json.loads(JsonFormatter().format(access[1]))["request_id"] == generated.headers["x-request-id"]


def test_a_refused_oversized_body_still_carries_its_request_id(client: TestClient) -> None:
    response = client.post(
        "/api/v1/plans", content=b"x" * (6 * 1024 * 1024), headers={"X-Request-ID": "big-1"}
    )
    assert response.status_code == 413
    assert response.headers["x-request-id"] == "big-1"
