"""The office's edits of the responsibility rules, kept as numbered versions on top of the bundled YAML."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Field, SQLModel

from duban.tasks.models.common import created_at_field, json_list_field, text_field


class ResponsibilityRuleVersion(SQLModel, table=True):
    """One saved version of the office's rule layer: rules that replace (same id), extend (new id) or
    disable (`{"id": …, "disabled": true}`) the bundled ones. The highest version is in force."""

    __tablename__ = "responsibility_rule_version"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True, index=True)
    rules: list[Any] = json_list_field()
    note: str = text_field()
    created_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: dt.datetime = created_at_field()
