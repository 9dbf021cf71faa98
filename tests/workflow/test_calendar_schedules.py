"""Holiday schedule files: the schema, the validator's messages, round trips, the bundled table."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban.workflow.calendar import (
    CalendarError,
    bundled_schedules,
    load_schedule_file,
    load_schedules_file,
    parse_schedule,
    parse_schedules_text,
)
from tests.workflow.test_calendar import NOTICE_2027

D = dt.date


def test_schedules_round_trip_through_json() -> None:
    for schedule in bundled_schedules():
        assert parse_schedule(json.loads(json.dumps(schedule.to_mapping()))) == schedule


def test_bundled_file_loads_as_a_multi_year_file() -> None:
    path = resources.files("duban.workflow").joinpath("data", "schedules.yaml")
    assert [s.year for s in load_schedules_file(Path(str(path)))] == [2024, 2025, 2026]
    with pytest.raises(CalendarError) as caught:
        load_schedule_file(Path(str(path)))
    assert caught.value.code == "schedule_not_single_year"


def _broken(replace: str, by: str) -> str:
    assert replace in NOTICE_2027
    return NOTICE_2027.replace(replace, by)


MALFORMED = [
    (
        "workday_monday",
        _broken("2027-02-20", "2027-02-22"),
        "schedule_workday_not_weekend",
        "星期一",
        "Monday",
    ),
    (
        "end_next_year",
        _broken("end: 2027-10-07", "end: 2028-01-02"),
        "schedule_date_outside_year",
        "2028",
        "2028",
    ),
    (
        "start_too_early",
        _broken("start: 2027-01-01", "start: 2026-06-01"),
        "schedule_date_outside_year",
        "不在 2027 年内",
        "outside 2027",
    ),
    (
        "reversed",
        _broken("end: 2027-02-12", "end: 2027-02-01"),
        "schedule_holiday_range_reversed",
        "早于",
        "before",
    ),
    ("no_such_day", _broken("2027-02-20", "2027-02-30"), "schedule_invalid_date", "YYYY-MM-DD", "YYYY-MM-DD"),
    ("with_time", _broken("2027-02-20", "2027-02-20 09:00:00"), "schedule_invalid_date", "时刻", "time"),
    (
        "missing",
        _broken("workdays: [2027-02-20, 2027-09-26, 2027-10-09]\n", ""),
        "schedule_missing_field",
        "workdays",
        "workdays",
    ),
    ("typo_field", _broken("workdays:", "workday:"), "schedule_unknown_field", "workday", "workday"),
    ("year_text", _broken("year: 2027", "year: 二〇二七"), "schedule_invalid_year", "year", "year"),
    (
        "workday_in_holiday",
        _broken("2027-02-20", "2027-02-06"),
        "schedule_workday_in_holiday",
        "holidays[1]",
        "holidays[1]",
    ),
    (
        "overlap",
        _broken("start: 2027-02-05, end: 2027-02-12", "start: 2027-01-03, end: 2027-01-10"),
        "schedule_overlapping_holidays",
        "重叠",
        "overlap",
    ),
    ("duplicate_workday", _broken("2027-09-26", "2027-02-20"), "schedule_duplicate_date", "重复", "twice"),
    (
        "duplicate_key",
        _broken("published: 2026-11-05\n", "year: 2028\n"),
        "schedule_duplicate_key",
        "重复",
        "twice",
    ),
    ("bad_yaml", _broken("{name: 元旦,", "{name: [元旦,"), "schedule_yaml_invalid", "YAML", "YAML"),
    ("a_list", "- 2027-01-01\n", "schedule_not_mapping", "schedules 列表", "'schedules' list"),
    ("empty_file", "", "schedule_empty", "文件为空", "empty"),
    ("extra_field", _broken("holidays:\n", "holidays: []\nx:\n"), "schedule_unknown_field", "x", "x"),
    ("too_long", _broken("end: 2027-10-07", "end: 2027-11-30"), "schedule_holiday_too_long", "31", "31"),
    (
        "holiday_scalar",
        _broken("  - {name: 元旦, start: 2027-01-01, end: 2027-01-03}", "  - 元旦"),
        "schedule_invalid_holiday",
        "name",
        "name",
    ),
    ("empty_name", _broken("name: 元旦", "name: ''"), "schedule_invalid_text", "name", "name"),
]


@pytest.mark.parametrize(
    ("text", "code", "zh", "en"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_files_are_rejected_with_clear_messages(
    tmp_path: Path, text: str, code: str, zh: str, en: str
) -> None:
    path = tmp_path / "notice.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as caught:
        load_schedule_file(path)
    error = caught.value
    assert error.code == code
    assert zh in error.message_zh and en in error.message_en
    assert error.message_zh.startswith("notice.yaml：") and error.message_en.startswith("notice.yaml: ")
    assert "entry" in error.extra and error.extra["file"] == "notice.yaml"


def test_empty_holiday_list_is_rejected() -> None:
    with pytest.raises(CalendarError) as caught:
        parse_schedule({"year": 2027, "source": "x", "holidays": [], "workdays": []})
    assert caught.value.code == "schedule_no_holidays"


def test_the_offending_entry_is_shown_as_written() -> None:
    text = _broken("2027-02-20", "2027-02-22")
    with pytest.raises(CalendarError) as caught:
        parse_schedules_text(text)
    assert caught.value.extra["location"] == "workdays[0]"
    assert caught.value.extra["entry"] == D(2027, 2, 22)
    assert '"2027-02-22"' in caught.value.message_zh


def test_a_repeated_year_in_one_file_is_rejected() -> None:
    one = "\n".join("    " + line for line in NOTICE_2027.splitlines())
    text = "schedules:\n  -\n" + one + "\n  -\n" + one + "\n"
    with pytest.raises(CalendarError) as caught:
        parse_schedules_text(text, file_name="two.yaml")
    assert caught.value.code == "schedule_duplicate_year"
    assert "schedules[1]" in caught.value.message_en


def test_missing_file_is_a_calendar_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarError) as caught:
        load_schedule_file(tmp_path / "absent.yaml")
    assert caught.value.code == "schedule_file_unreadable"


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-10, max_value=3000)
    | st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31))
    | st.sampled_from(["2027-01-01", "2027-02-30", "元旦", "", "2027-13-01"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["name", "start", "end", "year", "x"]), children, max_size=4)
    ),
    max_leaves=12,
)
schedule_like = st.fixed_dictionaries(
    {
        "year": st.one_of(st.integers(min_value=1940, max_value=2110), yaml_values),
        "source": st.one_of(st.just("通知"), yaml_values),
        "holidays": st.lists(
            st.fixed_dictionaries(
                {"name": st.just("节"), "start": yaml_values, "end": yaml_values},
            )
            | yaml_values,
            max_size=3,
        ),
        "workdays": st.lists(yaml_values, max_size=3) | yaml_values,
    },
    optional={"published": yaml_values, "typo": yaml_values},
)


@settings(max_examples=300, deadline=None)
@given(data=schedule_like)
def test_any_mapping_is_either_a_schedule_or_a_calendar_error(data: dict[str, object]) -> None:
    try:
        schedule = parse_schedule(data)
    except CalendarError as error:
        assert error.message_zh and error.message_en and error.code.startswith("schedule_")
    else:
        assert parse_schedule(schedule.to_mapping()) == schedule


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list("year:2027-01 {}[],&*!?|>'\"\n\t#元旦holidayswkd")), max_size=120
    )
)
def test_any_text_is_either_schedules_or_a_calendar_error(text: str) -> None:
    try:
        parse_schedules_text(text, file_name="fuzz.yaml")
    except CalendarError as error:
        assert error.message_zh.startswith("fuzz.yaml：")
