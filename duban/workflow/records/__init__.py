"""Records on a task that are not states: progress reports, contributions, extension requests; scoring inputs.

Every function writes its audit event in the caller's transaction and queues the notification job for
after commit; the request or the job commits.
"""

from __future__ import annotations

from duban.workflow.records._common import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    Attachment,
    IndicatorValue,
)
from duban.workflow.records.extensions import decide_extension, list_extensions, request_extension
from duban.workflow.records.reports import add_contribution, add_progress, list_reports
from duban.workflow.records.stats import DepartmentStats, days_between, department_stats, local_date

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "Attachment",
    "DepartmentStats",
    "IndicatorValue",
    "add_contribution",
    "add_progress",
    "days_between",
    "decide_extension",
    "department_stats",
    "list_extensions",
    "list_reports",
    "local_date",
    "request_extension",
]
