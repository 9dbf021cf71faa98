"""State Council holiday schedules (国务院办公厅关于部分节假日安排的通知): schema, validation, loading.

One year's notice as YAML (the format `duban calendar load FILE` accepts)::

    year: 2027
    source: 国务院办公厅关于2027年部分节假日安排的通知
    document: 国办发明电〔2026〕N号      # optional
    published: 2026-11-05                # optional
    url: https://www.gov.cn/...          # optional
    holidays:                            # days off (放假), each a closed range
      - {name: 元旦, start: 2027-01-01, end: 2027-01-03}
      - {name: 端午节, start: 2027-06-09}  # `end` defaults to `start`
    workdays: [2027-02-20]               # 调休 make-up working days (Saturdays/Sundays)

A file may also hold several years as `schedules: [<one year>, ...]` (the bundled table does);
reading YAML files lives in ``calendar_files``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import reprlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from duban.workflow.errors import CalendarError

MIN_YEAR = 1950
MAX_YEAR = 2099
MAX_HOLIDAY_DAYS = 31
# A notice's 元旦 arrangement may reach into the previous December: the 2023 notice gave 2022-12-31 off,
# the 2002 notice made 2001-12-29/30 working days.
_PREVIOUS_DECEMBER_FROM = 15

_TOP_FIELDS = frozenset({"year", "source", "document", "published", "url", "holidays", "workdays"})
_REQUIRED_TOP = ("year", "source", "holidays", "workdays")
_HOLIDAY_FIELDS = frozenset({"name", "start", "end"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class HolidayPeriod:
    """A closed range of days off (放假) named after its festival."""

    name: str
    start: dt.date
    end: dt.date

    def days(self) -> Iterator[dt.date]:
        """Every date of the range, in order."""
        for offset in range((self.end - self.start).days + 1):
            yield self.start + dt.timedelta(days=offset)


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's officially announced days off and 调休 make-up working days."""

    year: int
    source: str
    holidays: tuple[HolidayPeriod, ...]
    workdays: tuple[dt.date, ...]
    document: str | None = None
    published: dt.date | None = None
    url: str | None = None

    def days_off(self) -> frozenset[dt.date]:
        """Every date inside one of the holiday ranges."""
        return frozenset(day for period in self.holidays for day in period.days())

    def to_mapping(self) -> dict[str, Any]:
        """A JSON-ready mapping (ISO date strings) that `parse_schedule` reads back unchanged."""
        data: dict[str, Any] = {"year": self.year, "source": self.source}
        if self.document is not None:
            data["document"] = self.document
        if self.published is not None:
            data["published"] = self.published.isoformat()
        if self.url is not None:
            data["url"] = self.url
        data["holidays"] = [
            {"name": p.name, "start": p.start.isoformat(), "end": p.end.isoformat()} for p in self.holidays
        ]
        data["workdays"] = [day.isoformat() for day in self.workdays]
        return data


def _show(entry: object) -> str:
    """The offending entry as the user wrote it (dates in ISO form, Chinese unescaped)."""
    try:
        text = json.dumps(entry, ensure_ascii=False, default=_iso)
    except (TypeError, ValueError, RecursionError):  # date keys, anchors that loop back
        text = reprlib.repr(entry)
    return text if len(text) <= 200 else text[:197] + "..."


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def schedule_error(code: str, zh: str, en: str, location: str, entry: object) -> CalendarError:
    """A CalendarError naming where the fault is and showing the offending entry."""
    where = f"{location}: " if location else ""
    shown = _show(entry)
    return CalendarError(
        f"{where}{zh}（出错内容：{shown}）",
        f"{where}{en} (offending entry: {shown})",
        code=code,
        location=location,
        entry=entry,
    )


def in_file(exc: CalendarError, name: str) -> CalendarError:
    """The same error with the file's name in front of its messages."""
    extra = {**exc.extra, "file": name}
    return CalendarError(f"{name}：{exc.message_zh}", f"{name}: {exc.message_en}", code=exc.code, **extra)


