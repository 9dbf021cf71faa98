"""The document's own year (issue date, 文号, title) and the deadlines a whole document's measures get."""

from __future__ import annotations

import datetime as dt

import pytest

from duban.tasks.chinese import to_simplified
from duban.tasks.parser import parse, to_json_dict
from duban.tasks.parser.header import Title, find_doc_number_year, find_doc_year, find_title_year
from duban.tasks.parser.model import ParsedPlan
from duban.tasks.parser.normalize import split_lines

D = dt.date


@pytest.mark.parametrize(
    ("head", "year"),
    [
        (
            "上海市人民政府办公厅关于印发《上海市促进高端医疗器械产业全链条发展行动方案》的通知\n\n沪府办发〔2025〕17号\n",
            2025,
        ),
        ("国务院办公厅关于印发“无废城市”建设试点工作方案的通知\n国办发〔2018〕128号\n", 2018),
        ("國務院關於加快推進農業機械化和\n農機裝備產業轉型升級的指導意見\n國發〔2018〕42號\n", 2018),
        ("内蒙古自治区人民政府文件\n内政发[2018]17号\n", 2018),
        ("沪交科〔2023〕233号\n", 2023),
        ("市生态环境局文件\n签发人：张三\n", None),
        # a document number cited in a sentence is another document's
        ("根据《国务院关于印发“十三五”生态环境保护规划的通知》（国发〔2016〕65号），制定本方案。\n", None),
    ],
)
def test_document_number_year(head: str, year: int | None) -> None:
    assert find_doc_number_year(split_lines(head, to_simplified)) == year


@pytest.mark.parametrize(
    ("title", "year"),
    [
        ("2024年全区生态环境保护工作要点", 2024),
        ("松江区城市更新2025年度实施计划", 2025),
        ("上海港提高靠港船舶岸电使用率实施方案（2023年）", 2023),
        ("關於印發2024年全區大氣污染防治工作要點的通知", 2024),
        ("上海市北斗产业高质量发展三年行动计划（2021-2023年）", None),  # a span, not one year
        ("全面推进美丽内蒙古建设筑牢我国北方重要生态安全屏障规划纲要（2025—2035年）", None),
        ("关于到2025年基本建成现代环境治理体系的实施意见", None),  # a target year
        ("内蒙古自治区生态环境保护“十三五”规划", None),
        (None, None),
    ],
)
def test_title_year(title: str | None, year: int | None) -> None:
    assert find_title_year(title) == year


def test_document_year_order() -> None:
    numbered = split_lines("沪府办发〔2025〕11号\n", to_simplified)
    plain = split_lines("各区人民政府：\n", to_simplified)
    title = Title("上海市燃气管道更新改造工作方案", False, 1)
    assert find_doc_year(D(2025, 5, 17), numbered, title) == 2025  # the issue date
    assert find_doc_year(None, numbered, title) == 2025  # else the 文号
    assert (
        find_doc_year(None, plain, Title("2024年全区生态环境保护工作要点", False, 1)) == 2024
    )  # else the title
    assert find_doc_year(None, plain, title) is None
    assert find_doc_year(None, plain, None) is None
    # next year's plan issued in the year before speaks of its own year
    next_year = Title("2025年全区生态环境保护工作要点", False, 1)
    assert find_doc_year(D(2024, 12, 20), plain, next_year) == 2025
    assert find_doc_year(None, split_lines("内环发〔2024〕88号\n", to_simplified), next_year) == 2025
    # a title year that is neither the issue year nor the next does not move the document's year
    assert find_doc_year(D(2024, 3, 1), plain, Title("2022年工作总结", False, 1)) == 2024


SHANGHAI_NOTICE = """上海市人民政府办公厅关于印发《上海市燃气管道更新改造工作方案》的通知
沪府办发〔2025〕11号

各区人民政府，市政府各委、办、局：
现将《上海市燃气管道更新改造工作方案》印发给你们，请认真按照执行。

上海市燃气管道更新改造工作方案

一、重点任务
（一）开展全面排查。3月底前，各区完成辖区内老旧燃气管道排查。（责任单位：市住房城乡建设管理委、各区政府）
（二）实施分类改造。6月底前取得阶段性成效，年底前完成改造任务。（责任单位：市住房城乡建设管理委）
（三）健全长效机制。建立燃气管道巡查制度。（责任单位：市城管执法局；完成时限：长期坚持）
（四）做好信息报送。2月30日前报送改造台账。（责任单位：各区政府）
"""

