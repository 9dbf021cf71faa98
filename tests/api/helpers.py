"""Helpers of the API tests."""

from __future__ import annotations

from typing import Any

from httpx import Response


def problem(response: Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The problem+json body of a refusal, checked: its status, media type, zh / en detail and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    zh, _, en = body["detail"].partition(" / ")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) and en
    if code is not None:
        assert body["code"] == code, body
    return body
