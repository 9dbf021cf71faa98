"""What the record services share: tables, value types and their checks, the event writer, the task lock."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import Session

from duban.core import clock, jobs
from duban.tasks.models import Target, Task, TaskEvent
from duban.tasks.registry.fold import fold_key
from duban.workflow.errors import RecordInvalid
from duban.workflow.machines import Actor
from duban.workflow.models import ExtensionRequest, TaskReport

task_t: Final = Task.__table__  # type: ignore[attr-defined]
event_t: Final = TaskEvent.__table__  # type: ignore[attr-defined]
report_t: Final = TaskReport.__table__  # type: ignore[attr-defined]
extension_t: Final = ExtensionRequest.__table__  # type: ignore[attr-defined]
target_t: Final = Target.__table__  # type: ignore[attr-defined]

MAX_ATTACHMENT_BYTES: Final = 50 * 1024 * 1024
MAX_ATTACHMENTS: Final = 20
MAX_INDICATOR_VALUES: Final = 100
MAX_TEXT_CHARS: Final = 20_000
MAX_REASON_CHARS: Final = 4_000

_CONTENT_TYPE: Final = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$"
)
_SHA256: Final = re.compile(r"^[0-9a-fA-F]{64}$")
_BAD_NAME_CHARS: Final = re.compile(r"[\x00-\x1f\x7f/\\]")
_PARENS: Final = str.maketrans({"（": "(", "）": ")", "［": "[", "］": "]"})


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file's metadata as reported (the file itself stays in the department's own system)."""

    name: str
    size: int
    content_type: str
    sha256: str


@dataclass(frozen=True, slots=True)
class IndicatorValue:
    """A measured value of one of the plan's targets, named by target id or by indicator name."""

    value: float
    indicator: str | None = None
    target_id: int | None = None
    note: str = ""


def invalid(zh: str, en: str, code: str, **extra: Any) -> RecordInvalid:
    """A 422 record error with a stable code."""
    return RecordInvalid(zh, en, code=code, **extra)


def check_text(text: str, field: str, *, required: bool = True, limit: int = MAX_TEXT_CHARS) -> str:
    """The stripped text; 422 when required and blank, or too long."""
    cleaned = (text or "").strip()
    if "\x00" in cleaned:
        raise invalid(
            f"“{field}”含有空字符", f"{field} contains a NUL character", "text_invalid", field=field
        )
    if required and not cleaned:
        code = "reason_required" if field == "reason" else "text_required"
        raise invalid(f"“{field}”不能为空", f"{field} must not be empty", code, field=field)
    if len(cleaned) > limit:
        raise invalid(
            f"“{field}”超过 {limit} 字", f"{field} exceeds {limit} characters", "text_too_long", field=field
        )
    return cleaned


def check_percent(percent: int | None, *, required: bool) -> int | None:
    """A whole percentage 0–100 (None allowed when not required)."""
    if percent is None:
        if required:
            raise invalid("进展报送须填写完成百分比", "A progress report needs a percent", "percent_required")
        return None
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise invalid(
            "完成百分比须为 0–100 的整数", "percent must be a whole number from 0 to 100", "percent_invalid"
        )
    return percent


