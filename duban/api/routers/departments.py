"""The department registry (部门名录)."""

from __future__ import annotations

from fastapi import APIRouter

from duban.api.deps import SessionDep
from duban.api.problems import PROBLEM_RESPONSES
from duban.tasks.departments import list_departments
from duban.tasks.enums import DepartmentKind
from duban.tasks.models import DepartmentPublic

router = APIRouter(prefix="/api/v1", tags=["departments"])


@router.get("/departments", response_model=list[DepartmentPublic], responses={422: PROBLEM_RESPONSES[422]})
def departments(session: SessionDep, kind: DepartmentKind | None = None) -> list[DepartmentPublic]:
    """Every registered body, optionally of one kind (党委部门/政府部门/盟市/其他)."""
    return [
        DepartmentPublic.model_validate(row, from_attributes=True) for row in list_departments(session, kind)
    ]
