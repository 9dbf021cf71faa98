"""Enumerations shared by the models, the state machines and the API; values are the stored strings."""

from __future__ import annotations

from enum import StrEnum


class TaskState(StrEnum):
    """Where a task stands in its life (DESIGN.md state table)."""

    draft = "draft"
    assigned = "assigned"
    in_progress = "in_progress"
    submitted = "submitted"
    returned = "returned"
    completed = "completed"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        """Chinese name of the state."""
        return _TASK_STATE_LABELS[self]


_TASK_STATE_LABELS = {
    TaskState.draft: "拟办",
    TaskState.assigned: "已交办",
    TaskState.in_progress: "办理中",
    TaskState.submitted: "已报送",
    TaskState.returned: "已退回",
    TaskState.completed: "已办结",
    TaskState.cancelled: "已撤销",
}


class SupervisionLevel(StrEnum):
    """The supervision ladder beside the state: 提醒 → 催办 → 督办 → 约谈 → 问责."""

    none = "none"
    reminded = "reminded"
    urged = "urged"
    supervised = "supervised"
    interviewed = "interviewed"
    accountability = "accountability"

    @property
    def label(self) -> str:
        """Chinese name of the level."""
        return _LEVEL_LABELS[self]


_LEVEL_LABELS = {
    SupervisionLevel.none: "无",
    SupervisionLevel.reminded: "提醒",
    SupervisionLevel.urged: "催办",
    SupervisionLevel.supervised: "督办",
    SupervisionLevel.interviewed: "约谈",
    SupervisionLevel.accountability: "问责",
}


class NoticeColour(StrEnum):
    """Colour of a 督办单."""

    blue = "blue"
    orange = "orange"
    red = "red"


class Role(StrEnum):
    """What a user may do."""

    office = "office"
    department = "department"
    admin = "admin"


class DepartmentKind(StrEnum):
    """Kind of body in the registry."""

    party = "党委部门"
    government = "政府部门"
    league_city = "盟市"
    other = "其他"


class AssignmentRole(StrEnum):
    """A department's part in a task."""

    lead = "lead"
    cooperating = "cooperating"
    guidance = "guidance"


class LeadSource(StrEnum):
    """Where a task's department came from: the document's words, a document-wide convention, the rules, the
    office."""

    explicit = "explicit"
    body = "body"
    convention = "convention"
    rule = "rule"
    office = "office"


class UnitRole(StrEnum):
    """The part a document gives a unit it names for a measure (verbatim, before any resolution)."""

    lead = "lead"
    cooperating = "cooperating"
    guidance = "guidance"
    implementer = "implementer"


class UnitSource(StrEnum):
    """Whether the measure's own text names the unit or a document-wide rule gives it."""

    written = "written"
    convention = "convention"


class UnitResolution(StrEnum):
    """How a written unit came to stand for a registry department, or that it does not (yet)."""

    registry = "registry"  # the registry resolved the name at import
    office = "office"  # the office mapped it on the review page or by API
    unresolved = "unresolved"
