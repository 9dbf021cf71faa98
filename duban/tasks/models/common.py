"""Helpers for table definitions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from duban.core import clock
from duban.core.types import JSONType, UTCDateTime


def created_at_field() -> Any:
    """A non-null creation timestamp, set from the injectable clock."""
    return Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


def optional_time_field() -> Any:
    """A nullable aware timestamp."""
    return Field(default=None, sa_type=UTCDateTime, nullable=True)


def json_list_field() -> Any:
    """A JSON list column, never null."""
    return Field(default_factory=list, sa_type=JSONType, nullable=False)


def json_dict_field() -> Any:
    """A JSON object column, never null."""
    return Field(default_factory=dict, sa_type=JSONType, nullable=False)


def text_field(default: str = "") -> Any:
    """A long text column."""
    return Field(default=default, sa_type=sa.Text, nullable=False)


def touch(_: datetime | None = None) -> datetime:
    """Now, for updated_at."""
    return clock.now()


SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
