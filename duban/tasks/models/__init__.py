"""Tables and API shapes of the tasks domain: departments, people, plans, measures, tasks, events."""

from duban.tasks.models.departments import (
    REQUEST_USER_COLUMNS,
    ApiToken,
    Department,
    DepartmentBase,
    DepartmentPublic,
    User,
    UserPublic,
    user_from_row,
)
from duban.tasks.models.plans import Measure, MeasureKind, Plan, PlanRevision, PlanStatus, Target
from duban.tasks.models.rules import ResponsibilityRuleVersion
from duban.tasks.models.tasks import Milestone, Task, TaskAssignment, TaskEvent
from duban.tasks.models.units import TaskUnit

__all__ = [
    "REQUEST_USER_COLUMNS",
    "ApiToken",
    "Department",
    "DepartmentBase",
    "DepartmentPublic",
    "Measure",
    "MeasureKind",
    "Milestone",
    "Plan",
    "PlanRevision",
    "PlanStatus",
    "ResponsibilityRuleVersion",
    "Target",
    "Task",
    "TaskAssignment",
    "TaskEvent",
    "TaskUnit",
    "User",
    "UserPublic",
    "user_from_row",
]
