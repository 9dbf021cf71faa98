"""The task machine (DESIGN.md "The task state machine") and its role guards."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

from statemachine import Event, StateMachine
from statemachine.states import States

from duban.tasks.enums import Role, TaskState
from duban.workflow.machines._rules import LEAD, OFFICE, ActionRule, ActorKind, check_move, derive_tables


class TaskMachine(StateMachine, strict_states=True):
    """The life of a task: states are TaskState (the column's enum), events are the actions."""

    states = States.from_enum(
        TaskState,
        initial=TaskState.draft,
        final={TaskState.completed, TaskState.cancelled},
        use_enum_instance=True,
    )

    issue = states.draft.to(states.assigned)
    accept = states.assigned.to(states.in_progress)
    dispute = states.assigned.to(states.draft)
    submit = states.submitted.from_(states.in_progress, states.returned)
    approve = states.submitted.to(states.completed)
    # `return` is a keyword: the event id is `return_`, its name (the public action) is "return".
    return_ = Event(states.submitted.to(states.returned), name="return")
    reassign = states.assigned.from_(states.draft, states.assigned, states.in_progress, states.returned)
    cancel = states.cancelled.from_.any()


TASK_ACTION_RULES: Final[Mapping[str, ActionRule]] = {
    "issue": ActionRule("交办", OFFICE),
    "accept": ActionRule("签收", LEAD),
    "dispute": ActionRule("异议（退回交办）", LEAD, reason_required=True),
    "submit": ActionRule("办结报送", LEAD),
    "approve": ActionRule("审核通过（销号）", OFFICE),
    "return": ActionRule("退回", OFFICE, reason_required=True),
    "reassign": ActionRule("改派", OFFICE),
    "cancel": ActionRule("撤销", OFFICE, reason_required=True),
}

TASK_ACTOR_KINDS: Final[tuple[ActorKind, ...]] = ("office", "admin", "lead", "cooperating", "other")

TASK_TABLES: Final = derive_tables(
    TaskMachine, TASK_ACTION_RULES, TASK_ACTOR_KINDS, lambda state: TaskState(state).label
)
TASK_ACTIONS: Final[tuple[str, ...]] = TASK_TABLES.actions


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a user's role and department."""

    role: Role
    department_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class TaskRelation:
    """How the acting department stands to one task."""

    is_lead: bool = False
    is_cooperating: bool = False

    @classmethod
    def of(
        cls, department_id: int | None, lead_ids: Collection[int], cooperating_ids: Collection[int]
    ) -> TaskRelation:
        """The relation of a department to a task with these lead and cooperating departments."""
        if department_id is None:
            return cls()
        return cls(is_lead=department_id in lead_ids, is_cooperating=department_id in cooperating_ids)


def actor_kind(actor: Actor, relation: TaskRelation) -> ActorKind:
    """Classify an actor for one task: office, admin, or the department's part in it (lead wins)."""
    if actor.role is Role.office:
        return "office"
    if actor.role is Role.admin:
        return "admin"
    if actor.department_id is None:
        return "other"
    if relation.is_lead:
        return "lead"
    if relation.is_cooperating:
        return "cooperating"
    return "other"


def allowed_actions(state: TaskState, actor_kind: str) -> list[str]:
    """The task actions this kind of actor may take from this state, in declaration order."""
    return list(TASK_TABLES.allowed.get((state, actor_kind), ()))


def check_action(state: TaskState, action: str, actor_kind: str, reason: str | None = None) -> TaskState:
    """The state after the action; else unknown_action, forbidden, transition_not_allowed, reason_required."""
    target = check_move(TASK_TABLES, state, action, actor_kind, reason)
    return target if isinstance(target, TaskState) else TaskState(target)
