"""Shared machinery of both machines: actor kinds, per-action rules, tables derived from a machine class."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Final, Literal, cast

from statemachine import Event, StateMachine

from duban.workflow.errors import ActionForbidden, TransitionNotAllowed, WorkflowError

ActorKind = Literal["office", "lead", "cooperating", "other", "admin"]
LadderActorKind = Literal["scheduler", "office", "lead", "cooperating", "other", "admin"]

ACTOR_KIND_LABELS: Final[Mapping[str, str]] = {
    "office": "委员会办公室",
    "admin": "系统管理员",
    "lead": "牵头单位",
    "cooperating": "配合单位",
    "other": "无关单位",
    "scheduler": "调度程序",
}

OFFICE: Final = frozenset({"office", "admin"})
LEAD: Final = frozenset({"lead"})
SCHEDULER_OR_OFFICE: Final = frozenset({"scheduler", "office", "admin"})


@dataclass(frozen=True, slots=True)
class ActionRule:
    """Who may take an action (actor kinds), its Chinese name, and whether a reason is required."""

    label_zh: str
    by: frozenset[str]
    reason_required: bool = False


@dataclass(frozen=True, slots=True)
class MachineTables:
    """What a machine class allows, flattened once into look-up tables."""

    actions: tuple[str, ...]
    event_ids: Mapping[str, str]
    moves: Mapping[tuple[str, str], str]
    allowed: Mapping[tuple[str, str], tuple[str, ...]]
    rules: Mapping[str, ActionRule]
    label: Callable[[str], str]


def derive_tables(
    machine: type[StateMachine],
    rules: Mapping[str, ActionRule],
    kinds: Collection[str],
    label: Callable[[str], str] = str,
) -> MachineTables:
    """Walk a machine class's states and transitions into tables; the rules must name exactly its events."""
    events = cast("list[Event]", machine.events)
    name_of = {str(event.id): str(event.name) for event in events}
    actions = tuple(name_of.values())
    if set(actions) != set(rules):
        raise RuntimeError(f"{machine.__name__}: rules {sorted(rules)} but events {sorted(actions)}")
    moves: dict[tuple[str, str], str] = {}
    for state in machine.states:
        for transition in state.transitions:
            for event in transition.events:
                key = (state.value, name_of[str(event)])
                if moves.setdefault(key, transition.target.value) != transition.target.value:
                    raise RuntimeError(f"{machine.__name__}: {key} has two targets")
    allowed = {
        (state.value, kind): tuple(a for a in actions if (state.value, a) in moves and kind in rules[a].by)
        for state in machine.states
        for kind in kinds
    }
    event_ids = {name: eid for eid, name in name_of.items()}
    return MachineTables(actions, event_ids, moves, allowed, rules, label)


def check_move(tables: MachineTables, state: str, action: str, kind: str, reason: str | None) -> str:
    """The target of action from state for this actor kind, or the WorkflowError that explains why not."""
    rule = tables.rules.get(action)
    if rule is None:
        raise WorkflowError(
            f"未知操作“{action}”",
            f"unknown action {action!r}",
            code="unknown_action",
            known_actions=list(tables.actions),
        )
    if kind not in rule.by:
        who = ACTOR_KIND_LABELS.get(kind, kind)
        raise ActionForbidden(
            f"{who}无权执行“{rule.label_zh}”操作", f"{kind} may not {action}", action=action, actor_kind=kind
        )
    target = tables.moves.get((state, action))
    if target is None:
        raise TransitionNotAllowed(
            f"当前为“{_label(tables, state)}”，不能执行“{rule.label_zh}”操作",
            f"cannot {action} from {state}",
            action=action,
            state=str(state),
            allowed_actions=list(tables.allowed.get((state, kind), ())),
        )
    if rule.reason_required and (reason is None or not reason.strip()):
        raise WorkflowError(
            f"“{rule.label_zh}”须说明理由",
            f"{action} requires a reason",
            code="reason_required",
            action=action,
        )
    return target


def _label(tables: MachineTables, state: str) -> str:
    try:
        return tables.label(state)
    except ValueError:
        return str(state)
