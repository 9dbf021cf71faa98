"""Scorecard inputs beside `department_stats`: 督办单 issued by colour per lead department, each plan's
progress (tasks by state, overdue now) — grouped SQL, one query each — and the ranking: a score per lead
department from those figures, with the weights as data (`data/scorecard_weights.yaml`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Final

import sqlalchemy as sa
import yaml
from sqlmodel import Session

from duban.core import clock
from duban.tasks.enums import AssignmentRole, DepartmentKind, NoticeColour, SupervisionLevel, TaskState
from duban.tasks.models import Department, TaskAssignment
from duban.tasks.task_views import OPEN_STATES
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.errors import WorkflowError
from duban.workflow.policy import task_t
from duban.workflow.records import DepartmentStats, department_stats
from duban.workflow.records._common import event_t

assignment_t: Final = TaskAssignment.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PlanProgress:
    """A plan's tasks by state, and how many are open past their deadline."""

    plan_id: int
    total: int
    by_state: dict[str, int]
    overdue: int

    @property
    def completed(self) -> int:
        """Tasks approved (销号)."""
        return self.by_state.get(TaskState.completed.value, 0)

    @property
    def issued(self) -> int:
        """Tasks issued (neither draft nor cancelled)."""
        return sum(
            n for s, n in self.by_state.items() if s not in (TaskState.draft.value, TaskState.cancelled.value)
        )

    @property
    def percent_completed(self) -> float:
        """Completed out of issued, in percent (0 when nothing is issued)."""
        return round(100 * self.completed / self.issued, 1) if self.issued else 0.0


def plan_progress(session: Session, plan_ids: Sequence[int]) -> dict[int, PlanProgress]:
    """Each plan's tasks grouped by state, with its open tasks past the deadline."""
    if not plan_ids:
        return {}
    overdue = sa.and_(
        task_t.c.state.in_([s.value for s in OPEN_STATES]),
        task_t.c.deadline < sa.literal(clock.today(), sa.Date),
    )
    rows = session.connection().execute(
        sa.select(
            task_t.c.plan_id,
            task_t.c.state,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((overdue, 1), else_=0)), 0),
        )
        .where(task_t.c.plan_id.in_(list(plan_ids)))
        .group_by(task_t.c.plan_id, task_t.c.state)
    )
    found: dict[int, dict[str, int]] = {}
    late: dict[int, int] = {}
    for plan_id, state, count, past in rows:
        found.setdefault(plan_id, {})[str(state)] = int(count)
        late[plan_id] = late.get(plan_id, 0) + int(past)
    return {
        plan_id: PlanProgress(plan_id, sum(states.values()), states, late.get(plan_id, 0))
        for plan_id, states in found.items()
    }


def notices_by_colour(
    session: Session, start: dt.date | None = None, end: dt.date | None = None
) -> dict[int, dict[NoticeColour, int]]:
    """督办单 issued per lead department and colour: ladder events landing on 督办 (scheduler or office),
    on tasks whose original deadline is within [start, end] (the scorecard's period)."""
    colour = event_t.c.data["colour"].as_string()
    original = sa.func.coalesce(task_t.c.original_deadline, task_t.c.deadline)
    query = (
        sa.select(assignment_t.c.department_id, colour.label("colour"), sa.func.count())
        .join_from(event_t, task_t, task_t.c.id == event_t.c.task_id)
        .join(
            assignment_t,
            sa.and_(assignment_t.c.task_id == task_t.c.id, assignment_t.c.role == AssignmentRole.lead.value),
        )
        .where(
            event_t.c.to_level == SupervisionLevel.supervised.value,
            colour.in_([c.value for c in NoticeColour]),
        )
        .group_by(assignment_t.c.department_id, colour)
    )
    if start is not None:
        query = query.where(original >= sa.literal(start, sa.Date))
    if end is not None:
        query = query.where(original <= sa.literal(end, sa.Date))
    counts: dict[int, dict[NoticeColour, int]] = {}
    for department_id, name, count in session.connection().execute(query):
        counts.setdefault(department_id, {})[NoticeColour(name)] = int(count)
    return counts


# ---- the ranking: a score per lead department from the figures above, weights as data -----------------

WEIGHTS_FILE: Final = Path(__file__).resolve().parent / "data" / "scorecard_weights.yaml"
department_t: Final = Department.__table__  # type: ignore[attr-defined]


class ScoreWeightsInvalid(WorkflowError):
    """A scorecard weights file that cannot be used."""

    code = "score_weights_invalid"


@dataclass(frozen=True)
class ScoreWeights:
    """How figures become a score (`data/scorecard_weights.yaml` explains each)."""

    version: int
    name: str
    base: float
    late_share: float
    per_working_day_late: float
    working_days_late_cap: int
    per_return: float
    per_notice: dict[NoticeColour, float]

    def rows(self) -> list[tuple[str, str]]:
        """The rules as (what, deduction) lines for the page and the 通报."""
        notices = "、".join(f"{NOTICE_ZH[c]}色 {_num(w)} 分" for c, w in self.per_notice.items())
        return [
            ("基础分", f"{_num(self.base)} 分"),
            ("未按期办结比例", f"× {_num(self.late_share)} 分（全部逾期扣满）"),
            (
                "逾期工作日",
                f"每日 {_num(self.per_working_day_late)} 分，最多计 {self.working_days_late_cap} 个工作日",
            ),
            ("退回", f"每次 {_num(self.per_return)} 分"),
            ("督办单", f"每份：{notices}"),
        ]


