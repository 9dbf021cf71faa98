"""Tables of the paperwork's 文号: the last number issued per kind and year (the row two generations lock
in turn), and each number issued, with the document it went to — so a re-download prints the same one."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from duban.tasks.models.common import created_at_field


class DocumentSerialCounter(SQLModel, table=True):
    """The last number issued of a kind of document in a year (督办单 `notice`, 督办通报 `bulletin`)."""

    __tablename__ = "document_serial_counter"

    kind: str = Field(primary_key=True, max_length=16)
    year: int = Field(primary_key=True)
    last: int = Field(default=0)


class DocumentSerial(SQLModel, table=True):
    """A number issued to one document: consecutive per kind and year, never reused; `subject` names the
    document (the 督办 event of a 督办单, the period of a 通报)."""

    __tablename__ = "document_serial"
    __table_args__ = (
        sa.UniqueConstraint("kind", "year", "number", name="uq_document_serial_number"),
        sa.UniqueConstraint("kind", "subject", name="uq_document_serial_subject"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    year: int
    number: int
    subject: str = Field(max_length=128)
    issued_at: dt.datetime = created_at_field()