def _text(value: object, field: str, location: str, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise schedule_error(
            "schedule_invalid_text",
            f"“{field}”须为非空文字",
            f"'{field}' must be non-empty text",
            location,
            value,
        )
    return value.strip()


def _date(value: object, location: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise schedule_error(
            "schedule_invalid_date",
            "须为日期（YYYY-MM-DD），不能带时刻",
            "must be a date (YYYY-MM-DD) without a time",
            location,
            value,
        )
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise schedule_error(
        "schedule_invalid_date",
        "不是有效日期，应写作 YYYY-MM-DD",
        "is not a valid date; write YYYY-MM-DD",
        location,
        value,
    )


def _in_notice_window(day: dt.date, year: int) -> bool:
    return day.year == year or (
        day.year == year - 1 and day.month == 12 and day.day >= _PREVIOUS_DECEMBER_FROM
    )


def _check_window(day: dt.date, year: int, location: str, entry: object) -> None:
    if not _in_notice_window(day, year):
        raise schedule_error(
            "schedule_date_outside_year",
            f"日期 {day.isoformat()} 不在 {year} 年内（仅元旦安排可涉及上一年 12 月下旬）",
            f"date {day.isoformat()} is outside {year} (only a 元旦 arrangement may reach late December "
            f"of {year - 1})",
            location,
            entry,
        )


def _year(value: object, location: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_YEAR <= value <= MAX_YEAR:
        raise schedule_error(
            "schedule_invalid_year",
            f"“year”须为 {MIN_YEAR}–{MAX_YEAR} 之间的整数年份",
            f"'year' must be a whole year between {MIN_YEAR} and {MAX_YEAR}",
            location,
            value,
        )
    return value


def check_fields(
    data: Mapping[Any, Any], allowed: frozenset[str], required: tuple[str, ...], where: str
) -> None:
    """Refuse unknown fields (typos such as `workday`) and missing required ones."""
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise schedule_error(
            "schedule_unknown_field",
            f"未知字段 {', '.join(unknown)}；允许的字段：{', '.join(sorted(allowed))}",
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
            where,
            dict(data),
        )
    for field in required:
        if field not in data:
            raise schedule_error(
                "schedule_missing_field",
                f"缺少必填字段“{field}”",
                f"required field '{field}' is missing",
                where,
                dict(data),
            )


def _holiday(item: object, year: int, location: str) -> HolidayPeriod:
    if not isinstance(item, Mapping):
        raise schedule_error(
            "schedule_invalid_holiday",
            "每个放假安排须为含 name、start、end 的映射",
            "each holiday must be a mapping with name, start and end",
            location,
            item,
        )
    check_fields(item, _HOLIDAY_FIELDS, ("name", "start"), location)
    name = _text(item["name"], "name", f"{location}.name", required=True)
    start = _date(item["start"], f"{location}.start")
    end = _date(item["end"], f"{location}.end") if item.get("end") is not None else start
    entry = dict(item)
    if end < start:
        raise schedule_error(
            "schedule_holiday_range_reversed",
            f"放假结束日 {end.isoformat()} 早于开始日 {start.isoformat()}",
            f"holiday ends ({end.isoformat()}) before it starts ({start.isoformat()})",
            location,
            entry,
        )
    _check_window(start, year, f"{location}.start", entry)
    if end.year != year:
        raise schedule_error(
            "schedule_date_outside_year",
            f"放假结束日 {end.isoformat()} 须在 {year} 年内",
            f"holiday end {end.isoformat()} must lie in {year}",
            f"{location}.end",
            entry,
        )
    if (end - start).days + 1 > MAX_HOLIDAY_DAYS:
        raise schedule_error(
            "schedule_holiday_too_long",
            f"放假区间长达 {(end - start).days + 1} 天，超过 {MAX_HOLIDAY_DAYS} 天，请核对日期",
            f"holiday spans {(end - start).days + 1} days, more than {MAX_HOLIDAY_DAYS}; check the dates",
            location,
            entry,
        )
    assert name is not None
    return HolidayPeriod(name=name, start=start, end=end)


def require_list(value: object, field: str, location: str) -> list[Any]:
    """The value itself when it is a list, else a CalendarError."""
    if not isinstance(value, list):
        raise schedule_error(
            "schedule_invalid_list",
            f"“{field}”须为列表",
            f"'{field}' must be a list",
            location,
            value,
        )
    return value


def parse_schedule(data: Mapping[str, Any], *, where: str = "") -> YearSchedule:
    """Validate one year's notice (a mapping as in the module docstring); CalendarError at the first fault."""
    if not isinstance(data, Mapping):
        raise schedule_error(
            "schedule_not_mapping",
            "一年的节假日安排须为映射（year、source、holidays、workdays）",
            "a year's schedule must be a mapping (year, source, holidays, workdays)",
            where,
            data,
        )
    check_fields(data, _TOP_FIELDS, _REQUIRED_TOP, where)
    prefix = f"{where}." if where else ""
    year = _year(data["year"], f"{prefix}year")
    source = _text(data["source"], "source", f"{prefix}source", required=True)
    document = _text(data.get("document"), "document", f"{prefix}document", required=False)
    url = _text(data.get("url"), "url", f"{prefix}url", required=False)
    published = _date(data["published"], f"{prefix}published") if data.get("published") is not None else None

    raw_holidays = require_list(data["holidays"], "holidays", f"{prefix}holidays")
    if not raw_holidays:
        raise schedule_error(
            "schedule_no_holidays",
            "“holidays”不能为空：通知总会列出放假安排",
            "'holidays' must not be empty: a notice always lists days off",
            f"{prefix}holidays",
            raw_holidays,
        )
    holidays = tuple(_holiday(item, year, f"{prefix}holidays[{i}]") for i, item in enumerate(raw_holidays))
    owner: dict[dt.date, int] = {}
    for i, period in enumerate(holidays):
        for day in period.days():
            if day in owner:
                raise schedule_error(
                    "schedule_overlapping_holidays",
                    f"放假区间重叠：{day.isoformat()} 同时属于 holidays[{owner[day]}] 和 holidays[{i}]",
                    f"holiday ranges overlap: {day.isoformat()} is in both holidays[{owner[day]}] "
                    f"and holidays[{i}]",
                    f"{prefix}holidays[{i}]",
                    raw_holidays[i],
                )
            owner[day] = i

    workdays: list[dt.date] = []
    for i, item in enumerate(require_list(data["workdays"], "workdays", f"{prefix}workdays")):
        location = f"{prefix}workdays[{i}]"
        day = _date(item, location)
        _check_window(day, year, location, item)
        if day.weekday() < 5:
            raise schedule_error(
                "schedule_workday_not_weekend",
                f"调休上班日 {day.isoformat()} 是星期{_WEEKDAYS_ZH[day.weekday()]}，须为星期六或星期日",
                f"make-up workday {day.isoformat()} is a {_WEEKDAYS_EN[day.weekday()]}; "
                "it must be a Saturday or Sunday",
                location,
                item,
            )
        if day in workdays:
            raise schedule_error(
                "schedule_duplicate_date",
                f"调休上班日 {day.isoformat()} 重复",
                f"make-up workday {day.isoformat()} is listed twice",
                location,
                item,
            )
        if day in owner:
            raise schedule_error(
                "schedule_workday_in_holiday",
                f"调休上班日 {day.isoformat()} 落在放假区间 holidays[{owner[day]}] 内",
                f"make-up workday {day.isoformat()} lies inside holiday range holidays[{owner[day]}]",
                location,
                item,
            )
        workdays.append(day)
    assert source is not None
    return YearSchedule(
        year=year,
        source=source,
        holidays=holidays,
        workdays=tuple(sorted(workdays)),
        document=document,
        published=published,
        url=url,
    )
