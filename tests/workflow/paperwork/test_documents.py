"""The 督办单, 督办通报 and 分工方案 built from real data, written as .docx and PDF, read back with python-docx
and pdfplumber; page 1 of each PDF is left as a PNG in var/test-artifacts/paperwork/ for a person to look at."""

from __future__ import annotations

import datetime as dt
import io

import pdfplumber
import pytest
from docx import Document
from sqlmodel import Session

from duban.core import clock
from duban.tasks.enums import NoticeColour
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.paperwork import (
    NoticeNotIssued,
    bulletin_paper,
    division_paper,
    notice_facts,
    notice_paper,
    office_name,
    to_docx,
    to_pdf,
)
from duban.workflow.paperwork.fonts import PaperworkUnavailable, choose
from tests.workflow.paperwork.conftest import Supervised, docx_text, flat, pdf_text

CALENDAR = WorkingCalendar.from_bundled()
AUTUMN = (dt.date(2025, 9, 1), dt.date(2025, 10, 31))


def test_a_red_notice_names_the_task_its_lead_and_the_days(supervised: Supervised) -> None:
    session = supervised.scene.session
    (facts,) = notice_facts(session, [supervised.red])
    assert facts.colour is NoticeColour.red
    assert facts.issued_on == dt.date(2025, 10, 28)
    assert facts.serial == "督办〔2025〕第1号"  # the year's first 督办单 generated
    paper = notice_paper(facts, office_name(session), CALENDAR)
    expected = [
        "自治区生态环境保护委员会办公室",
        facts.serial,
        "红色督办单",
        "自治区生态环境厅：",
        "推进燃煤锅炉整治",
        "2025年9月30日",
        "已超过完成时限15个工作日",
        "2025年11月4日前",  # five working days after 28 October
        "2025年10月28日",
        "抄送：自治区发展改革委。",
    ]
    word = docx_text(to_docx([paper]))
    pdf = flat(pdf_text(to_pdf([paper]), png="督办单-红.png"))
    for text in expected:
        assert text in word, text
        assert flat(text) in pdf, text


def test_a_selection_is_one_file_one_notice_a_page(supervised: Supervised) -> None:
    session = supervised.scene.session
    facts = notice_facts(session, [supervised.blue, supervised.region, supervised.red])
    assert [f.colour for f in facts] == [NoticeColour.blue, NoticeColour.orange, NoticeColour.red]
    papers = [notice_paper(f, office_name(session), CALENDAR) for f in facts]
    data = to_pdf(papers)
    text = pdf_text(data, png="督办单-选中.png")
    assert [t for t in ("蓝色督办单", "橙色督办单", "红色督办单") if t in text] == [
        "蓝色督办单",
        "橙色督办单",
        "红色督办单",
    ]
    assert "包头市人民政府：" in text
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        starts = [i for i, page in enumerate(pdf.pages) if "督办单" in (page.extract_text() or "")[:200]]
    assert len(starts) == 3
    word = docx_text(to_docx(papers))
    assert word.count("色督办单") == 3


def test_a_task_without_a_notice_has_none_to_print(supervised: Supervised) -> None:
    with pytest.raises(NoticeNotIssued):
        notice_facts(supervised.scene.session, [supervised.quiet])


def test_the_bulletin_ranks_departments_and_regions_with_the_scorecard_figures(
    supervised: Supervised,
) -> None:
    session = supervised.scene.session
    paper = bulletin_paper(session, *AUTUMN, calendar=CALENDAR)
    assert paper.serial == f"督办通报〔{clock.today().year}〕第1期"  # the year's first 通报
    word = docx_text(to_docx([paper]))
    pdf = pdf_text(to_pdf([paper]), png="督办通报.png")
    for text in (
        "关于2025年9月1日至2025年10月31日督办事项办理情况的通报",
        paper.serial,
        "表1自治区各部门（单位）督办事项办理情况排名",
        "表2各盟市督办事项办理情况排名",
        "包头市人民政府",
        "自治区生态环境厅",
        "督办评分规则（第1版）",
    ):
        assert flat(text) in flat(word), text
        assert flat(text) in flat(pdf), text
    # 生态环境厅 led 3 tasks due in the period: 1 on time, 2 overdue now; one blue and one red 督办单
    row = next(line for line in word.splitlines() if "| 自治区生态环境厅 |" in line)
    assert row.split(" | ")[:5] == ["1", "自治区生态环境厅", "3", "3", "1"]
    assert " | 33.3% | 2 | " in row
    assert " | 1/0/1 | " in row  # blue/orange/red
    region = next(line for line in word.splitlines() if "| 包头市人民政府 |" in line)
    assert region.split(" | ")[0] == "1"
    assert " | 0/1/0 | " in region
    assert "到期应办结任务4项，按期办结1项，按期办结率25.0%" in flat(word)


def test_the_division_plan_is_a_word_table(world_plan: tuple[Session, int]) -> None:
    session, plan_id = world_plan
    paper = division_paper(session, plan_id)
    data = to_docx([paper])
    doc = Document(io.BytesIO(data))
    (table,) = doc.tables
    assert [c.text for c in table.rows[0].cells] == ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"]
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert rows[0][0] == "1" and "燃煤锅炉" in rows[0][1]
    assert rows[0][2:] == ["自治区生态环境厅", "自治区发展改革委", "2026年12月31日"]
    assert rows[1][4] == "2026年6月30日"
    width, height = doc.sections[0].page_width, doc.sections[0].page_height
    assert width is not None and height is not None and width > height  # landscape
    pdf = flat(pdf_text(to_pdf([paper]), png="分工方案.png"))
    assert flat("重点任务分工方案") in pdf and "2026年12月31日" in pdf and "自治区生态环境厅" in pdf


def test_no_chinese_font_is_a_clear_error_not_a_broken_pdf() -> None:
    with pytest.raises(PaperworkUnavailable) as caught:
        choose(frozenset({"DejaVu Sans", "Liberation Serif"}))
    assert caught.value.code == "paperwork_fonts_missing"
    assert "fonts-noto-cjk" in caught.value.message_zh
    found = choose(frozenset({"Noto Serif CJK SC", "Noto Sans CJK SC", "仿宋_GB2312"}))
    assert (found.body, found.heading, found.title) == (
        "仿宋_GB2312",
        "Noto Sans CJK SC",
        "Noto Serif CJK SC",
    )
    assert found.title_weight == "bold"
