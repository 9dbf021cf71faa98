"""Deadlines without a year, dated milestones, ongoing work and impossible dates, as documents write them."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban.tasks.parser.timex import extract_times, impossible_dates, ongoing_text

D = dt.date


# --- month, quarter, half-year and year-end without a year: the document's own year ----------------


@pytest.mark.parametrize(
    ("text", "year", "deadline", "deadline_text"),
    [
        # 上海市人民政府办公厅 (沪府办发〔2025〕11号) style: the phrase opens the sentence
        (
            "3月底前，各区完成辖区内老旧燃气管道排查。（责任单位：市住房城乡建设管理委、各区政府）",
            2025,
            D(2025, 3, 31),
            "3月底前",
        ),
        (
            "9月30日前，完成首批示范项目认定。（责任单位：市科委、市经济信息化委）",
            2025,
            D(2025, 9, 30),
            "9月30日前",
        ),
        # 国务院办公厅 (国办发〔2018〕128号) style: the phrase ends a clause, the ministry in brackets
        (
            "6月底前，研究建立“无废城市”建设指标体系。（生态环境部牵头，国家发展改革委参与）",
            2019,
            D(2019, 6, 30),
            "6月底前",
        ),
        ("各省级人民政府年底前将试点推进情况报送生态环境部。", 2019, D(2019, 12, 31), "年底前"),
        # 内蒙古 工作要点 style: 于…前, quarters, half-years, 年内, 旬
        ("各盟市于9月30日前将自查报告报送自治区生态环境厅。", 2024, D(2024, 9, 30), "9月30日前"),
        ("第三季度完成全区排污许可证质量核查。", 2024, D(2024, 9, 30), "第三季度"),
        ("三季度末前，完成监测站点联网。", 2024, D(2024, 9, 30), "三季度末前"),
        ("上半年完成试点，下半年全面推开。", 2024, D(2024, 12, 31), "上半年"),
        ("力争年内建成自治区固体废物信息平台。", 2024, D(2024, 12, 31), "年内"),
        ("6月中旬前，完成实施方案编制。", 2024, D(2024, 6, 20), "6月中旬前"),
        ("到6月底，全区燃煤锅炉淘汰比例达到80%。", 2024, D(2024, 6, 30), "到6月底"),
        ("十二月底前，完成年度考核。", 2024, D(2024, 12, 31), "十二月底前"),
        ("明年一季度完成验收。", 2024, D(2025, 3, 31), "明年一季度"),
        ("今年年底前完成整改销号。", 2024, D(2024, 12, 31), "今年年底前"),
        ("完成时限：上半年", 2024, D(2024, 6, 30), "上半年"),
        ("完成时限：第四季度", 2024, D(2024, 12, 31), "第四季度"),
        # a month "前" without 底 is read literally, as "2024年6月前" is: before June
        ("6月前完成清理。", 2024, D(2024, 5, 31), "6月前"),
    ],
)
def test_month_only_deadlines_fall_in_the_documents_year(
    text: str, year: int, deadline: dt.date, deadline_text: str
) -> None:
    info = extract_times(text, None, year)
    assert (info.deadline, info.deadline_text) == (deadline, deadline_text)
    assert info.years == ()  # no year is written
    first = info.expressions[0]
    assert (first.kind, text[first.start : first.end]) == ("deadline", deadline_text)


def test_a_month_already_past_at_issue_is_not_rolled_into_the_next_year() -> None:
    # 国发〔2018〕39号 was issued on 2018-11-16: its "6月底前" is June 2018, history not next year
    assert extract_times("6月底前完成排查。", D(2018, 11, 16)).deadline == D(2018, 6, 30)
    assert extract_times("3月底前，各区完成方案编制。", D(2025, 5, 17), 2025).deadline == D(2025, 3, 31)


def test_the_document_year_wins_over_the_issue_year() -> None:
    # a 2025年工作要点 issued in December 2024: "3月底前" is March 2025
    assert extract_times("3月底前，完成年度任务分解。", D(2024, 12, 20), 2025).deadline == D(2025, 3, 31)


@pytest.mark.parametrize(
    ("text", "deadline_text"),
    [
        ("6月底前，研究建立“无废城市”建设指标体系。（生态环境部牵头）", "6月底前"),
        ("3月底，各区完成方案编制。（责任单位：各区政府）", "3月底"),
        ("第三季度完成全区排污许可证质量核查。", "第三季度"),
    ],
)
def test_without_a_document_year_the_phrase_stays_undated(text: str, deadline_text: str) -> None:
    info = extract_times(text)
    assert (info.deadline, info.deadline_text, info.milestones) == (None, deadline_text, ())
    assert info.relative_text is None


@pytest.mark.parametrize(
    ("text", "relative_text"),
    [
        ("每年3月底前向自治区人民政府报送上年度工作情况。", "每年3月底前"),
        ("年度工作推进计划于上年年底前报自治区生态文明建设委员会。", "上年年底前"),
        ("次年1月底前报送年度总结。", "次年1月底前"),
    ],
)
def test_recurring_months_stay_relative(text: str, relative_text: str) -> None:
    info = extract_times(text, None, 2024)
    assert (info.deadline, info.deadline_text, info.relative_text) == (None, None, relative_text)


@pytest.mark.parametrize(
    "text",
    [
        "6月5日世界环境日期间，集中开展宣传活动。",  # a day named, not a by-when
        "一季度全区GDP同比增长5%。",  # a status report
        "上半年全市空气质量优良率达到85%。",
        "三年内完成全部改造。",  # a duration, read as relative
        "近年内，全区水环境质量持续改善。",
        "比上年同期提高3个百分点。",
    ],
)
def test_month_words_that_are_no_deadline(text: str) -> None:
    info = extract_times(text, None, 2024)
    assert (info.deadline, info.deadline_text) == (None, None)


# --- "N月取得明显成效": dated milestones -----------------------------------------------------------


def test_a_bare_month_with_an_achievement_is_a_milestone_shanghai_style() -> None:
    info = extract_times("6月取得明显成效，12月底前完成全部点位整治。（责任单位：市生态环境局）", None, 2025)
    assert [(m.date, m.text) for m in info.milestones] == [
        (D(2025, 6, 30), "6月"),
        (D(2025, 12, 31), "12月底前"),
    ]
    assert (info.deadline, info.deadline_text) == (D(2025, 12, 31), "6月")


def test_stage_results_by_month_end_state_council_style() -> None:
    info = extract_times("9月底前取得阶段性成效，年底前基本完成清理整顿。（国家发展改革委牵头）", None, 2019)
    assert [(m.date, m.text) for m in info.milestones] == [
        (D(2019, 9, 30), "9月底前"),
        (D(2019, 12, 31), "年底前"),
    ]
    assert info.deadline == D(2019, 12, 31)


def test_a_bare_month_with_a_year_is_a_milestone_too() -> None:
    info = extract_times("2024年6月取得明显成效，2024年底前全面完成。")
    assert [m.text for m in info.milestones] == ["2024年6月", "2024年底前"]
    assert info.deadline == D(2024, 12, 31)


def test_a_bare_month_with_an_adverb_is_a_milestone() -> None:
    assert extract_times("确保10月完成验收。", None, 2024).deadline == D(2024, 10, 31)


# --- ongoing work: never a deadline ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        (
            "建立燃气安全巡查制度。\n责任单位：市城管执法局\n完成时限：长期坚持",
            "长期坚持",
        ),  # 分工方案 table row
        ("落实河湖长制。（各盟市人民政府负责，自治区水利厅配合；持续推进）", "持续推进"),  # annotation
        ("加强执法监管，常态化推进。", "常态化推进"),
        ("按进度推进。", "按进度推进"),
        ("完成时限：长期", "长期"),
        ("时间安排：持续开展", "持续开展"),
    ],
)
def test_ongoing_phrases_give_no_deadline(text: str, phrase: str) -> None:
    info = extract_times(text, D(2024, 3, 1), 2024)
    assert (info.deadline, info.deadline_text) == (None, None)
    assert ongoing_text(text) == phrase


def test_an_ongoing_time_slot_outweighs_a_target_year_in_the_task() -> None:
    text = "到2025年，全市PM2.5平均浓度下降到30微克/立方米。\n牵头单位：市生态环境局\n完成时限：长期坚持"
    info = extract_times(text, None, 2024)
    assert (info.deadline, info.deadline_text) == (None, None)
    assert [m.text for m in info.milestones] == ["到2025年"]  # the target year is still read


def test_a_slot_with_a_date_and_ongoing_work_keeps_its_date() -> None:
    info = extract_times("完成时限：2024年底前完成试点，长期坚持", None, 2024)
    assert (info.deadline, info.deadline_text) == (D(2024, 12, 31), "2024年底前")


def test_ongoing_words_inside_a_sentence_are_just_words() -> None:
    text = "持续推进上海港码头岸电设施建设，2023年底前实现全覆盖。"
    assert ongoing_text(text) is None
    assert extract_times(text).deadline == D(2023, 12, 31)
    assert ongoing_text("建立长期跟踪研究机制。") is None


# --- impossible dates: no deadline, reported --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year", "impossible"),
    [
        ("2月30日前报送改造台账。（责任单位：各区政府）", 2025, ["2月30日"]),  # 上海 style
        ("13月底前完成排查整治。", 2025, ["13月底"]),
        ("2023年0月完成验收。", None, ["2023年0月"]),  # 国务院 style with a year
        ("2023年13月底前，各省级人民政府完成评估。（生态环境部牵头）", None, ["2023年13月底"]),
        ("4月31日前，各盟市报送自查报告。", 2024, ["4月31日"]),
        ("2月29日前完成。", 2025, ["2月29日"]),  # 2025 has no 29 February
        ("2018年2月30日前完成；2019年13月底前报送。", None, ["2018年2月30日", "2019年13月底"]),
    ],
)
def test_impossible_dates_give_no_deadline(text: str, year: int | None, impossible: list[str]) -> None:
    info = extract_times(text, None, year)
    assert (info.deadline, info.deadline_text, info.milestones) == (None, None, ())
    assert impossible_dates(text, year) == impossible


@pytest.mark.parametrize(
    "text",
    [
        "2024年2月29日前完成。",
        "6月30日前报送。",
        "12月底前完成，10月开展评估。",
        "每月10日前报送进度，3个月内完成。",
        "《关于2月30日问题的说明》",  # inside a document name: not ours to judge
    ],
)
def test_possible_dates_are_not_reported(text: str) -> None:
    assert impossible_dates(text, 2025) == []


def test_a_leap_day_without_a_year_may_exist() -> None:
    assert impossible_dates("2月29日前完成。") == []
    info = extract_times("2月29日前完成。")
    assert (info.deadline, info.deadline_text) == (None, "2月29日前")
    assert extract_times("2月29日前完成。", None, 2024).deadline == D(2024, 2, 29)


# --- a clock time stays in the phrase; a bare year that states a fact is no deadline ----------------


@pytest.mark.parametrize(
    ("text", "year", "deadline", "phrase"),
    [
        # 四川省人民政府办公厅 style: the day and the hour
        (
            "各市（州）于6月20日18：00前通过全省政府系统公文无纸化传输平台向省政府报送自查报告。",
            2014,
            D(2014, 6, 20),
            "6月20日18：00前",
        ),
        ("请于3月5日12时前将推荐名单报市委组织部。", 2025, D(2025, 3, 5), "3月5日12时前"),
        # 国务院办公厅 style, with the year written
        (
            "请于2019年1月10日17:00前将意见反馈国务院办公厅秘书局。",
            None,
            D(2019, 1, 10),
            "2019年1月10日17:00前",
        ),
    ],
)
def test_a_clock_time_stays_in_the_phrase(
    text: str, year: int | None, deadline: dt.date, phrase: str
) -> None:
    info = extract_times(text, None, year)
    assert (info.deadline, info.deadline_text) == (deadline, phrase)


@pytest.mark.parametrize(
    "text",
    [
        # 国务院办公厅 reply letters (国办函〔2004〕57号): what happened, what is forecast
        "发展改革委意见：2000年国家已取消用于电源与电网发展的2分钱专项电力建设基金。",
        "目前国产船用柴油机所用曲轴全部依赖进口，2004年预计国产大型柴油机94台。",
        # 内蒙古 report style
        "2017年全区已完成造林1000万亩，森林覆盖率稳步提高。",
    ],
)
def test_a_bare_year_stating_a_fact_is_no_deadline(text: str) -> None:
    info = extract_times(text, D(2004, 8, 12))
    assert (info.deadline, info.deadline_text, info.years) == (None, None, ())


def test_a_year_adverbial_followed_by_a_clause_is_still_a_deadline() -> None:
    info = extract_times("2016年，在全区已经实施农村重大民生建设工程的嘎查村中，选择20%以上的开展试点。")
    assert (info.deadline, info.deadline_text) == (D(2016, 12, 31), "2016年")


# --- relative deadlines: as written, dated from the issue date ------------------------------------


@pytest.mark.parametrize(
    ("text", "issued", "deadline", "phrase"),
    [
        (
            "各省、自治区、直辖市人民政府要在本意见印发之日起30日内，制定出台具体实施办法。",
            D(2018, 11, 16),
            D(2018, 12, 16),
            "本意见印发之日起30日内",
        ),
        (
            "各区政府自本方案印发之日起3个月内完成排查。",
            D(2023, 8, 23),
            D(2023, 11, 23),
            "本方案印发之日起3个月内",
        ),
    ],
)
def test_relative_deadlines_keep_their_words(
    text: str, issued: dt.date, deadline: dt.date, phrase: str
) -> None:
    info = extract_times(text, issued, issued.year)
    assert (info.deadline, info.deadline_text) == (deadline, phrase)
    undated = extract_times(text, None, issued.year)  # the 文号 year alone dates no day count
    assert (undated.deadline, undated.relative_text) == (None, phrase)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "unit",
    [
        "完成时限：",
        "（长期坚持）",
        "上半年",
        "年内",
        "6月",
        "第三季度",
        "2月30日",
        "   ",
        "到6月",
        "持续推进，",
    ],
)
def test_repetitive_inputs_stay_linear(unit: str) -> None:
    text = unit * (100_000 // len(unit))
    extract_times(text, D(2024, 1, 1), 2024)
    impossible_dates(text, 2024)
    ongoing_text(text)


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet="到年月日底前内旬上中下半季度第一二三四十每今明次本长期坚持续推进完成时限：（）；，。0123456789 \n"
    ),
    st.integers(min_value=-5, max_value=10_005) | st.none(),
)
def test_any_year_and_any_text_never_raise(text: str, year: int | None) -> None:
    info = extract_times(text, None, year)
    assert info == extract_times(text, None, year)
    for expr in info.expressions:
        assert 0 <= expr.start <= expr.end <= len(text) and expr.text == text[expr.start : expr.end].rstrip()
    assert all(phrase in text for phrase in impossible_dates(text, year))
    phrase = ongoing_text(text)
    assert phrase is None or phrase in text
