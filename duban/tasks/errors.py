"""Errors of the tasks domain (plans, measures, departments, the parser)."""

from __future__ import annotations

from duban.core.errors import DubanError


class TasksError(DubanError):
    """Base of every error raised by duban.tasks."""

    code = "tasks_error"


class NotFoundError(TasksError):
    """A plan, measure, task or department that does not exist."""

    code = "not_found"


class RegistryError(TasksError):
    """The department or region registry cannot answer."""

    code = "registry_error"
