"""台账 export: `GET /api/v1/exports/ledger.xlsx` and `ledger.csv`, with the board's filters."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response

from duban.api.auth import CurrentUser
from duban.api.deps import IdQuery, SessionDep
from duban.api.problems import PROBLEM_RESPONSES
from duban.core import clock
from duban.notifications.calendars import working_calendar
from duban.tasks.enums import Role, SupervisionLevel, TaskState
from duban.tasks.models import User
from duban.workflow.board import ISSUED, BoardFilter
from duban.workflow.board_rules import Light
from duban.workflow.errors import ActionForbidden
from duban.workflow.ledger import ledger_rows, ledger_title, to_csv, to_xlsx

router = APIRouter(prefix="/api/v1/exports", tags=["tasks"])

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_RESPONSES: dict[int | str, dict[str, Any]] = {s: PROBLEM_RESPONSES[s] for s in (401, 403, 422)}


def ledger_filter(
    user: User,
    *,
    plan_id: int | None = None,
    department: int | None = None,
    level: SupervisionLevel | None = None,
    region: int | None = None,
    light: tuple[Light, ...] = (),
    state: tuple[TaskState, ...] = (),
    sort: str = "overdue",
    descending: bool = False,
) -> BoardFilter:
    """The board filter of a ledger request; a department sees only the tasks it holds."""
    scope = None
    if user.role is Role.department:
        if user.department_id is None:
            raise ActionForbidden("账号未归属任何单位", "Your account belongs to no department")
        scope = user.department_id
    return BoardFilter(
        plan_id=plan_id,
        department_id=department,
        level=level,
        region_id=region,
        lights=light,
        states=state or ISSUED,
        scope_department=scope,
        sort=sort,
        descending=descending,
    )


def _disposition(extension: str) -> str:
    name = f"督办台账-{clock.today().isoformat()}.{extension}"
    return f"attachment; filename=\"ledger.{extension}\"; filename*=UTF-8''{quote(name)}"


def ledger_response(session: SessionDep, flt: BoardFilter, extension: str) -> Response:
    """The 台账 file (xlsx or csv) for a filter."""
    rows = ledger_rows(session, flt, working_calendar(session))
    if extension == "xlsx":
        body, media = to_xlsx(rows, ledger_title(clock.today())), XLSX_TYPE
    else:
        body, media = to_csv(rows), "text/csv; charset=utf-8"
    return Response(body, media_type=media, headers={"Content-Disposition": _disposition(extension)})


LightQuery = Annotated[list[Light] | None, Query(description="red 逾期 / yellow 临期或欠报 / green 正常")]
StateQuery = Annotated[
    list[TaskState] | None, Query(description="默认：已交办以来的各状态 / default: issued")
]


def ledger_query(
    user: CurrentUser,
    plan_id: IdQuery = None,
    department: IdQuery = None,
    level: SupervisionLevel | None = None,
    region: IdQuery = None,
    light: LightQuery = None,
    state: StateQuery = None,
) -> BoardFilter:
    """The board filter of a ledger request's query parameters (shared by the XLSX and CSV exports)."""
    return ledger_filter(
        user,
        plan_id=plan_id,
        department=department,
        level=level,
        region=region,
        light=tuple(light or ()),
        state=tuple(state or ()),
    )


LedgerQuery = Annotated[BoardFilter, Depends(ledger_query)]


@router.get(
    "/ledger.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}, "description": "督办台账 XLSX"}, **_RESPONSES},
)
def get_ledger_xlsx(session: SessionDep, flt: LedgerQuery) -> Response:
    """台账 as XLSX: 序号 任务 牵头单位 配合单位 完成时限 状态 督办级别 最近进展 逾期工作日."""
    return ledger_response(session, flt, "xlsx")


@router.get(
    "/ledger.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "督办台账 CSV"}, **_RESPONSES},
)
def get_ledger_csv(session: SessionDep, flt: LedgerQuery) -> Response:
    """台账 as UTF-8 CSV with a byte-order mark; same columns and filters as the XLSX."""
    return ledger_response(session, flt, "csv")
