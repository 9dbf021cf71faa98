"""Channels: mail (SMTP, or .eml files under DUBAN_MAIL_DIR on the embedded runtime) and robot webhooks
(DingTalk with HMAC-SHA256 timestamp signing, WeCom, or plain JSON signed in headers)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import smtplib
import time
import urllib.parse
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import httpx

from duban.core import clock
from duban.core.config import Settings, get_settings
from duban.notifications.errors import NotificationsError
from duban.notifications.render import Rendered, one_line

SENDER_NAME: Final = "自治区生态环境保护委员会办公室"
WEBHOOK_TIMEOUT: Final = 10.0


class DeliveryFailed(NotificationsError):
    """A channel refused or could not take a message; the outbox retries it with backoff."""

    code = "delivery_failed"


def mail_domain(settings: Settings) -> str:
    """The domain of Message-IDs: the sender address's, else duban.local."""
    _, _, domain = settings.mail_from.rpartition("@")
    return domain.strip(" >") or "duban.local"


def message_id(outbox_id: int, dedupe_key: str, settings: Settings | None = None) -> str:
    """The Message-ID of an outbox row: derived from the row alone, so every attempt carries the same one."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:16]
    return f"<duban.{outbox_id}.{digest}@{mail_domain(settings or get_settings())}>"


def build_email(
    rendered: Rendered, recipient: str, msg_id: str, outbox_id: int, settings: Settings | None = None
) -> EmailMessage:
    """A multipart (text + HTML, then any attachments) mail with a stable Message-ID."""
    config = settings or get_settings()
    message = EmailMessage()
    message["Subject"] = one_line(rendered.subject)
    message["From"] = formataddr((SENDER_NAME, config.mail_from))
    message["To"] = one_line(recipient, 512)
    message["Message-ID"] = msg_id
    message["Date"] = format_datetime(clock.now())
    message["X-Duban-Outbox-Id"] = str(outbox_id)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for attachment in rendered.attachments:
        content = attachment.make()
        if not content:  # the paper could not be made (logged where it was tried): the mail goes without it
            continue
        maintype, _, subtype = attachment.mimetype.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message


class MailTransport:
    """Sends mails through the configured backend, keeping one SMTP connection open for a batch."""

    def __init__(self, settings: Settings | None = None) -> None:
        """Use `settings` (the process settings by default); nothing connects until the first mail."""
        self.settings = settings or get_settings()
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> MailTransport:
        """Open for a batch."""
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Close the SMTP connection, if any."""
        self.close()

    def close(self) -> None:
        """Say QUIT to the server (ignoring a server that already went away)."""
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None

    def send(self, message: EmailMessage, outbox_id: int) -> None:
        """Deliver one mail; raises DeliveryFailed when the backend refuses it."""
        if not message["To"]:
            raise DeliveryFailed("收件单位没有邮箱地址", "the recipient has no mail address", permanent=True)
        if self.settings.mail_backend == "file":
            self._write_file(message, outbox_id)
            return
        try:
            self._connection().send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            permanent = isinstance(exc, smtplib.SMTPRecipientsRefused)
            raise DeliveryFailed(
                f"邮件服务器未接收：{exc}",
                f"the SMTP server did not take the mail: {exc}",
                permanent=permanent,
            ) from exc

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            config = self.settings
            smtp = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=30)
            if config.smtp_starttls:
                smtp.starttls()
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password or "")
            self._smtp = smtp
        return self._smtp

    def _write_file(self, message: EmailMessage, outbox_id: int) -> None:
        folder = Path(self.settings.mail_dir or self.settings.var_dir / "mail")
        folder.mkdir(parents=True, exist_ok=True)
        # Named by the outbox row, written atomically: a repeat after a crash replaces the same file.
        target = folder / f"{outbox_id:09d}.eml"
        temporary = folder / f".{outbox_id:09d}.{os.getpid()}.tmp"
        temporary.write_bytes(bytes(message))
        os.replace(temporary, target)


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """A DingTalk robot URL with `timestamp` and `sign`: base64 HMAC-SHA256 of "{timestamp}\\n{secret}"."""
    stamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={stamp}&sign={sign}"


def webhook_flavour(url: str) -> str:
    """dingtalk, wecom, or json (any other endpoint)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host.endswith("dingtalk.com"):
        return "dingtalk"
    if host.endswith("qyapi.weixin.qq.com"):
        return "wecom"
    return "json"


def webhook_request(
    url: str, secret: str | None, rendered: Rendered, msg_id: str, timestamp_ms: int | None = None
) -> tuple[str, dict[str, str], bytes]:
    """(url, headers, body) of the robot message for this endpoint's flavour."""
    title = one_line(rendered.subject, 64)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    flavour = webhook_flavour(url)
    payload: dict[str, Any]
    if flavour == "dingtalk":
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": rendered.markdown}}
        if secret:
            url = dingtalk_signed_url(url, secret, timestamp_ms)
    elif flavour == "wecom":
        payload = {"msgtype": "markdown", "markdown": {"content": rendered.markdown}}
    else:
        payload = {"title": title, "text": rendered.text, "markdown": rendered.markdown, "message_id": msg_id}
    body = json.dumps(payload, ensure_ascii=False).encode()
    if flavour == "json" and secret:
        stamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers |= {"X-Duban-Timestamp": stamp, "X-Duban-Signature": f"sha256={signature}"}
    headers["X-Duban-Message-Id"] = msg_id
    return url, headers, body


def send_webhook(url: str, secret: str | None, rendered: Rendered, msg_id: str) -> None:
    """POST the robot message; a non-2xx answer or a robot `errcode` other than 0 fails it."""
    target, headers, body = webhook_request(url, secret, rendered, msg_id)
    try:
        response = httpx.post(target, content=body, headers=headers, timeout=WEBHOOK_TIMEOUT)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"机器人接口不可达：{exc}", f"the webhook is unreachable: {exc}") from exc
    if response.status_code // 100 != 2:
        raise DeliveryFailed(
            f"机器人接口返回 {response.status_code}",
            f"the webhook answered {response.status_code}",
            permanent=response.status_code in (400, 401, 403, 404, 410),
        )
    try:
        answer = response.json()
    except ValueError:
        return
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        raise DeliveryFailed(
            f"机器人拒收：{answer.get('errmsg', '')}",
            f"the robot refused the message: {answer}",
            permanent=False,
        )
