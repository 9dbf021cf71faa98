"""Paperwork downloads, .docx (to edit in WPS/Word) or .pdf (to send unchanged): the 督办单 of a task or of
a selection (the office, or the lead department for its own), the 督办通报 of a period and the 分工方案 of a
plan (the office's); the ranking behind the scorecards and the 通报. The same files under `/paperwork/…` for
the pages, signed in by the session cookie."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from duban.api.auth import CurrentUser
from duban.api.deps import MAX_ID, PlanId, SessionDep, TaskId
from duban.api.pages.web import PageRoute, PageUser
from duban.api.problems import PROBLEM_RESPONSES, register_error_status
from duban.core import clock
from duban.notifications.calendars import working_calendar
from duban.tasks.enums import Role
from duban.tasks.models import User
from duban.workflow.errors import ActionForbidden
from duban.workflow.paperwork import (
    MAX_SELECTION,
    NoticeNotIssued,
    Paper,
    PaperworkRequestInvalid,
    PaperworkUnavailable,
    bulletin_paper,
    division_paper,
    notice_facts,
    notice_paper,
    office_name,
    to_docx,
    to_pdf,
)
from duban.workflow.scorecards import Score, ScoreWeightsInvalid, bundled_weights, ranking
from duban.workflow.service import load_header

register_error_status(PaperworkUnavailable, 503)
register_error_status(ScoreWeightsInvalid, 503)
register_error_status(NoticeNotIssued, 404)
register_error_status(PaperworkRequestInvalid, 422)

router = APIRouter()
api = APIRouter(prefix="/api/v1", tags=["paperwork"])
pages = APIRouter(prefix="/paperwork", route_class=PageRoute, include_in_schema=False)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MEDIA = {"docx": DOCX_TYPE, "pdf": "application/pdf"}
Extension = Annotated[str, Path(pattern="^(docx|pdf)$", description="docx（可编辑）或 pdf（原样发送）")]
TaskIds = Annotated[
    list[Annotated[int, Query(ge=1, le=MAX_ID)]],
    Query(description=f"任务 id，可重复，至多 {MAX_SELECTION} 个 / task ids, repeated"),
]
Day = Annotated[dt.date | None, Query(description="原定完成时限所在期间 / period of original deadlines")]


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    files = {"content": {DOCX_TYPE: {}, "application/pdf": {}}, "description": "文件 / the file"}
    return {200: files, **{s: PROBLEM_RESPONSES[s] for s in statuses}}


def _is_office(user: User) -> bool:
    return user.role in (Role.office, Role.admin)


def file_response(papers: list[Paper], extension: str, name: str) -> Response:
    """The papers as a download named `name`.docx or `name`.pdf."""
    body = to_docx(papers) if extension == "docx" else to_pdf(papers)
    filename = f"{name[:80]}.{extension}"
    return Response(
        body,
        media_type=MEDIA[extension],
        headers={
            "Content-Disposition": f'attachment; filename="paperwork.{extension}"; '
            f"filename*=UTF-8''{quote(filename)}"
        },
    )


def notices_file(session: SessionDep, user: User, task_ids: list[int], extension: str) -> Response:
    """The 督办单 of the tasks (one a page); a department gets only those of tasks it leads."""
    wanted = list(dict.fromkeys(task_ids))
    if not wanted or len(wanted) > MAX_SELECTION:
        raise PaperworkRequestInvalid(
            f"请选择 1 至 {MAX_SELECTION} 项任务", f"Choose 1 to {MAX_SELECTION} tasks", field="task"
        )
    if not _is_office(user):
        for task_id in wanted:
            if user.department_id not in load_header(session, task_id).lead_ids:
                raise ActionForbidden(
                    "督办单只发给牵头单位：只能下载本单位牵头任务的督办单",
                    "A 督办单 goes to the lead: you can download only those of tasks you lead",
                    task_id=task_id,
                )
    facts = notice_facts(session, wanted)  # issues the serials of those generated for the first time
    office, calendar = office_name(session), working_calendar(session)
    papers = [notice_paper(f, office, calendar) for f in facts]
    session.commit()  # the numbers issued, and their counter row unlocked before the (slow) rendering
    name = f"{facts[0].serial}{papers[0].title}" if len(facts) == 1 else f"督办单（{len(facts)}份）"
    return file_response(papers, extension, name)


def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    today = clock.today()
    first = start or today.replace(day=1)
    last = end or (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    if last < first:
        raise PaperworkRequestInvalid("结束日期早于开始日期", "The end is before the start", field="end")
    return first, last


def bulletin_file(
    session: SessionDep, user: User, start: dt.date | None, end: dt.date | None, extension: str
) -> Response:
    """The 督办通报 of the period (default: this month); the office's."""
    if not _is_office(user):
        raise ActionForbidden("督办通报仅供委员会办公室生成", "The 督办通报 is the committee office's")
    first, last = _period(start, end)
    paper = bulletin_paper(session, first, last, calendar=working_calendar(session))
    session.commit()  # its number issued, the counter row unlocked before the rendering
    return file_response([paper], extension, paper.title)


def division_file(session: SessionDep, user: User, plan_id: int, extension: str) -> Response:
    """The plan's 分工方案 as a table; the office's."""
    if not _is_office(user):
        raise ActionForbidden("分工方案仅供委员会办公室生成", "The 分工方案 is the committee office's")
    paper = division_paper(session, plan_id)
    return file_response([paper], extension, paper.title)