NOTICE_ZH: Final = {NoticeColour.blue: "蓝", NoticeColour.orange: "橙", NoticeColour.red: "红"}


def _num(value: float) -> str:
    return f"{value:g}"


def parse_weights(data: object) -> ScoreWeights:
    """Weights from the YAML mapping; ScoreWeightsInvalid names what is wrong."""
    if not isinstance(data, dict):
        raise ScoreWeightsInvalid("评分规则应为映射", "the weights file must be a mapping")
    try:
        notices = data["per_notice"]
        weights = ScoreWeights(
            version=int(data["version"]),
            name=str(data["name"]),
            base=float(data["base"]),
            late_share=float(data["late_share"]),
            per_working_day_late=float(data["per_working_day_late"]),
            working_days_late_cap=int(data["working_days_late_cap"]),
            per_return=float(data["per_return"]),
            per_notice={c: float(notices[c.value]) for c in NoticeColour},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ScoreWeightsInvalid(
            f"评分规则缺项或格式错误：{exc}", f"weights file entry missing or bad: {exc}"
        ) from exc
    numbers = [weights.base, weights.late_share, weights.per_working_day_late, weights.per_return]
    if any(n < 0 for n in [*numbers, *weights.per_notice.values(), weights.working_days_late_cap]):
        raise ScoreWeightsInvalid("评分规则中的分值不能为负", "weights cannot be negative")
    return weights


@lru_cache(maxsize=1)
def bundled_weights() -> ScoreWeights:
    """The weights shipped in `duban/workflow/data/scorecard_weights.yaml`."""
    return parse_weights(yaml.safe_load(WEIGHTS_FILE.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Score:
    """One lead department's figures, its score and its rank within its group (厅局 or 盟市)."""

    stats: DepartmentStats
    notices: dict[NoticeColour, int]
    region: bool
    score: float
    deductions: dict[str, float]
    rank: int = 0

    @property
    def notices_total(self) -> int:
        """督办单 received, every colour."""
        return sum(self.notices.values())


def score_of(
    stats: DepartmentStats, notices: dict[NoticeColour, int], weights: ScoreWeights
) -> tuple[float, dict[str, float]]:
    """The score and each deduction (rounded to 0.1) under the weights."""
    deductions = {
        "late_share": weights.late_share * (1 - stats.on_time_rate)
        if stats.on_time_rate is not None
        else 0.0,
        "working_days_late": weights.per_working_day_late
        * min(stats.working_days_late_total, weights.working_days_late_cap),
        "returns": weights.per_return * stats.returns,
        "notices": sum(weights.per_notice[c] * n for c, n in notices.items()),
    }
    rounded = {name: round(value, 1) for name, value in deductions.items()}
    return round(max(weights.base - sum(deductions.values()), 0.0), 1), rounded


def rank_scores(
    stats: Sequence[DepartmentStats],
    colours: dict[int, dict[NoticeColour, int]],
    regions: set[int],
    weights: ScoreWeights,
) -> list[Score]:
    """Scores ranked within each group (自治区部门, then 盟市): higher score first, ties as the weights file
    says; equal scores on every key share a rank."""
    scored = []
    for s in stats:
        notices = {c: colours.get(s.department_id, {}).get(c, 0) for c in NoticeColour}
        value, deductions = score_of(s, notices, weights)
        scored.append(Score(s, notices, s.department_id in regions, value, deductions))
    ranked: list[Score] = []
    for region in (False, True):
        group = sorted(
            (s for s in scored if s.region is region),
            key=lambda s: (
                -s.score,
                -(s.stats.on_time_rate or 0.0),
                s.stats.working_days_late_total,
                s.stats.code,
            ),
        )
        previous: tuple[float, float, int] | None = None
        rank = 0
        for position, item in enumerate(group, start=1):
            key = (item.score, item.stats.on_time_rate or 0.0, item.stats.working_days_late_total)
            rank = rank if key == previous else position
            previous = key
            ranked.append(replace(item, rank=rank))
    return ranked


def region_ids(session: Session, department_ids: Sequence[int]) -> set[int]:
    """Which of the departments are 盟市 (kind league_city)."""
    if not department_ids:
        return set()
    rows = session.connection().execute(
        sa.select(department_t.c.id).where(
            department_t.c.id.in_(list(department_ids)),
            department_t.c.kind == DepartmentKind.league_city.value,
        )
    )
    return {row.id for row in rows}


def ranking(
    session: Session,
    start: dt.date | None,
    end: dt.date | None,
    *,
    calendar: WorkingCalendar | None = None,
    department_id: int | None = None,
    weights: ScoreWeights | None = None,
) -> list[Score]:
    """The ranked scores of the period (original deadlines in [start, end]); one department's when given
    (ranked among all, then filtered, so its rank is the real one)."""
    stats = department_stats(session, start, end, calendar=calendar)
    colours = notices_by_colour(session, start, end)
    ranked = rank_scores(
        stats, colours, region_ids(session, [s.department_id for s in stats]), weights or bundled_weights()
    )
    return [s for s in ranked if department_id is None or s.stats.department_id == department_id]
