"""Templates: every preview renders, zh-CN first with the task link; hostile text is escaped everywhere."""

from __future__ import annotations

import datetime as dt

import pytest

from duban.core import clock
from duban.notifications.channels import build_email, message_id
from duban.notifications.messages import item_of, subject_of
from duban.notifications.preview import PREVIEW_KINDS, _sample_row, preview
from duban.notifications.render import one_line, render
from duban.workflow.calendar import WorkingCalendar

CALENDAR = WorkingCalendar.from_bundled()
HOSTILE = (
    '<script>alert("x")</script> [点我](http://evil.example) **粗体** & "引号"\r\nBcc: victim@example.com'
)


@pytest.mark.parametrize("kind", PREVIEW_KINDS)
def test_every_kind_renders_in_chinese_with_a_link(kind: str) -> None:
    rendered = preview(kind)
    assert rendered.subject.startswith("【")
    assert "\n" not in rendered.subject
    for body in (rendered.text, rendered.html, rendered.markdown):
        assert "自治区生态环境保护委员会办公室" in body
        assert "http://127.0.0.1:8000/" in body
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert 'lang="zh-CN"' in rendered.html


def _hostile_item() -> dict[str, object]:
    row = _sample_row("supervise_red", CALENDAR)
    row.update(title=HOSTILE, plan_title=HOSTILE, lead_names=HOSTILE)
    return item_of(row, CALENDAR, "https://duban.example.gov.cn")


def test_hostile_text_is_escaped_in_html_and_markdown() -> None:
    item = _hostile_item()
    rendered = render(
        "notice", subject_of(item), {"item": item, "recipient_name": HOSTILE, "sender_name": "办公室"}
    )
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in rendered.html
    assert "&amp;" in rendered.html
    assert '<a href="https://duban.example.gov.cn/tasks/42"' in rendered.html
    # Robots read markdown: no live link or emphasis may come from a title.
    assert "[点我](http" not in rendered.markdown
    assert "\\[点我\\]\\(http://evil.example\\)" in rendered.markdown
    assert "\\*\\*粗体\\*\\*" in rendered.markdown
    assert "<script>" not in rendered.markdown
    # Plain text shows what was written.
    assert '<script>alert("x")</script>' in rendered.text


def test_hostile_text_cannot_inject_mail_headers() -> None:
    item = _hostile_item()
    rendered = render(
        "notice", subject_of(item), {"item": item, "recipient_name": "厅", "sender_name": "办公室"}
    )
    assert "\r" not in rendered.subject and "\n" not in rendered.subject
    mail = build_email(rendered, "sthjt@duban.example\r\nBcc: x@evil.example", message_id(7, "n:1"), 7)
    raw = bytes(mail)
    header_block = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in header_block
    assert mail["Message-ID"] == message_id(7, "n:1")
    assert one_line("a\r\nb\u2028c") == "a b c"
    assert len(one_line("长" * 500)) == 200


def test_digest_lists_supervision_first() -> None:
    rendered = preview("digest")
    text = rendered.text
    assert text.index("督办事项") < text.index("催办事项") < text.index("提醒事项") < text.index("通知事项")
    assert "共 5 项，其中督办事项 1 项" in text


def test_headlines_count_working_days_at_the_day_raised() -> None:
    row = _sample_row("supervise_blue", CALENDAR)
    assert row["created_at"].astimezone(clock.TZ).date() == dt.date(2025, 10, 11)  # the 调休 Saturday
    item = item_of(row, CALENDAR, "")
    assert item["headline"].startswith("已超过完成时限 3 个工作日")
    assert item["colour"] == "blue"
    remind = item_of(_sample_row("remind", CALENDAR), CALENDAR, "")
    assert remind["headline"] == "距完成时限还有 5 个工作日，请抓紧办理。"
