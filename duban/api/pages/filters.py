"""The board's filters read from a query string: bad values are dropped with a message, never a 500."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import Request
from sqlmodel import Session, col, select

from duban.api.deps import MAX_ID
from duban.tasks.enums import DepartmentKind, SupervisionLevel
from duban.tasks.models import Department, Plan
from duban.workflow.board import SORTS
from duban.workflow.board_rules import LIGHTS, Light

PER_PAGE: Final = (25, 50, 100, 200)


@dataclass
class BoardQuery:
    """The filters, sort and page a board request asks for, and what could not be read."""

    plan_id: int | None = None
    department: int | None = None
    level: SupervisionLevel | None = None
    region: int | None = None
    lights: tuple[Light, ...] = ()
    sort: str = "overdue"
    descending: bool = False
    page: int = 1
    per_page: int = 50
    problems: list[tuple[str, str]] = field(default_factory=list)

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of a BoardFilter."""
        return {
            "plan_id": self.plan_id,
            "department_id": self.department,
            "level": self.level,
            "region_id": self.region,
            "lights": self.lights,
            "sort": self.sort,
            "descending": self.descending,
            "page": self.page,
            "per_page": self.per_page,
        }


def _id(request: Request, name: str, query: BoardQuery, zh: str, en: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if raw.isdigit() and 1 <= int(raw) <= MAX_ID:
        return int(raw)
    query.problems.append((f"{zh}无效，已忽略", f"The {en} filter is not valid and was ignored"))
    return None


def read_board_query(request: Request, default_lights: tuple[Light, ...] = ()) -> BoardQuery:
    """The board's filters from the query string (unknown values dropped, each with a message)."""
    query = BoardQuery()
    query.plan_id = _id(request, "plan", query, "规划筛选", "plan")
    query.department = _id(request, "department", query, "部门筛选", "department")
    query.region = _id(request, "region", query, "盟市筛选", "盟市 (league/city)")
    level = request.query_params.get("level", "")
    if level:
        try:
            query.level = SupervisionLevel(level)
        except ValueError:
            query.problems.append(
                ("督办级别筛选无效，已忽略", "The level filter is not valid and was ignored")
            )
    if "light" in request.query_params:
        lights = [v for v in request.query_params.getlist("light") if v]
        query.lights = tuple(v for v in LIGHTS if v in lights)
        if any(v not in LIGHTS for v in lights):
            query.problems.append(("灯色筛选无效，已忽略", "The light filter is not valid and was ignored"))
    else:
        query.lights = default_lights
    sort = request.query_params.get("sort", "overdue")
    query.sort = sort if sort in SORTS else "overdue"
    query.descending = request.query_params.get("desc", "") == "1"
    page = request.query_params.get("page", "1")
    query.page = int(page) if page.isdigit() and 1 <= int(page) <= 100_000 else 1
    per_page = request.query_params.get("per_page", "50")
    query.per_page = int(per_page) if per_page.isdigit() and int(per_page) in PER_PAGE else 50
    return query


@dataclass(frozen=True)
class FilterOptions:
    """What the filter drop-downs offer."""

    plans: list[tuple[int, str]]
    departments: list[tuple[int, str]]
    regions: list[tuple[int, str]]


def filter_options(session: Session) -> FilterOptions:
    """Plans (newest 200), departments and 盟市 for the filter form."""
    plans = session.exec(select(Plan.id, Plan.title).order_by(col(Plan.id).desc()).limit(200)).all()
    rows = session.exec(
        select(Department.id, Department.name, Department.kind)
        .where(col(Department.active).is_(True))
        .order_by(col(Department.code))
    ).all()
    return FilterOptions(
        plans=[(i, t) for i, t in plans if i is not None],
        departments=[(i, n) for i, n, k in rows if i is not None and k is not DepartmentKind.league_city],
        regions=[(i, n) for i, n, k in rows if i is not None and k is DepartmentKind.league_city],
    )
