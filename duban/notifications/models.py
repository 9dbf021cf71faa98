"""Tables of the notifications domain: the outbox and the holiday schedules loaded."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from duban.core.types import JSONType, UTCDateTime, enum_column_type
from duban.tasks.models.common import created_at_field, json_dict_field, optional_time_field, text_field


class OutboxKind(StrEnum):
    """A notice about one task, a department's daily digest, or the office's weekly summary."""

    notice = "notice"
    digest = "digest"
    weekly = "weekly"


class OutboxStatus(StrEnum):
    """Where a row stands; `sending` rows were claimed by a worker (a lease: next_attempt_at).

    `digested` was written on the items of a digest before migration 0014; since then an item's place in
    a digest is found from the digest's id window (`messages.listed`) and the item keeps its status."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    skipped = "skipped"
    digested = "digested"


class Channel(StrEnum):
    """How a message travels: mail (SMTP, or .eml files on the embedded runtime) or a robot webhook."""

    email = "email"
    webhook = "webhook"


class NotificationOutbox(SQLModel, table=True):
    """One message for one channel and recipient; `dedupe_key` makes every notice happen once.

    Notice keys are ``n:{task}:{rule}:{step}:{period}:{department}:{channel}``; a digest's
    ``d:{department}:{day}:{channel}``; the weekly summary's ``w:{iso week}:{channel}``. A digest's items
    are its department's notices on its channel with ids in (items_after, items_through]: nothing is
    written on the items themselves.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (
        sa.Index("ix_notification_outbox_status_next", "status", "next_attempt_at"),
        sa.Index("ix_notification_outbox_items", "department_id", "channel", "kind", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=255, unique=True)
    kind: OutboxKind = Field(default=OutboxKind.notice, sa_type=enum_column_type(OutboxKind, 16))
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    rule: str = Field(default="", max_length=24)
    step: str = Field(default="", max_length=40)
    period: str = Field(default="", max_length=40)
    due: dt.date | None = None
    department_id: int | None = Field(default=None, foreign_key="department.id")
    urgency: int = Field(default=0)
    delivery: str = Field(default="immediate", max_length=16)
    channel: Channel = Field(default=Channel.email, sa_type=enum_column_type(Channel, 16))
    recipient: str = Field(default="", max_length=512)
    status: OutboxStatus = Field(default=OutboxStatus.pending, sa_type=enum_column_type(OutboxStatus, 16))
    attempts: int = Field(default=0)
    next_attempt_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    queued_at: dt.datetime | None = optional_time_field()
    message_id: str | None = Field(default=None, max_length=255)
    items_after: int | None = None
    items_through: int | None = None
    payload: dict[str, Any] = json_dict_field()
    last_error: str = text_field()
    created_at: dt.datetime = created_at_field()
    sent_at: dt.datetime | None = optional_time_field()


class CalendarSchedule(SQLModel, table=True):
    """A State Council holiday notice loaded with `duban calendar load`; it overrides the bundled year."""

    __tablename__ = "calendar_schedule"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    source: str = text_field()
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType, nullable=False)
    loaded_at: dt.datetime = created_at_field()
