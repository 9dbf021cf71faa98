"""Errors of the tasks domain (plans, measures, departments, the parser)."""

from __future__ import annotations

from duban.core.errors import DubanError


class TasksError(DubanError):
    """Base of every error raised by duban.tasks."""

    code = "tasks_error"


class NotFoundError(TasksError):
    """A plan, measure, task or department that does not exist."""

    code = "not_found"


class PlanTooLarge(TasksError):
    """A document with more measures than DUBAN_MAX_PLAN_MEASURES (422)."""

    code = "too_many_measures"


class RegistryError(TasksError):
    """The department or region registry cannot answer."""

    code = "registry_error"


# ---- responsibility rules, office review, 分工方案, regions (issue 4) ------------------------------------


class RuleSetInvalid(TasksError):
    """Responsibility rules that cannot be used (bad codes, missing remit …); `errors` lists each problem."""

    code = "rules_invalid"


class EditNotAllowed(TasksError):
    """A review edit on a task that is no longer a draft (409)."""

    code = "not_draft"


class StaleTaskVersion(TasksError):
    """A review edit naming an older version of the task (412)."""

    code = "stale_version"


class UnknownDepartment(TasksError):
    """A department name or code the registry does not know; carries the closest matches."""

    code = "unknown_department"


class BulkEditInvalid(TasksError):
    """A bulk edit with at least one bad item; nothing was applied, `errors` lists every item at fault."""

    code = "bulk_edit_invalid"


class DivisionImportInvalid(TasksError):
    """An edited 分工方案 that cannot be applied; nothing was applied, `errors` names row and column."""

    code = "division_invalid"


class SplitNotAllowed(TasksError):
    """A regions split on a task that is not a draft or is itself a regional child (409)."""

    code = "split_not_allowed"


# ---- written units (issue 13) ---------------------------------------------------------------------------


class DepartmentExists(TasksError):
    """A new department whose code or name the registry already holds (409)."""

    code = "department_exists"
