"""Errors of the workflow domain (state machines, policy, calendar, the action service)."""

from __future__ import annotations

from duban.core.errors import DubanError


class WorkflowError(DubanError):
    """Base of every error raised by duban.workflow."""

    code = "workflow_error"


class CalendarError(WorkflowError):
    """A holiday schedule that cannot be used."""

    code = "calendar_error"


class TransitionNotAllowed(WorkflowError):
    """The actor may take this action, but not from the current state (409); carries allowed_actions."""

    code = "transition_not_allowed"


class ActionForbidden(WorkflowError):
    """The actor may never take this action on this task (403)."""

    code = "forbidden"


class RecordNotAllowed(WorkflowError):
    """A progress report, contribution or extension the task's state or its pending requests forbid (409)."""

    code = "record_not_allowed"


class RecordInvalid(WorkflowError):
    """A record whose content cannot be accepted: unknown indicator, bad attachment, late extension (422)."""

    code = "record_invalid"
