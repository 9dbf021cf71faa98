"""The 督办通报 of a period and the 分工方案 of a plan, as papers. The 通报 ranks with the scorecard's own
figures and weights (`duban.workflow.scorecards.ranking`), so the page and the paper never disagree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

from sqlmodel import Session

from duban.core import clock
from duban.tasks.division import division_rows
from duban.tasks.enums import NoticeColour
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.paperwork.model import Heading, Paper, Paragraph, Table, chinese_date, percent
from duban.workflow.paperwork.notices import office_name
from duban.workflow.paperwork.serials import Serial, bulletin_subject, issue_serials
from duban.workflow.scorecards import Score, ScoreWeights, bundled_weights, ranking

RANK_HEADERS: Final = (
    "排名",
    "单位",
    "交办任务",
    "应办结",
    "按期办结",
    "按期办结率",
    "当前逾期",
    "逾期工作日",
    "退回",
    "督办单（蓝/橙/红）",
    "得分",
)
RANK_WIDTHS: Final = (1.0, 4.2, 1.2, 1.2, 1.2, 1.6, 1.2, 1.3, 1.0, 1.9, 1.2)
ADDRESSEE: Final = "自治区各有关部门（单位），各盟市人民政府（行政公署）"


def bulletin_serial(serial: Serial) -> str:
    """The 通报's number: 督办通报〔year〕第N期, N its place among the year's 通报."""
    return f"督办通报〔{serial.year}〕第{serial.number}期"


def period_text(start: dt.date, end: dt.date) -> str:
    """2026年1月1日至2026年3月31日."""
    return f"{chinese_date(start)}至{chinese_date(end)}"


def _row(score: Score) -> tuple[str, ...]:
    s = score.stats
    colours = "/".join(str(score.notices.get(c, 0)) for c in NoticeColour)
    return (
        str(score.rank),
        s.name,
        str(s.tasks_led),
        str(s.due),
        str(s.completed_on_time),
        percent(s.on_time_rate),
        str(s.overdue_now),
        str(s.working_days_late_total),
        str(s.returns),
        colours,
        f"{score.score:g}",
    )


def _table(scores: Sequence[Score], caption: str) -> Table:
    rows = tuple(_row(s) for s in scores) or (("—", "本期无到期任务", *("—",) * 9),)
    return Table(
        RANK_HEADERS, rows, RANK_WIDTHS, numeric=frozenset(range(2, 11)) | {0}, caption=caption, small=True
    )


def _summary(scores: Sequence[Score], start: dt.date, end: dt.date) -> str:
    due = sum(s.stats.due for s in scores)
    on_time = sum(s.stats.completed_on_time for s in scores)
    overdue = sum(s.stats.overdue_now for s in scores)
    returns = sum(s.stats.returns for s in scores)
    notices = {c: sum(s.notices.get(c, 0) for s in scores) for c in NoticeColour}
    rate = percent(on_time / due) if due else "—"
    return (
        f"{period_text(start, end)}，{len(scores)}个牵头单位共有到期应办结任务{due}项，按期办结{on_time}项，"
        f"按期办结率{rate}；截至{chinese_date(clock.today())}，仍逾期未办结{overdue}项。"
        f"本期共发出督办单{sum(notices.values())}份（蓝色{notices[NoticeColour.blue]}份、"
        f"橙色{notices[NoticeColour.orange]}份、红色{notices[NoticeColour.red]}份），"
        f"退回办结报送{returns}次。"
    )


def _behind(scores: Sequence[Score], weights: ScoreWeights) -> list[str]:
    """Up to three lowest-ranked units of a group that lost points (the 通报 names them)."""
    lagging = [s for s in scores if s.score < weights.base and (s.stats.overdue_now or s.notices_total)]
    return [s.stats.name for s in sorted(lagging, key=lambda s: (s.score, s.stats.code))[:3]]


def bulletin_paper(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    calendar: WorkingCalendar | None = None,
    weights: ScoreWeights | None = None,
) -> Paper:
    """The 督办通报 of the period (tasks whose original deadline falls in [start, end]); its number is
    issued the first time the period's 通报 is generated (in the caller's transaction), then kept."""
    rules = weights or bundled_weights()
    subject = bulletin_subject(start, end)
    serial = issue_serials(session, "bulletin", {subject: clock.today().year})[subject]
    scores = ranking(session, start, end, calendar=calendar, weights=rules)
    departments = [s for s in scores if not s.region]
    regions = [s for s in scores if s.region]
    office = office_name(session)
    named = _behind(departments, rules) + _behind(regions, rules)
    demand = (
        f"请{'、'.join(named)}等排名靠后的单位认真分析原因，明确整改措施和完成时限，"
        f"于通报印发后10个工作日内将整改情况书面报送{office}。"
        if named
        else "各单位均按期推进，请继续保持。"
    )
    blocks: list[Heading | Paragraph | Table] = [
        Paragraph(
            f"根据督办工作安排，现将{period_text(start, end)}到期任务的办理情况通报如下（排名依据"
            f"《{rules.name}》，数据截至{chinese_date(clock.today())}）。"
        ),
        Heading("一、总体情况"),
        Paragraph(_summary(scores, start, end)),
        Heading("二、自治区各部门（单位）办理情况"),
        _table(departments, "表1 自治区各部门（单位）督办事项办理情况排名"),
        Heading("三、各盟市办理情况"),
        _table(regions, "表2 各盟市督办事项办理情况排名"),
        Heading("四、有关要求"),
        Paragraph(demand),
        Paragraph(
            "各部门（单位）、各盟市要对照本通报，逐项梳理逾期和被督办事项，压实牵头责任，"
            "确保按时限要求办结；配合单位要主动对接，按时报送配合情况。"
        ),
        Heading("附：评分规则", level=2),
        *(Paragraph(f"{what}：{rule}。") for what, rule in rules.rows()),
    ]
    return Paper(
        issuer=office,
        serial=bulletin_serial(serial),
        title=f"关于{period_text(start, end)}督办事项办理情况的通报",
        date=clock.today(),
        addressee=ADDRESSEE,
        blocks=tuple(blocks),
        signature=office,
    )


def division_paper(session: Session, plan_id: int) -> Paper:
    """The plan's 分工方案 as a table (序号 重点任务 牵头单位 配合单位 完成时限), landscape."""
    plan, rows = division_rows(session, plan_id)
    office = office_name(session)
    table = Table(
        headers=("序号", "重点任务", "牵头单位", "配合单位", "完成时限"),
        rows=tuple(
            (
                str(r.number),
                r.title,
                "、".join(r.lead) or "—",
                "、".join(r.cooperating) or "—",
                chinese_date(r.deadline) if r.deadline else "长期坚持",
            )
            for r in rows
        ),
        widths=(1.0, 7.0, 3.0, 3.8, 2.8),
        numeric=frozenset({0}),
    )
    return Paper(
        issuer=office,
        serial=plan.doc_number or "",
        title=f"《{plan.title}》重点任务分工方案",
        date=clock.today(),
        blocks=(
            Paragraph(
                f"为抓好《{plan.title}》贯彻落实，现将重点任务分解如下。各牵头单位要会同配合单位"
                f"细化工作措施，按完成时限抓好落实，并按要求报送进展情况。共{len(rows)}项任务。"
            ),
            table,
        ),
        signature=office,
        landscape=True,
    )
