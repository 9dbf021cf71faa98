"""Time expressions: deadlines, milestones, effective-from dates, relative deadlines and recurring duties."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban.tasks.parser.timex import extract_times

D = dt.date
ISSUED = D(2018, 8, 22)


@pytest.mark.parametrize(
    ("text", "deadline", "deadline_text", "years"),
    [
        ("到2020年，全区森林覆盖率达到23%。", D(2020, 12, 31), "到2020年", (2020,)),
        ("2018年年底前，完成排查。", D(2018, 12, 31), "2018年年底前", (2018,)),
        ("2018年底前完成划定。", D(2018, 12, 31), "2018年底前", (2018,)),
        ("红线2018 年底前，全面完成。", D(2018, 12, 31), "2018 年底前", (2018,)),
        ("到 2019年底，完成改造。", D(2019, 12, 31), "到 2019年底", (2019,)),
        ("2020年6月底前完成清理。", D(2020, 6, 30), "2020年6月底前", (2020,)),
        ("2020年6月30日前报送。", D(2020, 6, 30), "2020年6月30日前", (2020,)),
        ("力争2016年开工，实现通水。", D(2016, 12, 31), "2016年", (2016,)),
        ("2018年，消除四个劣Ⅴ类断面。", D(2018, 12, 31), "2018年", (2018,)),
        ("治理机制，2035年美丽河湖基本建成。", D(2035, 12, 31), "2035年", (2035,)),
        ("力争实现2030年底前历史遗留问题应治尽治。", D(2030, 12, 31), "2030年底前", (2030,)),
        ("2020年上半年完成。", D(2020, 6, 30), "2020年上半年", (2020,)),
        ("2020年下半年完成。", D(2020, 12, 31), "2020年下半年", (2020,)),
        ("2020年年中完成。", D(2020, 6, 30), "2020年年中", (2020,)),
        ("2021年一季度完成。", D(2021, 3, 31), "2021年一季度", (2021,)),
        ("2021年第三季度完成。", D(2021, 9, 30), "2021年第三季度", (2021,)),
        ("截至2022年底，全部完成。", D(2022, 12, 31), "截至2022年底", (2022,)),
        ("流域于2017年底前完成。", D(2017, 12, 31), "2017年底前", (2017,)),
    ],
)
def test_deadline_forms(text: str, deadline: dt.date, deadline_text: str, years: tuple[int, ...]) -> None:
    info = extract_times(text)
    assert (info.deadline, info.deadline_text, info.years) == (deadline, deadline_text, years)
    assert info.expressions[0].kind == "deadline"
    assert text[info.expressions[0].start : info.expressions[0].end] == deadline_text


def test_year_before_is_read_literally_but_counts_its_year() -> None:
    # "2027年前" = before 2027: the date is the last day of 2026; the golden reading still lists 2027.
    info = extract_times("2027年前，分类选择一批重点河湖开展保护。")
    assert info.deadline == D(2026, 12, 31)
    assert info.years == (2027,)
    assert extract_times("2018年6月前完成。").deadline == D(2018, 5, 31)


def test_milestones_last_deadline_and_first_text() -> None:
    info = extract_times("2020年年底前，全面完成；2018年年底前，完成一半。到2020年，基本建成。")
    assert info.deadline_text == "2020年年底前"  # first in reading order
    assert info.deadline == D(2020, 12, 31)  # the last date
    assert [(m.date, m.text) for m in info.milestones] == [
        (D(2018, 12, 31), "2018年年底前"),
        (D(2020, 12, 31), "2020年年底前"),
        (D(2020, 12, 31), "到2020年"),
    ]
    assert info.years == (2018, 2020)


def test_year_range_adverbial_counts_both_years() -> None:
    info = extract_times("2016年，选择20%开展试点；2017～2018年，全面开展治理。")
    assert info.years == (2016, 2017, 2018)
    assert [e.text for e in info.expressions] == ["2016年", "2017～2018年"]
    assert info.deadline == D(2018, 12, 31)


@pytest.mark.parametrize(
    "text",
    [
        "单位GDP能耗比2015年下降14%。",
        "用水量较2015年降低20%。",
        "汞使用量在2010年的基础上减少50%。",
        "以2015年为基数，逐年削减。",
        "落实《草原保护与建设规划纲要（2014-2020年）》，实施保护工程。",
        "全面展现2025—2035年美丽内蒙古建设的生动实践。",
        "2016年至2020年是全面建成小康社会的决胜阶段。",
        "“十三五”期间，累计下降10%。",
        "每年开展一次评估，每季度调度。",
        "（内蒙古自治区环境保护厅　2016年6月）",
        "2019年以来，全区空气质量持续改善。",
        "与2015年相比保持稳定。",
        "2015年前后建成。",
    ],
)
def test_not_deadlines(text: str) -> None:
    info = extract_times(text)
    assert info.deadline is None
    assert info.years == ()
    assert [e for e in info.expressions if e.kind == "deadline"] == []


def test_effective_from_dates_are_not_deadlines() -> None:
    info = extract_times("自2019年起，不再审批。2019年1月1日起，全面供应国六油品。从2020年3月起执行新标准。")
    assert info.deadline is None and info.deadline_text is None
    assert info.years == ()
    assert info.from_years == (2019, 2020)
    assert [(e.text, e.date) for e in info.from_dates] == [
        ("2019年起", D(2019, 1, 1)),
        ("2019年1月1日起", D(2019, 1, 1)),
        ("2020年3月起", D(2020, 3, 1)),
    ]


def test_effective_period_with_end_date_is_from() -> None:
    info = extract_times("2019年1月1日至12月31日，开展专项执法行动。")
    assert [(e.kind, e.text) for e in info.expressions] == [("from", "2019年1月1日至12月31日")]
    assert info.deadline is None


def test_from_and_deadline_in_one_measure() -> None:
    info = extract_times("自2016年起，实施排放标准；2017年底前，完成改造；2018年1月起，执行特别限值。")
    assert [(e.text, e.kind) for e in info.expressions] == [
        ("2016年起", "from"),
        ("2017年底前", "deadline"),
        ("2018年1月起", "from"),
    ]
    assert info.years == (2017,) and info.from_years == (2016, 2018)


def test_relative_deadlines_resolved_against_the_issue_date() -> None:
    info = extract_times("本意见印发之日起30日内制定方案，印发后3个月内完成排查。", ISSUED)
    assert [(e.text, e.kind, e.date) for e in info.expressions] == [
        ("本意见印发之日起30日内", "relative", D(2018, 9, 21)),
        ("印发后3个月内", "relative", D(2018, 11, 22)),
    ]
    assert info.deadline == D(2018, 11, 22)
    assert info.deadline_text == "本意见印发之日起30日内"
    assert info.relative_text is None


def test_relative_deadline_without_issue_date_has_no_date() -> None:
    info = extract_times("本方案印发之日起30日内制定方案。")
    assert info.deadline is None
    assert info.expressions[0].kind == "relative" and info.expressions[0].date is None
    assert info.relative_text == "本方案印发之日起30日内"


def test_working_days_stay_relative_for_the_calendar() -> None:
    info = extract_times("收到交办单后60个工作日内报送整改情况。", ISSUED)
    assert info.deadline is None
    assert info.relative_text == "收到交办单后60个工作日内"
    assert info.expressions[0].date is None


def test_recurring_relative_deadline() -> None:
    info = extract_times("年度工作推进计划于上年年底前报自治区生态文明建设委员会。", ISSUED)
    assert info.relative_text == "上年年底前"
    assert info.deadline is None and info.years == ()


def test_month_without_year_falls_in_the_issue_year() -> None:
    assert extract_times("10月底前完成排查。", ISSUED).deadline == D(2018, 10, 31)
    # the document's own year, even for a month already past when it was issued (never rolled over)
    assert extract_times("6月底前完成排查。", ISSUED).deadline == D(2018, 6, 30)
    assert extract_times("年底前完成排查。", ISSUED).deadline == D(2018, 12, 31)
    assert extract_times("明年6月底前完成。", ISSUED).deadline == D(2019, 6, 30)
    assert extract_times("今年底前完成。", ISSUED).deadline == D(2018, 12, 31)
    assert extract_times("今年内完成，区内企业全部达标。", ISSUED).deadline == D(2018, 12, 31)
    assert extract_times("年内完成。", ISSUED).deadline == D(2018, 12, 31)
    undated = extract_times("10月底前完成排查。")
    assert (undated.deadline, undated.deadline_text, undated.relative_text) == (None, "10月底前", None)


def test_status_dates_before_the_issue_date_are_not_deadlines() -> None:
    assert extract_times("截至2017年底，已完成造林1000万亩。", ISSUED).years == ()
    assert extract_times("截至2019年底，完成造林1000万亩。", ISSUED).years == (2019,)
    # the plan period may start before the plan is issued: a year adverbial stays a planned step
    assert extract_times("2016年，选择20%以上的开展试点。", D(2017, 6, 1)).years == (2016,)


@pytest.mark.parametrize(
    ("text", "frequency", "phrase"),
    [
        ("饮用水源安全状况信息每季度向社会公开。", "quarterly", "每季度向社会公开"),
        ("落实情况每年向自治区党委、政府报告。", "yearly", "每年向自治区党委、政府报告"),
        ("每半年向社会公布治理情况。", "half_yearly", "每半年向社会公布"),
        ("每月调度一次进展。", "monthly", "每月调度"),
        ("每周报送进展。", "weekly", "每周报送"),
        ("国家级每年2 次。", "yearly", "每年2 次"),
    ],
)
def test_recurring_duties(text: str, frequency: str, phrase: str) -> None:
    recurrence = extract_times(text).recurrence
    assert recurrence is not None
    assert (recurrence.frequency, recurrence.text) == (frequency, phrase)


def test_rates_are_not_recurring_duties() -> None:
    assert extract_times("每年新增造林100万亩。").recurrence is None
    assert extract_times("定期开展检查。").recurrence is None  # no frequency stated


def test_traditional_script_keeps_the_text_as_written() -> None:
    info = extract_times("2018年年底前,完成劃定;自2020年起,全區實施;每季度向社會公開。")
    assert info.deadline_text == "2018年年底前"
    assert [e.text for e in info.from_dates] == ["2020年起"]
    assert info.recurrence is not None and info.recurrence.text == "每季度向社會公開"


def test_full_width_digits_and_chinese_numeral_years() -> None:
    info = extract_times("到二〇二〇年，基本建成；２０１９年底前，完成改造。")
    assert [(e.text, e.date) for e in info.expressions] == [
        ("到二〇二〇年", D(2020, 12, 31)),
        ("２０１９年底前", D(2019, 12, 31)),
    ]


def test_invalid_calendar_dates_do_not_raise() -> None:
    info = extract_times("2018年2月30日前完成；2019年13月底前报送。")
    assert (info.deadline, info.deadline_text, info.years, info.expressions) == (None, None, (), ())


@settings(max_examples=200, deadline=None)
@given(st.text(), st.dates(min_value=D(1, 1, 1), max_value=D(9999, 12, 31)) | st.none())
def test_any_text_is_read_without_error_and_deterministically(text: str, issued: dt.date | None) -> None:
    assert extract_times(text, issued) == extract_times(text, issued)


@settings(max_examples=30, deadline=None)
@given(
    st.text(
        alphabet="到年月日底前起至内每季半上下明今本意见印发之后个工作"
        "0123456789２〇二十，。、（）《》 \x00\n",
        max_size=300,
    )
)
def test_time_vocabulary_soup_never_raises(text: str) -> None:
    for issued in (D(9999, 12, 1), D(1, 1, 1), None):
        info = extract_times(text, issued)
        for expr in info.expressions:
            assert 0 <= expr.start <= expr.end <= len(text)


def test_dates_at_the_edge_of_the_calendar() -> None:
    assert extract_times("明年年底前完成。", D(9999, 12, 1)).deadline is None
    assert extract_times("本意见印发之日起30日内完成。", D(9999, 12, 31)).deadline is None


def test_large_input_with_control_characters() -> None:
    chunk = "到2020年，完成\x00\x1f\u200b任务；每季度向社会公开。《规划（2014-2020年）》"
    text = chunk * (100_000 // len(chunk))
    info = extract_times(text, ISSUED)
    assert info.deadline == D(2020, 12, 31)
    assert info == extract_times(text, ISSUED)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "unit", ["2020年", "30日内", "6月", "6月底前", "每年", "到", "《", "本意见印发之日起"]
)
def test_repetitive_100_kb_inputs_stay_linear(unit: str) -> None:
    extract_times(unit * (100_000 // len(unit)), ISSUED)


# --- golden reading: every measure of the five seeds -------------------------------------------

SHARED = Path(__file__).resolve().parents[4] / "shared"
GOLDEN = sorted((SHARED / "golden" / "seeds").glob("*.truth.json"))


def golden_measures() -> Iterator[tuple[dict[str, Any], str]]:
    """(golden measure, its title + body as located in the seed via first_chars/last_chars)."""
    for path in GOLDEN:
        truth = json.loads(path.read_text(encoding="utf-8"))
        text = (SHARED / "seeds" / truth["file"]).read_text(encoding="utf-8")
        text = re.sub(r"\[bookmark: [^\]]*\]", "", text)
        if truth["file"].startswith("003"):  # page breaks, one repeating a character
            text = re.sub(r"\n+", "", text.replace("深\n\n深化", "深化"))
        pos = 0
        for m in truth["measures"]:
            start = text.find(m["first_chars"], pos)
            end = text.find(m["last_chars"], start) + len(m["last_chars"])
            title = text.rfind(m["title"], 0, start)
            yield m, text[title if title >= 0 else start : end]
            pos = start


@pytest.mark.skipif(not GOLDEN, reason="shared/golden not present beside the repository")
def test_golden_time_expressions() -> None:
    total = agree = 0
    for m, body in golden_measures():
        info = extract_times(body)
        total += 1
        expressions = [{"text": e.text, "type": e.kind} for e in info.expressions if e.kind != "relative"]
        if (
            list(info.years) == m["years"]
            and info.deadline_text == m["deadline_text"]
            and list(info.from_years) == m["from_years"]
            and expressions == m["time_expressions"]
            and info.relative_text == m.get("relative_deadline_text")
        ):
            agree += 1
    print(f"time expressions agree with the golden reading on {agree}/{total} measures")
    assert total == 291
    assert agree == total
