"""Jinja2 rendering: HTML (autoescaped), plain text, and robot markdown (escaped) from the same templates."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES: Final = Path(__file__).resolve().parent / "templates"
_MARKDOWN_SPECIALS: Final = re.compile(r"([\\`*_\[\]()#+!|~])")
_LINE_BREAKS: Final = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
SUBJECT_LIMIT: Final = 200


@dataclass(frozen=True, slots=True)
class MailAttachment:
    """A file a mail carries (the 督办单 PDF of a 督办单 notice); robots get none.

    `make` builds the bytes when the mail is built, outside the claim transaction: a PDF takes about a
    second, and the claim holds the outbox rows (on SQLite the database's write lock) while it renders."""

    filename: str
    make: Callable[[], bytes]
    mimetype: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message in every form a channel needs."""

    subject: str
    text: str
    html: str
    markdown: str
    attachments: tuple[MailAttachment, ...] = ()


def _markdown_escape(value: Any) -> Any:
    """Escape what a robot would read as markdown or HTML in interpolated values (not in the template)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    # Angle brackets become full-width (no HTML, no quote blocks), then markdown specials are escaped.
    text = str(value).replace("<", "＜").replace(">", "＞")
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


@lru_cache(maxsize=1)
def _environments() -> tuple[Environment, Environment, Environment]:
    loader = FileSystemLoader(str(TEMPLATES))
    # Templates are part of the release: no file checks on every render.
    common: dict[str, Any] = {
        "loader": loader,
        "undefined": StrictUndefined,
        "keep_trailing_newline": True,
        "auto_reload": False,
    }
    html = Environment(autoescape=select_autoescape(["html"], default=True), **common)
    # Mail text shows values as written; S701 is about HTML, which this environment never renders.
    text = Environment(autoescape=False, **common)  # noqa: S701
    markdown = Environment(autoescape=False, finalize=_markdown_escape, **common)  # noqa: S701
    return html, text, markdown


def one_line(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """Text safe for a mail header or a robot title: no line breaks (no header injection), bounded."""
    flat = _LINE_BREAKS.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def render(template: str, subject: str, context: dict[str, Any], *, markdown: bool = True) -> Rendered:
    """Render `template`.html and `template`.txt (and the robot markdown unless markdown=False) with the
    context; the subject is made one safe line."""
    html_env, text_env, markdown_env = _environments()
    safe_subject = one_line(subject)
    values = {"message_ref": "", **context, "subject": safe_subject}
    text_template = f"{template}.txt"
    return Rendered(
        subject=safe_subject,
        text=text_env.get_template(text_template).render(values),
        html=html_env.get_template(f"{template}.html").render(values),
        markdown=markdown_env.get_template(text_template).render(values) if markdown else "",
    )
