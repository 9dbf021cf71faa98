"""The root of every error duban raises on purpose; each domain has its own base under it."""

from __future__ import annotations

from typing import Any


class DubanError(Exception):
    """An expected failure with a stable code and a message in Chinese and English."""

    code: str = "error"

    def __init__(self, message_zh: str, message_en: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(f"{message_zh} / {message_en}")
        self.message_zh = message_zh
        self.message_en = message_en
        if code is not None:
            self.code = code
        self.extra: dict[str, Any] = extra


class ConfigurationError(DubanError):
    """Settings or runtime set-up that cannot work."""

    code = "configuration_error"
