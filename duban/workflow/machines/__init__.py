"""The task machine and the supervision-ladder machine, with the role guards the action service applies.

The python-statemachine classes are the single source of truth for the moves; the per-action role and
reason rules are data beside them. Look-up tables for the per-request checks are derived once, at import.
"""

from __future__ import annotations

from duban.workflow.machines._rules import (
    ACTOR_KIND_LABELS,
    ActionRule,
    ActorKind,
    LadderActorKind,
    MachineTables,
)
from duban.workflow.machines.ladder import (
    COLOUR_LABELS,
    LADDER_ACTION_RULES,
    LADDER_ACTIONS,
    LADDER_ACTOR_KINDS,
    LADDER_TABLES,
    LadderStep,
    Rung,
    SupervisionMachine,
    allowed_ladder_actions,
    check_ladder_action,
    escalate_to,
    rung_of,
)
from duban.workflow.machines.task import (
    TASK_ACTION_RULES,
    TASK_ACTIONS,
    TASK_ACTOR_KINDS,
    TASK_TABLES,
    Actor,
    TaskMachine,
    TaskRelation,
    actor_kind,
    allowed_actions,
    check_action,
)


def event_id(action: str) -> str:
    """The machine event id of a public task or ladder action ("return" → "return_")."""
    return TASK_TABLES.event_ids.get(action) or LADDER_TABLES.event_ids[action]


__all__ = [
    "ACTOR_KIND_LABELS",
    "COLOUR_LABELS",
    "LADDER_ACTIONS",
    "LADDER_ACTION_RULES",
    "LADDER_ACTOR_KINDS",
    "LADDER_TABLES",
    "TASK_ACTIONS",
    "TASK_ACTION_RULES",
    "TASK_ACTOR_KINDS",
    "TASK_TABLES",
    "ActionRule",
    "Actor",
    "ActorKind",
    "LadderActorKind",
    "LadderStep",
    "MachineTables",
    "Rung",
    "SupervisionMachine",
    "TaskMachine",
    "TaskRelation",
    "actor_kind",
    "allowed_actions",
    "allowed_ladder_actions",
    "check_action",
    "check_ladder_action",
    "escalate_to",
    "event_id",
    "rung_of",
]