STATE_COUNCIL_NOTICE = """国务院办公厅关于印发“无废城市”建设试点工作方案的通知
国办发〔2018〕128号

各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
《“无废城市”建设试点工作方案》已经国务院同意，现印发给你们，请认真贯彻执行。
国务院办公厅
2018年12月29日

“无废城市”建设试点工作方案

一、主要任务
（一）建立指标体系。2019年6月底前，研究建立“无废城市”建设指标体系。（生态环境部牵头）
（二）制定评估办法。本方案印发之日起30日内，制定评估办法。（生态环境部牵头）
（三）开展试点。年底前完成试点城市筛选。（生态环境部指导）
（四）持续推进固体废物进口管理制度改革。长期坚持。（生态环境部、海关总署指导）
"""

WORK_POINTS = """2024年全区生态环境保护工作要点

一、深入打好蓝天保卫战
（一）推进重点行业超低排放改造。6月取得明显成效，第三季度完成验收。
（二）强化重污染天气应对。完善应急减排清单，常态化推进。
二、深入打好碧水保卫战
（一）推进入河排污口整治。年内完成黄河干流排污口整治。
"""

UNDATED = """关于加强生态环境保护的实施方案

一、重点任务
（一）开展排查。6月底前完成排查。
（二）完成整治。年底前完成整治。
"""


def _deadlines(plan: ParsedPlan) -> dict[str, tuple[str | None, dt.date | None]]:
    return {"/".join(m.path): (m.time.deadline_text, m.time.deadline) for m in plan.measures}


def test_a_shanghai_notice_dated_by_its_document_number() -> None:
    plan = parse(SHANGHAI_NOTICE)
    assert plan.issue_date is None  # no date line: the 文号 gives the year
    assert _deadlines(plan) == {
        "一/(一)": ("3月底前", D(2025, 3, 31)),
        "一/(二)": ("6月底前", D(2025, 12, 31)),
        "一/(三)": (None, None),  # 长期坚持
        "一/(四)": (None, None),  # 2月30日: impossible
    }
    second = plan.measures[1].time
    assert [(m.date, m.text) for m in second.milestones] == [
        (D(2025, 6, 30), "6月底前"),
        (D(2025, 12, 31), "年底前"),
    ]


def test_a_state_council_notice_dated_by_its_issue_date() -> None:
    plan = parse(STATE_COUNCIL_NOTICE)
    assert plan.issue_date == D(2018, 12, 29)
    assert _deadlines(plan) == {
        "一/(一)": ("2019年6月底前", D(2019, 6, 30)),
        "一/(二)": ("本方案印发之日起30日内", D(2019, 1, 28)),
        "一/(三)": ("年底前", D(2018, 12, 31)),
        "一/(四)": (None, None),
    }


def test_a_work_plan_dated_by_its_title() -> None:
    plan = parse(WORK_POINTS)
    assert plan.issue_date is None
    assert _deadlines(plan) == {
        "一/(一)": ("6月", D(2024, 9, 30)),
        "一/(二)": (None, None),
        "二/(一)": ("年内", D(2024, 12, 31)),
    }


def test_without_any_document_year_the_phrase_is_kept_undated() -> None:
    plan = parse(UNDATED)
    assert _deadlines(plan) == {"一/(一)": ("6月底前", None), "一/(二)": ("年底前", None)}


def test_the_json_the_office_reads() -> None:
    measures = to_json_dict(parse(SHANGHAI_NOTICE))["measures"]
    first = measures[0]
    assert (first["deadline"], first["deadline_text"]) == ("2025-03-31", "3月底前")
    assert first["milestones"] == [{"date": "2025-03-31", "text": "3月底前"}]
    assert (measures[2]["deadline"], measures[2]["deadline_text"]) == (None, None)
