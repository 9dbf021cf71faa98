"""Written units of a plan: list them with their resolution, map one to a registry department or add it."""

from __future__ import annotations

from typing import Self

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from duban.api.auth import CurrentUser
from duban.api.deps import SessionDep
from duban.api.routers.review.edits import PlanId, require_office, responses
from duban.tasks.enums import DepartmentKind
from duban.tasks.review import NewDepartment, PlanUnits, PlanUnitView, plan_units, resolve_unit
from duban.tasks.review.unit_views import UnitDepartment

router = APIRouter(prefix="/api/v1", tags=["plans"])


class NewDepartmentIn(BaseModel):
    """A department added to the registry for a written unit that names a body the registry lacks."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", examples=["shyjj"]
    )
    name: str = Field(min_length=2, max_length=128, examples=["上海市应急管理局"])
    kind: DepartmentKind = Field(default=DepartmentKind.other, examples=["政府部门"])
    aliases: list[str] = Field(default_factory=list, max_length=20, examples=[["市应急局"]])


class UnitResolveIn(BaseModel):
    """Map a written name of the plan to a registry department, or add it as a new department."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "市应急局", "department": "yjglt"},
                {"name": "市应急局", "new_department": {"code": "shyjj", "name": "上海市应急管理局"}},
            ]
        },
    )

    name: str = Field(min_length=1, max_length=256, description="原文写法 / the name as written")
    department: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="名录中的部门代码或名称 / a registry department's code or name",
    )
    new_department: NewDepartmentIn | None = None
    remark: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.department is None) == (self.new_department is None):
            raise ValueError(
                "department 与 new_department 须且只须给出一个 / give department or new_department"
            )
        return self


class UnitResolveResult(BaseModel):
    """What mapping a written name changed."""

    plan_id: int
    name: str
    department: UnitDepartment
    created: bool = Field(description="是否新增了部门 / whether a department was added")
    tasks: list[int] = Field(description="修改了的拟办任务 / draft tasks changed")
    event_ids: list[int]
    skipped: int = Field(description="已交办、未修改的任务数 / tasks no longer in draft, left as they are")
    unit: PlanUnitView | None


@router.get("/plans/{plan_id}/units", response_model=PlanUnits, responses=responses(401, 403, 404))
def get_units(session: SessionDep, user: CurrentUser, plan_id: PlanId) -> PlanUnits:
    """The plan's distinct written units (as the document writes them) with their resolution, the tasks that
    name them and how many draft tasks an unresolved lead keeps from being issued; unresolved first."""
    require_office(user)
    return plan_units(session, plan_id)


@router.post(
    "/plans/{plan_id}/units/resolve",
    response_model=UnitResolveResult,
    responses=responses(401, 403, 404, 409, 422),
)
def post_resolve(
    session: SessionDep, user: CurrentUser, plan_id: PlanId, body: UnitResolveIn
) -> UnitResolveResult:
    """Map a written name to a registry department (`department`: code or name) or add it as a new one
    (`new_department`), for every draft task of the plan that names it; the written name stays as written.
    Each task changed gets a "unit_resolved" event and a new version."""
    require_office(user)
    new = body.new_department
    outcome = resolve_unit(
        session,
        plan_id,
        body.name,
        department=body.department,
        new_department=(
            NewDepartment(code=new.code, name=new.name, kind=new.kind, aliases=new.aliases) if new else None
        ),
        actor_user_id=user.id,
        actor_label=user.label,
        via="api",
        remark=body.remark,
    )
    after = next((u for u in plan_units(session, plan_id).units if u.name == outcome.name), None)
    return UnitResolveResult(
        plan_id=plan_id,
        name=outcome.name,
        department=outcome.department,
        created=outcome.created,
        tasks=outcome.tasks,
        event_ids=outcome.event_ids,
        skipped=outcome.skipped,
        unit=after,
    )
