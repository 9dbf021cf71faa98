"""Office review before issuing: edits (one task or in bulk), the review list with proposals and disputes,
the written units and their resolution."""

from duban.tasks.review.departments import DepartmentIndex, split_names
from duban.tasks.review.edits import EditOutcome, TaskEdit, bulk_edit, edit_task
from duban.tasks.review.listing import ReviewItem, ReviewList, proposal_for, review_list
from duban.tasks.review.unit_views import PlanUnits, PlanUnitView, UnitView, plan_units, task_units
from duban.tasks.review.units import NewDepartment, UnitOutcome, resolve_unit

__all__ = [
    "DepartmentIndex",
    "EditOutcome",
    "NewDepartment",
    "PlanUnitView",
    "PlanUnits",
    "ReviewItem",
    "ReviewList",
    "TaskEdit",
    "UnitOutcome",
    "UnitView",
    "bulk_edit",
    "edit_task",
    "plan_units",
    "proposal_for",
    "resolve_unit",
    "review_list",
    "split_names",
    "task_units",
]
