"""Scorecards: per lead department the on-time rate, average working days overdue, returns and 督办单 by
colour, per plan the progress — numbers from the same SQL as `/api/v1/stats/departments`, charts as SVG —
and the ranking of departments and 盟市 by score, with the weights it used (the 督办通报 ranks the same)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response

from duban.api.deps import SessionDep
from duban.api.pages.charts import Chart, bar_chart, stacked_chart
from duban.api.pages.web import PageRoute, PageUser, flash, render
from duban.notifications.calendars import working_calendar
from duban.tasks.enums import NoticeColour, Role, TaskState
from duban.tasks.plan_views import list_plans
from duban.workflow.records import DepartmentStats, department_stats
from duban.workflow.scorecards import (
    PlanProgress,
    bundled_weights,
    notices_by_colour,
    plan_progress,
    rank_scores,
    ranking,
    region_ids,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

COLOUR_LEGEND = [("notice-blue", "蓝色督办单"), ("notice-orange", "橙色督办单"), ("notice-red", "红色督办单")]
PROGRESS_LEGEND = [
    ("state-completed", "已办结"),
    ("state-open", "按期办理中"),
    ("state-overdue", "逾期"),
    ("state-draft", "拟办"),
]


def _period(request: Request) -> tuple[dt.date | None, dt.date | None]:
    days: list[dt.date | None] = []
    for name in ("start", "end"):
        raw = request.query_params.get(name, "").strip()
        try:
            days.append(dt.date.fromisoformat(raw) if raw else None)
        except ValueError:
            flash(
                request,
                f"日期“{raw[:20]}”无效，已忽略",
                "A date of the period is not valid and was ignored",
                "error",
            )
            days.append(None)
    start, end = days
    if start and end and end < start:
        flash(
            request,
            "结束日期早于开始日期，已忽略",
            "The end is before the start; the period was ignored",
            "error",
        )
        return None, None
    return start, end


def department_charts(
    stats: list[DepartmentStats], colours: dict[int, dict[NoticeColour, int]]
) -> list[Chart]:
    """On-time rate, average working days overdue, returns and 督办单 by colour, one bar per department."""
    by_rate = sorted(stats, key=lambda s: (s.on_time_rate if s.on_time_rate is not None else 2.0, s.code))
    late = sorted(stats, key=lambda s: -(s.working_days_late_total / s.late_tasks if s.late_tasks else 0))
    return [
        bar_chart(
            "按期办结率",
            [
                (
                    s.name,
                    (s.on_time_rate or 0.0) * 100,
                    f"{s.on_time_rate * 100:.0f}%" if s.on_time_rate is not None else "—",
                )
                for s in by_rate
            ],
            maximum=100.0,
            css="rate",
        ),
        bar_chart(
            "平均逾期工作日",
            [
                (s.name, s.working_days_late_total / s.late_tasks if s.late_tasks else None, _avg(s))
                for s in late
            ],
            css="late",
        ),
        bar_chart(
            "退回次数",
            [(s.name, float(s.returns), str(s.returns)) for s in stats if s.returns],
            css="returns",
        ),
        stacked_chart(
            "督办单（按颜色）",
            [
                (
                    s.name,
                    [(f"notice-{c.value}", colours.get(s.department_id, {}).get(c, 0)) for c in NoticeColour],
                )
                for s in stats
                if colours.get(s.department_id)
            ],
            COLOUR_LEGEND,
        ),
    ]


def _avg(stats: DepartmentStats) -> str:
    return f"{stats.working_days_late_total / stats.late_tasks:.1f}" if stats.late_tasks else "—"


def plan_chart(titles: dict[int, str], progress: dict[int, PlanProgress]) -> Chart:
    """Each plan's tasks: completed, open on time, overdue, still draft."""
    rows = []
    for plan_id, title in titles.items():
        found = progress.get(plan_id)
        if found is None:
            continue
        open_now = sum(found.by_state.get(s.value, 0) for s in TaskState if s.value in _OPEN) - found.overdue
        rows.append(
            (
                title,
                [
                    ("state-completed", found.completed),
                    ("state-open", open_now),
                    ("state-overdue", found.overdue),
                    ("state-draft", found.by_state.get(TaskState.draft.value, 0)),
                ],
            )
        )
    return stacked_chart("规划进度", rows, PROGRESS_LEGEND)


_OPEN = {"assigned", "in_progress", "submitted", "returned"}


@router.get("/scorecards")
def scorecards(request: Request, session: SessionDep, user: PageUser) -> Response:
    """The scorecard of every lead department (a department sees its own) and each plan's progress."""
    start, end = _period(request)
    own = user.department_id if user.role is Role.department else None
    if user.role is Role.department and own is None:
        return render(
            request,
            "error.html",
            {
                "status": 403,
                "message_zh": "账号未归属任何单位",
                "message_en": "Your account belongs to no department",
            },
            403,
        )
    calendar = working_calendar(session)
    stats = department_stats(session, start, end, department_id=own, calendar=calendar)
    colours = notices_by_colour(session, start, end)
    weights = bundled_weights()
    if own is None:
        ids = [s.department_id for s in stats]
        scores = rank_scores(stats, colours, region_ids(session, ids), weights)
    else:  # ranked among all, so the department's place is the real one
        scores = ranking(session, start, end, calendar=calendar, department_id=own, weights=weights)
    plans = list_plans(session, limit=50, department_id=own)  # a department: issued plans only
    titles = {p.id: p.title for p in plans}
    progress = plan_progress(session, list(titles))
    return render(
        request,
        "scorecards.html",
        {
            "start": start,
            "end": end,
            "stats": stats,
            "colours": colours,
            "charts": department_charts(stats, colours),
            "plan_chart": plan_chart(titles, progress),
            "plans": plans,
            "progress": progress,
            "weights": weights,
            "ranked": [x for x in scores if not x.region],
            "ranked_regions": [x for x in scores if x.region],
            "period_query": {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v},
        },
    )
