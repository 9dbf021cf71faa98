"""The 督办单 PDF on the ladder's notice mail: a 督办单 notice (blue, orange, red — by the scheduler or the
office) is mailed with the 督办单 itself, the same paper `/api/v1/tasks/{id}/notice.pdf` gives. A paper that
cannot be made (no 督办 event of that colour, no fonts on the worker) leaves the mail as it was, logged."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlmodel import Session

from duban.core.config import get_settings
from duban.core.errors import DubanError
from duban.notifications.messages import COLOURS
from duban.notifications.models import Channel, OutboxKind
from duban.notifications.render import MailAttachment, Rendered
from duban.tasks.enums import NoticeColour
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.paperwork import notice_facts, notice_paper, office_name, to_pdf

log = logging.getLogger("duban.delivery")


def notice_colour(item_row: Mapping[str, Any]) -> NoticeColour | None:
    """The colour of the 督办单 a notice row announces (None for any other notice)."""
    colour = COLOURS.get(item_row["step"])
    if colour is None and item_row["rule"] == "event" and item_row["step"] == "supervise":
        colour = (item_row["payload"] or {}).get("colour")
    return NoticeColour(colour) if isinstance(colour, str) and colour in NoticeColour.__members__ else None


def notice_attachment(
    session: Session, item_row: Mapping[str, Any], calendar: WorkingCalendar
) -> MailAttachment | None:
    """The 督办单 PDF of a 督办单 notice, or None."""
    colour = notice_colour(item_row)
    if colour is None:
        return None
    outbox_id = item_row["id"]
    try:
        (facts,) = notice_facts(session, [int(item_row["task_id"])], colour)
        paper = notice_paper(facts, office_name(session), calendar)
    except DubanError as error:
        log.warning("outbox %s: no 督办单 PDF attached: %s", outbox_id, error)
        return None

    def make() -> bytes:
        try:
            return to_pdf([paper])
        except DubanError as error:
            log.warning("outbox %s: no 督办单 PDF attached: %s", outbox_id, error)
            return b""

    return MailAttachment(f"{facts.serial}{paper.title}.pdf", make)


def with_notice_pdf(
    session: Session,
    row: Mapping[str, Any],
    item_row: Mapping[str, Any] | None,
    rendered: Rendered,
    calendar: WorkingCalendar,
) -> Rendered:
    """The rendered mail of an outbox row, with the 督办单 PDF when it is a 督办单 notice sent by mail."""
    if item_row is None or row["kind"] != OutboxKind.notice.value or row["channel"] != Channel.email.value:
        return rendered
    if not get_settings().mail_notice_pdf:
        return rendered
    attachment = notice_attachment(session, item_row, calendar)
    return replace(rendered, attachments=(attachment,)) if attachment else rendered
