"""Departments (the registry), their people and their API tokens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import configure_mappers
from sqlmodel import Field, SQLModel

from duban.core.types import enum_column_type
from duban.tasks.enums import DepartmentKind, Role
from duban.tasks.models.common import created_at_field, json_list_field, optional_time_field


class DepartmentBase(SQLModel):
    """Fields every department shape shares."""

    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=128, unique=True)
    kind: DepartmentKind = Field(sa_type=enum_column_type(DepartmentKind))
    email: str | None = Field(default=None, max_length=254)
    webhook: str | None = Field(default=None, max_length=512)


class Department(DepartmentBase, table=True):
    """A body that can lead or cooperate on tasks (自治区厅局, 盟市 governments …)."""

    id: int | None = Field(default=None, primary_key=True)
    aliases: list[str] = json_list_field()
    webhook_secret: str | None = Field(default=None, max_length=256)
    active: bool = Field(default=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class DepartmentPublic(DepartmentBase):
    """A department as the API shows it."""

    id: int
    aliases: list[str]


class User(SQLModel, table=True):
    """A person who signs in: office staff, a department's clerk, or an administrator."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(default="", max_length=128)
    role: Role = Field(sa_type=enum_column_type(Role, 16))
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    password_hash: str | None = Field(default=None, max_length=256)
    active: bool = Field(default=True)
    # An initial password someone else chose (the development accounts): changed before anything else.
    must_change_password: bool = Field(default=False)
    created_at: datetime = created_at_field()

    @property
    def label(self) -> str:
        """How the audit log, mails and pages name the user."""
        return self.display_name or self.username


# What a request needs of its caller: read on every request, so without the hash and the times.
REQUEST_USER_COLUMNS: Final = (
    "id",
    "username",
    "display_name",
    "role",
    "department_id",
    "active",
    "must_change_password",
)


_user_mapper: Final = sa_inspect(User)
# The value model_construct would give a field left out (the clock, now), called without inspecting it.
_created_at_default: Final = cast(Callable[[], datetime], User.model_fields["created_at"].default_factory)


def user_from_row(row: Sequence[Any]) -> User:
    """The caller from a row of REQUEST_USER_COLUMNS (read back from our own table, so built without
    validation: a quarter of the cost, on every request)."""
    # __init__ would configure the mappers on first use; model_construct does not (and asking again on
    # every call walks every registry: a fifth of this function).
    if not _user_mapper.configured:
        configure_mappers()
    found = dict(zip(REQUEST_USER_COLUMNS, row, strict=True))
    found["role"] = Role(found["role"])
    found["active"] = bool(found["active"])
    found["must_change_password"] = bool(found["must_change_password"])
    # Every field is passed: for one left out that has a default factory, model_construct inspects the
    # factory's signature on every call (a tenth of an action's unit). The fields set stay those read.
    return User.model_construct(
        set(REQUEST_USER_COLUMNS), password_hash=None, created_at=_created_at_default(), **found
    )


class UserPublic(SQLModel):
    """A user as the API shows it (never the hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    department_id: int | None
    department_code: str | None = None
    department_name: str | None = None


class ApiToken(SQLModel, table=True):
    """A long-lived token for a department's OA system; only its hash is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=128)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=128, unique=True)
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = optional_time_field()
    revoked_at: datetime | None = optional_time_field()