def check_attachments(attachments: Sequence[Attachment]) -> list[dict[str, Any]]:
    """Attachment metadata checked (name, size ≤ 50 MB, media type, SHA-256) and made JSON."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise invalid(
            f"附件最多 {MAX_ATTACHMENTS} 个", f"At most {MAX_ATTACHMENTS} attachments", "too_many_attachments"
        )
    checked: list[dict[str, Any]] = []
    for index, item in enumerate(attachments):
        name = item.name.strip()
        where = {"field": f"attachments[{index}]"}
        if not name or len(name) > 255 or _BAD_NAME_CHARS.search(name):
            raise invalid(
                f"第 {index + 1} 个附件的文件名无效（1–255 字，不含路径和控制字符）",
                f"attachment {index + 1}: the name must be 1-255 characters, no path or control characters",
                "attachment_invalid",
                **where,
            )
        if (
            isinstance(item.size, bool)
            or not isinstance(item.size, int)
            or not 0 < item.size <= MAX_ATTACHMENT_BYTES
        ):
            raise invalid(
                f"附件“{name}”的大小须在 1 字节到 50 MB 之间",
                f"attachment {index + 1}: size must be from 1 byte to 50 MB",
                "attachment_too_large"
                if isinstance(item.size, int) and item.size > 0
                else "attachment_invalid",
                **where,
            )
        if not _CONTENT_TYPE.match(item.content_type.strip()):
            raise invalid(
                f"附件“{name}”的类型（content_type）无效，应形如 application/pdf",
                f"attachment {index + 1}: content_type must look like application/pdf",
                "attachment_invalid",
                **where,
            )
        if not _SHA256.match(item.sha256.strip()):
            raise invalid(
                f"附件“{name}”的 sha256 须为 64 位十六进制",
                f"attachment {index + 1}: sha256 must be 64 hexadecimal digits",
                "attachment_invalid",
                **where,
            )
        checked.append(
            {
                "name": name,
                "size": item.size,
                "content_type": item.content_type.strip().lower(),
                "sha256": item.sha256.strip().lower(),
            }
        )
    return checked


def indicator_key(name: str) -> str:
    """An indicator name folded for matching (width, script, brackets, whitespace)."""
    return fold_key(name.translate(_PARENS))


def resolve_indicators(
    session: Session, plan_id: int, values: Sequence[IndicatorValue]
) -> list[dict[str, Any]]:
    """Each value matched to one target of the plan (by id, else by folded name); 422 for unknown ones."""
    if not values:
        return []
    if len(values) > MAX_INDICATOR_VALUES:
        raise invalid(
            f"指标值最多 {MAX_INDICATOR_VALUES} 项",
            f"At most {MAX_INDICATOR_VALUES} indicator values",
            "too_many_indicators",
        )
    targets = (
        session.connection()
        .execute(
            sa.select(target_t.c.id, target_t.c.indicator, target_t.c.value, target_t.c.unit, target_t.c.year)
            .where(target_t.c.plan_id == plan_id)
            .order_by(target_t.c.id)
        )
        .all()
    )
    by_id = {row.id: row for row in targets}
    by_key: dict[str, list[Row[Any]]] = {}
    for row in targets:
        by_key.setdefault(indicator_key(row.indicator), []).append(row)
    known = [row.indicator for row in targets]
    resolved: list[dict[str, Any]] = []
    seen: set[int] = set()
    for index, item in enumerate(values):
        target = _match_target(item, by_id, by_key, known, index)
        if not math.isfinite(item.value):
            raise invalid(
                f"指标“{target.indicator}”的数值无效",
                f"indicator value {index + 1}: the value must be a finite number",
                "indicator_value_invalid",
                field=f"indicator_values[{index}]",
            )
        if target.id in seen:
            raise invalid(
                f"指标“{target.indicator}”重复填报",
                f"indicator value {index + 1}: target {target.id} is reported twice",
                "indicator_repeated",
                field=f"indicator_values[{index}]",
            )
        seen.add(target.id)
        resolved.append(
            {
                "target_id": target.id,
                "indicator": target.indicator,
                "value": item.value,
                "unit": target.unit,
                "target_value": target.value,
                "year": target.year,
                "note": check_text(item.note, "note", required=False, limit=1000),
            }
        )
    return resolved


def _match_target(
    item: IndicatorValue,
    by_id: Mapping[int, Row[Any]],
    by_key: Mapping[str, list[Row[Any]]],
    known: list[str],
    index: int,
) -> Row[Any]:
    field = f"indicator_values[{index}]"
    if item.target_id is not None:
        found = by_id.get(item.target_id)
        if found is None:
            raise invalid(
                f"指标 {item.target_id} 不是本任务所属规划的指标",
                f"indicator value {index + 1}: target {item.target_id} is not a target of this task's plan",
                "unknown_indicator",
                field=field,
                known_indicators=known,
            )
        if item.indicator and indicator_key(item.indicator) != indicator_key(found.indicator):
            raise invalid(
                f"指标 {item.target_id} 是“{found.indicator}”，不是“{item.indicator}”",
                f"indicator value {index + 1}: target {item.target_id} is not the indicator named",
                "unknown_indicator",
                field=field,
                known_indicators=known,
            )
        return found
    if not item.indicator or not item.indicator.strip():
        raise invalid(
            "指标值须注明指标名称（indicator）或指标编号（target_id）",
            "an indicator value needs an indicator name or a target_id",
            "unknown_indicator",
            field=field,
            known_indicators=known,
        )
    matches = by_key.get(indicator_key(item.indicator), [])
    if not matches:
        raise invalid(
            f"“{item.indicator}”不是本任务所属规划的指标",
            f"indicator value {index + 1}: the name matches no target of this task's plan",
            "unknown_indicator",
            field=field,
            known_indicators=known,
        )
    if len(matches) > 1:
        raise invalid(
            f"规划中有 {len(matches)} 个“{item.indicator}”指标（不同年份），请用 target_id 指明",
            f"indicator value {index + 1}: the plan has {len(matches)} targets of that name; give target_id",
            "ambiguous_indicator",
            field=field,
            target_ids=[row.id for row in matches],
        )
    return matches[0]


def lock_task(session: Session, task_id: int) -> Row[Any]:
    """The task's row, locked until commit on PostgreSQL (SQLite already writes one at a time)."""
    row = (
        session.connection()
        .execute(
            sa.select(
                task_t.c.id,
                task_t.c.plan_id,
                task_t.c.state,
                task_t.c.version,
                task_t.c.deadline,
                task_t.c.original_deadline,
                task_t.c.supervision_level,
                task_t.c.notice_colour,
            )
            .where(task_t.c.id == task_id)
            .with_for_update()
        )
        .one()
    )
    return row


def write_event(
    session: Session,
    task_id: int,
    kind: str,
    actor: Actor,
    *,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
    from_level: str | None = None,
    to_level: str | None = None,
    request_id: str | None = None,
    actor_label: str = "",
) -> int:
    """Append one audit event in the caller's transaction and queue its notification for after commit."""
    event_id: int = (
        session.connection()
        .execute(
            event_t.insert()
            .values(
                task_id=task_id,
                kind=kind,
                actor_user_id=actor.user_id,
                actor_department_id=actor.department_id,
                actor_label=actor_label[:128],
                from_level=from_level,
                to_level=to_level,
                reason=reason,
                data=dict(data or {}),
                request_id=request_id,
                created_at=clock.now(),
            )
            .returning(event_t.c.id)
        )
        .scalar_one()
    )
    jobs.enqueue_batched(session, "duban.notify_task_event", event_id)
    return event_id
