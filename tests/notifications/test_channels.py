"""Channels: SMTP (a real aiosmtpd server), .eml files, robot webhooks with DingTalk signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from duban.core.config import Settings
from duban.notifications.channels import (
    DeliveryFailed,
    MailTransport,
    build_email,
    dingtalk_signed_url,
    message_id,
    send_webhook,
    webhook_flavour,
    webhook_request,
)
from duban.notifications.render import Rendered
from tests.fixtures.services import SmtpCatcher
from tests.notifications.conftest import Robot

RENDERED = Rendered("【督办单（蓝）】推进燃煤锅炉整治", "正文", "<p>正文</p>", "**正文**")


def test_dingtalk_signature_is_the_documented_hmac() -> None:
    secret, stamp = "SEC0123456789", 1700000000000
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", secret, stamp)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query == {"access_token": ["abc"], "timestamp": [str(stamp)], "sign": [expected]}


def test_robot_flavours() -> None:
    assert webhook_flavour("https://oapi.dingtalk.com/robot/send?access_token=a") == "dingtalk"
    assert webhook_flavour("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k") == "wecom"
    assert webhook_flavour("https://oa.example.gov.cn/hooks/duban") == "json"
    url, _, body = webhook_request(
        "https://oapi.dingtalk.com/robot/send?access_token=a", "S", RENDERED, "<m>", 1
    )
    assert "sign=" in url and json.loads(body) == {
        "msgtype": "markdown",
        "markdown": {"title": RENDERED.subject, "text": "**正文**"},
    }
    url, _, body = webhook_request(
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", None, RENDERED, "<m>"
    )
    assert json.loads(body) == {"msgtype": "markdown", "markdown": {"content": "**正文**"}}


def test_json_webhook_is_signed_in_headers(robot: tuple[str, type[Robot]]) -> None:
    url, handler = robot
    send_webhook(url, "topsecret", RENDERED, "<duban.1.x@duban.example>")
    ((path, headers, body),) = handler.received
    assert path == "/hooks/duban"
    assert json.loads(body)["title"] == RENDERED.subject
    expected = hmac.new(b"topsecret", headers["X-Duban-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["X-Duban-Signature"] == f"sha256={expected.hexdigest()}"
    assert headers["X-Duban-Message-Id"] == "<duban.1.x@duban.example>"


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [
        ((200, b'{"errcode": 310000, "errmsg": "sign not match"}'), False),
        ((500, b"{}"), False),
        ((404, b""), True),
    ],
)
def test_robot_refusals_fail_the_delivery(
    robot: tuple[str, type[Robot]], answer: tuple[int, bytes], permanent: bool
) -> None:
    url, handler = robot
    handler.answer = answer
    with pytest.raises(DeliveryFailed) as caught:
        send_webhook(url, None, RENDERED, "<m>")
    assert bool(caught.value.extra.get("permanent")) is permanent


def test_unreachable_robot_fails_for_a_retry() -> None:
    with pytest.raises(DeliveryFailed):
        send_webhook("http://127.0.0.1:9/nowhere", None, RENDERED, "<m>")


def test_smtp_sends_a_batch_over_one_connection(smtp_server: SmtpCatcher, tmp_path: Path) -> None:
    settings = Settings(
        var_dir=tmp_path, mail_backend="smtp", smtp_host=smtp_server.host, smtp_port=smtp_server.port
    )
    with MailTransport(settings) as transport:
        for outbox_id in (1, 2, 3):
            msg_id = message_id(outbox_id, f"n:{outbox_id}", settings)
            transport.send(
                build_email(RENDERED, "sthjt@duban.example", msg_id, outbox_id, settings), outbox_id
            )
    assert [m["Message-ID"] for m in smtp_server.messages] == [
        message_id(n, f"n:{n}", settings) for n in (1, 2, 3)
    ]
    parsed = message_from_bytes(smtp_server.messages[0].as_bytes(), policy=default_policy)
    assert parsed["Subject"] == RENDERED.subject
    assert parsed.get_body(("html",)) is not None and parsed.get_body(("plain",)) is not None


def test_smtp_server_down_is_a_retryable_failure(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=9)
    with MailTransport(settings) as transport, pytest.raises(DeliveryFailed) as caught:
        transport.send(build_email(RENDERED, "a@b.example", "<m@x>", 1, settings), 1)
    assert not caught.value.extra.get("permanent")


def test_file_backend_writes_one_eml_per_row_and_repeats_replace_it(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, mail_backend="file", mail_dir=tmp_path / "mail")
    with MailTransport(settings) as transport:
        for _ in range(2):
            transport.send(build_email(RENDERED, "a@b.example", "<m@x>", 5, settings), 5)
    (written,) = list((tmp_path / "mail").iterdir())
    assert written.name == "000000005.eml"
    assert message_from_bytes(written.read_bytes())["Message-ID"] == "<m@x>"


def test_a_department_without_an_address_fails_permanently(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, mail_backend="file")
    with MailTransport(settings) as transport, pytest.raises(DeliveryFailed) as caught:
        transport.send(build_email(RENDERED, "", "<m@x>", 5, settings), 5)
    assert caught.value.extra.get("permanent")
