"""Imports every table module so SQLModel.metadata is complete (for Alembic and tests)."""

from duban.api import models as api_models
from duban.notifications import heartbeat as heartbeat_models
from duban.notifications import models as notifications_models
from duban.tasks import models as tasks_models
from duban.workflow import models as workflow_models
from duban.workflow.evidence import models as evidence_models
from duban.workflow.paperwork import models as paperwork_models

__all__ = [
    "api_models",
    "evidence_models",
    "heartbeat_models",
    "notifications_models",
    "paperwork_models",
    "tasks_models",
    "workflow_models",
]
