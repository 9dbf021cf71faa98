"""`DUBAN_MAIL_NOTICE_PDF=false`: an office that sends the 督办单 through its OA system mails the notice
without the PDF (with it, the 督办单与通报 feature shows the attachment)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from sqlmodel import Session

from duban.core.config import get_settings
from duban.notifications.attachments import with_notice_pdf
from duban.notifications.models import Channel, OutboxKind
from duban.notifications.render import Rendered
from duban.workflow.calendar import WorkingCalendar

MAIL = Rendered(subject="【督办单（蓝）】", text="正文", html="<p>正文</p>", markdown="正文")
ROW = {"id": 7, "kind": OutboxKind.notice.value, "channel": Channel.email.value}
ITEM = {"id": 7, "task_id": 1, "rule": "ladder", "step": "blue", "payload": {}}


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_notice_mail_goes_without_the_pdf_when_turned_off(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("DUBAN_MAIL_NOTICE_PDF", "false")
    get_settings.cache_clear()
    unused = cast(Session, None)  # turned off, the paper is never looked up
    assert with_notice_pdf(unused, ROW, ITEM, MAIL, WorkingCalendar.from_bundled()) is MAIL
