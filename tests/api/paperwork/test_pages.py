"""The paperwork on the pages: the scorecards rank departments and 盟市 with the weights shown and offer the
通报 to the office; the task page and the board offer the 督办单, the plan review page the 分工方案; the
`/paperwork/…` downloads are
authorised like the API (a cooperating unit or another department gets the error page)."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from tests.api.pages.helpers import PageClient, text_of
from tests.workflow.paperwork.conftest import Supervised, docx_text, flat, pdf_text

PERIOD = {"start": "2025-09-01", "end": "2025-10-31"}


def test_the_scorecards_rank_with_their_weights_and_offer_the_bulletin(
    supervised: Supervised, signed_in: Callable[[str], PageClient]
) -> None:
    office = signed_in("office")
    page = office.get("/scorecards", **PERIOD)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "排名 单位 得分" in text
    assert "1 自治区生态环境厅 52.8 33% 2 19 0 1/0/1" in text
    assert "1 包头市人民政府" in text
    assert "评分规则：督办评分规则（第 1 版）" in text and "每份红色督办单 8" in text
    assert 'href="/paperwork/bulletin.pdf?start=2025-09-01&amp;end=2025-10-31"' in page.text
    bulletin = office.get("/paperwork/bulletin.docx", **PERIOD)
    assert bulletin.status_code == 200
    assert "表2各盟市督办事项办理情况排名" in flat(docx_text(bulletin.content))
    office.get("/lang/en", next="/scorecards")
    english = text_of(office.get("/scorecards", **PERIOD).text)
    assert "Rank Department Score" in english and "Per red notice 8" in english


def test_a_department_sees_its_place_but_not_the_bulletin(
    supervised: Supervised, signed_in: Callable[[str], PageClient]
) -> None:
    lead = signed_in("lead")
    page = lead.get("/scorecards", **PERIOD)
    assert "1 自治区生态环境厅 52.8" in text_of(page.text)
    assert "包头市人民政府" not in text_of(page.text)
    assert "/paperwork/bulletin" not in page.text
    refused = lead.get("/paperwork/bulletin.pdf", **PERIOD)
    assert refused.status_code == 403 and "督办通报仅供委员会办公室生成" in refused.text


def test_the_task_page_offers_the_lead_its_notice(
    supervised: Supervised, signed_in: Callable[[str], PageClient]
) -> None:
    lead = signed_in("lead")
    page = lead.get(f"/tasks/{supervised.red}")
    assert f'href="/paperwork/tasks/{supervised.red}/notice.pdf"' in page.text
    pdf = lead.get(f"/paperwork/tasks/{supervised.red}/notice.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "红色督办单" in pdf_text(pdf.content, png="页面-督办单.png")
    quiet = lead.get(f"/tasks/{supervised.quiet}")
    assert "/paperwork/tasks/" not in quiet.text
    cooperating = signed_in("cooperating")
    assert "/paperwork/tasks/" not in cooperating.get(f"/tasks/{supervised.red}").text
    refused = cooperating.get(f"/paperwork/tasks/{supervised.red}/notice.pdf")
    assert refused.status_code == 403 and "督办单只发给牵头单位" in refused.text


def test_the_board_offers_the_notices_of_its_tasks(
    supervised: Supervised, signed_in: Callable[[str], PageClient]
) -> None:
    office = signed_in("office")
    board = office.get("/overdue")
    assert board.status_code == 200
    link = next(
        part.split('"')[0]
        for part in board.text.split('href="')
        if part.startswith("/paperwork/notices.docx")
    )
    ids = sorted(int(x) for x in link.replace("&amp;", "&").split("?")[1].replace("task=", "").split("&"))
    assert ids == sorted([supervised.red, supervised.blue, supervised.region])
    notices = office.get(link.replace("&amp;", "&"))
    assert notices.status_code == 200
    assert docx_text(notices.content).count("色督办单") == 3


def test_the_division_plan_downloads_from_the_pages_for_the_office_only(
    world_plan: tuple[Session, int], signed_in: Callable[[str], PageClient]
) -> None:
    _, plan_id = world_plan
    office = signed_in("office")
    review = office.get(f"/plans/{plan_id}")
    assert review.status_code == 200
    links = review.text[review.text.index('id="division-downloads"') :].split("</p>")[0]
    assert "下载分工方案" in links
    assert f'href="/paperwork/plans/{plan_id}/division.pdf"' in links
    (word_link,) = [p.split('"')[0] for p in links.split('href="')[1:] if p.split('"')[0].endswith(".docx")]
    word = office.get(word_link)
    assert word.status_code == 200
    assert "序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限" in docx_text(word.content)
    refused = signed_in("lead").get(f"/paperwork/plans/{plan_id}/division.pdf")
    assert refused.status_code == 403 and "分工方案仅供委员会办公室生成" in refused.text
    missing = office.get("/paperwork/plans/999999/division.pdf")
    assert missing.status_code == 404