@api.get(
    "/tasks/{task_id}/notice.{extension}", response_class=Response, responses=_responses(401, 403, 404, 503)
)
def get_task_notice(
    session: SessionDep, user: CurrentUser, task_id: TaskId, extension: Extension
) -> Response:
    """The task's latest 督办单 (blue/orange/red), numbered 督办〔年〕第N号: issued the first time it is
    generated (consecutive per year), the same on every later download."""
    return notices_file(session, user, [task_id], extension)


@api.get("/notices.{extension}", response_class=Response, responses=_responses(401, 403, 404, 422, 503))
def get_notices(session: SessionDep, user: CurrentUser, extension: Extension, task: TaskIds) -> Response:
    """The 督办单 of a selection of tasks in one file, one a page (`?task=1&task=2`)."""
    return notices_file(session, user, task, extension)


@api.get("/bulletin.{extension}", response_class=Response, responses=_responses(401, 403, 422, 503))
def get_bulletin(
    session: SessionDep, user: CurrentUser, extension: Extension, start: Day = None, end: Day = None
) -> Response:
    """The 督办通报 of a period (original deadlines in [start, end]; default this month): per department
    and per 盟市 the tasks, on time, overdue, returns, 督办单 by colour and the score, ranked."""
    return bulletin_file(session, user, start, end, extension)


@api.get(
    "/plans/{plan_id}/division.{extension}", response_class=Response, responses=_responses(401, 403, 404, 503)
)
def get_division_paper(
    session: SessionDep, user: CurrentUser, plan_id: PlanId, extension: Extension
) -> Response:
    """The plan's 分工方案 (序号 重点任务 牵头单位 配合单位 完成时限) as a Word table or a PDF."""
    return division_file(session, user, plan_id, extension)


class RankedView(BaseModel):
    """One lead department's place in the ranking."""

    rank: int
    department_id: int
    code: str
    name: str
    region: bool
    score: float
    deductions: dict[str, float]
    tasks_led: int
    due: int
    completed_on_time: int
    on_time_rate: float | None
    overdue_now: int
    working_days_late: int
    returns: int
    notices: dict[str, int]


class RankingView(BaseModel):
    """The ranking of a period and the weights that made it."""

    start: dt.date | None
    end: dt.date | None
    weights: dict[str, Any]
    departments: list[RankedView]
    regions: list[RankedView]


def _ranked(score: Score) -> RankedView:
    s = score.stats
    return RankedView(
        rank=score.rank,
        department_id=s.department_id,
        code=s.code,
        name=s.name,
        region=score.region,
        score=score.score,
        deductions=score.deductions,
        tasks_led=s.tasks_led,
        due=s.due,
        completed_on_time=s.completed_on_time,
        on_time_rate=s.on_time_rate,
        overdue_now=s.overdue_now,
        working_days_late=s.working_days_late_total,
        returns=s.returns,
        notices={c.value: n for c, n in score.notices.items()},
    )


@api.get("/stats/ranking", response_model=RankingView, tags=["stats"], responses=_responses(401, 422, 503))
def get_ranking(session: SessionDep, user: CurrentUser, start: Day = None, end: Day = None) -> RankingView:
    """Departments and 盟市 ranked by score (weights in the answer); a department sees its own rows."""
    if start and end and end < start:
        raise PaperworkRequestInvalid("结束日期早于开始日期", "The end is before the start", field="end")
    own = None if _is_office(user) else (user.department_id or -1)
    scores = ranking(session, start, end, calendar=working_calendar(session), department_id=own)
    weights = bundled_weights()
    return RankingView(
        start=start,
        end=end,
        weights={
            "version": weights.version,
            "name": weights.name,
            "base": weights.base,
            "late_share": weights.late_share,
            "per_working_day_late": weights.per_working_day_late,
            "working_days_late_cap": weights.working_days_late_cap,
            "per_return": weights.per_return,
            "per_notice": {c.value: w for c, w in weights.per_notice.items()},
        },
        departments=[_ranked(s) for s in scores if not s.region],
        regions=[_ranked(s) for s in scores if s.region],
    )


@pages.get("/tasks/{task_id}/notice.{extension}")
def page_task_notice(session: SessionDep, user: PageUser, task_id: TaskId, extension: Extension) -> Response:
    """The task page's 督办单 download."""
    return notices_file(session, user, [task_id], extension)


@pages.get("/notices.{extension}")
def page_notices(session: SessionDep, user: PageUser, extension: Extension, task: TaskIds) -> Response:
    """The board's 督办单 download for the tasks it lists."""
    return notices_file(session, user, task, extension)


@pages.get("/bulletin.{extension}")
def page_bulletin(
    session: SessionDep, user: PageUser, extension: Extension, start: Day = None, end: Day = None
) -> Response:
    """The scorecards' 通报 download for the period on the page."""
    return bulletin_file(session, user, start, end, extension)


@pages.get("/plans/{plan_id}/division.{extension}")
def page_division(session: SessionDep, user: PageUser, plan_id: PlanId, extension: Extension) -> Response:
    """The plan page's 分工方案 download."""
    return division_file(session, user, plan_id, extension)


router.include_router(api)
router.include_router(pages)
