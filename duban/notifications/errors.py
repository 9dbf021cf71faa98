"""Errors of the notifications domain (outbox, channels, templates)."""

from __future__ import annotations

from duban.core.errors import DubanError


class NotificationsError(DubanError):
    """Base of every error raised by duban.notifications."""

    code = "notifications_error"
