"""Tables of the HTTP layer itself: the sign-in throttle's buckets (kept in the database, so that every API
process counts the same failures)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from duban.tasks.models.common import optional_time_field


class SigninThrottle(SQLModel, table=True):
    """One sign-in bucket (`pair:` account and address, `addr:` address, `acct:` account, `known:` an address
    the account signed in from): failures in the current window and when the next attempt may come."""

    __tablename__ = "signin_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = Field(default=0)
    last_failure_at: dt.datetime | None = optional_time_field()
    not_before: dt.datetime | None = optional_time_field()
    last_success_at: dt.datetime | None = optional_time_field()
