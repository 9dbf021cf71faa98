"""Office review before issuing: edits (one task or in bulk), the review list with proposals and disputes."""

from duban.tasks.review.departments import DepartmentIndex, split_names
from duban.tasks.review.edits import EditOutcome, TaskEdit, bulk_edit, edit_task
from duban.tasks.review.listing import ReviewItem, ReviewList, proposal_for, review_list

__all__ = [
    "DepartmentIndex",
    "EditOutcome",
    "ReviewItem",
    "ReviewList",
    "TaskEdit",
    "bulk_edit",
    "edit_task",
    "proposal_for",
    "review_list",
    "split_names",
]
