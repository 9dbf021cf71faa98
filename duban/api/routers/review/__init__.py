"""The review API: office edits and bulk edits, the review list, region splits, the 分工方案 round trip and
the responsibility rules, the written units. Include `review.router` in the app."""

from __future__ import annotations

from fastapi import APIRouter

from duban.api.problems import register_error_status
from duban.api.routers.review import division, edits, rules, units
from duban.tasks.errors import (
    BulkEditInvalid,
    DepartmentExists,
    DivisionImportInvalid,
    EditNotAllowed,
    RuleSetInvalid,
    SplitNotAllowed,
    StaleTaskVersion,
    UnknownDepartment,
)

register_error_status(EditNotAllowed, 409)
register_error_status(SplitNotAllowed, 409)
register_error_status(StaleTaskVersion, 412)
register_error_status(UnknownDepartment, 422)
register_error_status(BulkEditInvalid, 422)
register_error_status(DivisionImportInvalid, 422)
register_error_status(RuleSetInvalid, 422)
register_error_status(DepartmentExists, 409)

router = APIRouter()
router.include_router(edits.router)
router.include_router(division.router)
router.include_router(rules.router)
router.include_router(units.router)

__all__ = ["router"]
