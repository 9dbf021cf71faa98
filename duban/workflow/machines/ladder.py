"""The supervision-ladder machine 提醒 → 催办 → 督办(蓝/橙/红) → 约谈 → 问责, and skip-ahead escalation."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from statemachine import StateMachine
from statemachine.states import States

from duban.tasks.enums import NoticeColour, SupervisionLevel
from duban.workflow.errors import ActionForbidden, TransitionNotAllowed, WorkflowError
from duban.workflow.machines._rules import (
    ACTOR_KIND_LABELS,
    OFFICE,
    SCHEDULER_OR_OFFICE,
    ActionRule,
    LadderActorKind,
    check_move,
    derive_tables,
)


class Rung(StrEnum):
    """One rung of the supervision ladder: a SupervisionLevel, split by notice colour while supervised."""

    none = "none"
    reminded = "reminded"
    urged = "urged"
    supervised_blue = "supervised_blue"
    supervised_orange = "supervised_orange"
    supervised_red = "supervised_red"
    interviewed = "interviewed"
    accountability = "accountability"

    @property
    def level(self) -> SupervisionLevel:
        """The stored supervision level of this rung."""
        return _RUNG_POSITIONS[self][0]

    @property
    def colour(self) -> NoticeColour | None:
        """The 督办单 colour of this rung (None off the supervised level)."""
        return _RUNG_POSITIONS[self][1]

    @property
    def rank(self) -> int:
        """Height on the ladder; higher is more severe."""
        return _RUNG_RANKS[self]

    @property
    def label(self) -> str:
        """Chinese name, with the notice colour while supervised."""
        colour = self.colour
        base = self.level.label
        return f"{base}（{COLOUR_LABELS[colour]}）" if colour is not None else base


COLOUR_LABELS: Final[Mapping[NoticeColour, str]] = {
    NoticeColour.blue: "蓝",
    NoticeColour.orange: "橙",
    NoticeColour.red: "红",
}

_RUNG_POSITIONS: Final[Mapping[Rung, tuple[SupervisionLevel, NoticeColour | None]]] = {
    Rung.none: (SupervisionLevel.none, None),
    Rung.reminded: (SupervisionLevel.reminded, None),
    Rung.urged: (SupervisionLevel.urged, None),
    Rung.supervised_blue: (SupervisionLevel.supervised, NoticeColour.blue),
    Rung.supervised_orange: (SupervisionLevel.supervised, NoticeColour.orange),
    Rung.supervised_red: (SupervisionLevel.supervised, NoticeColour.red),
    Rung.interviewed: (SupervisionLevel.interviewed, None),
    Rung.accountability: (SupervisionLevel.accountability, None),
}
_RUNG_RANKS: Final[Mapping[Rung, int]] = {rung: i for i, rung in enumerate(Rung)}
# Off the supervised level the row keeps the last notice's colour, which does not change the rung.
_RUNG_AT: Final[Mapping[tuple[str, str | None], Rung]] = {
    (rung.level, colour): rung
    for rung in Rung
    for colour in ([rung.colour] if rung.colour else [None, *NoticeColour])
}


class SupervisionMachine(StateMachine, strict_states=True):
    """The supervision ladder 提醒 → 催办 → 督办(蓝/橙/红) → 约谈 → 问责; every move goes up."""

    rungs = States.from_enum(Rung, initial=Rung.none, final={Rung.accountability}, use_enum_instance=True)

    remind = rungs.none.to(rungs.reminded)
    urge = rungs.urged.from_(rungs.none, rungs.reminded)
    supervise = (
        rungs.supervised_blue.from_(rungs.none, rungs.reminded, rungs.urged)
        | rungs.supervised_blue.to(rungs.supervised_orange)
        | rungs.supervised_orange.to(rungs.supervised_red)
    )
    interview = rungs.interviewed.from_(rungs.supervised_blue, rungs.supervised_orange, rungs.supervised_red)
    hold_accountable = rungs.interviewed.to(rungs.accountability)


LADDER_ACTION_RULES: Final[Mapping[str, ActionRule]] = {
    "remind": ActionRule("提醒", SCHEDULER_OR_OFFICE),
    "urge": ActionRule("催办", SCHEDULER_OR_OFFICE),
    "supervise": ActionRule("督办（发督办单）", SCHEDULER_OR_OFFICE),
    # The scheduler only proposes 约谈 and 问责; the office confirms by taking the action.
    "interview": ActionRule("约谈", OFFICE),
    "hold_accountable": ActionRule("问责", OFFICE),
}

LADDER_ACTOR_KINDS: Final[tuple[LadderActorKind, ...]] = (
    "scheduler",
    "office",
    "admin",
    "lead",
    "cooperating",
    "other",
)


@dataclass(frozen=True, slots=True)
class LadderStep:
    """One move up the ladder: the action and where it lands."""

    action: str
    rung: Rung

    @property
    def level(self) -> SupervisionLevel:
        """The level after this step."""
        return self.rung.level

    @property
    def colour(self) -> NoticeColour | None:
        """The colour of the 督办单 this step issues (None unless it lands on the supervised level)."""
        return self.rung.colour


def rung_of(level: SupervisionLevel | str, colour: NoticeColour | str | None) -> Rung:
    """The ladder rung of a stored (level, colour) pair; the colour matters only while supervised."""
    rung = _RUNG_AT.get((level, colour))
    if rung is None:
        raise WorkflowError(
            f"无效的督办层级：{level} / {colour}",
            f"invalid supervision position: level {level!r}, colour {colour!r}",
            code="invalid_ladder_position",
        )
    return rung


LADDER_TABLES: Final = derive_tables(
    SupervisionMachine, LADDER_ACTION_RULES, LADDER_ACTOR_KINDS, lambda rung: Rung(rung).label
)
LADDER_ACTIONS: Final[tuple[str, ...]] = LADDER_TABLES.actions
if any(Rung(to).rank <= Rung(start).rank for (start, _a), to in LADDER_TABLES.moves.items()):
    raise RuntimeError("a supervision move does not go up the ladder")


def _shortest_paths() -> dict[tuple[Rung, Rung], tuple[LadderStep, ...]]:
    """Fewest machine moves between every pair of rungs (ties: the earlier-declared action)."""
    paths: dict[tuple[Rung, Rung], tuple[LadderStep, ...]] = {}
    for start in Rung:
        seen: dict[Rung, tuple[LadderStep, ...]] = {start: ()}
        queue = deque([start])
        while queue:
            rung = queue.popleft()
            for action in LADDER_ACTIONS:
                target = LADDER_TABLES.moves.get((rung, action))
                if target is not None and Rung(target) not in seen:
                    seen[Rung(target)] = (*seen[rung], LadderStep(action, Rung(target)))
                    queue.append(Rung(target))
        paths.update({(start, end): steps for end, steps in seen.items()})
    return paths


_LADDER_PATHS: Final = _shortest_paths()


def allowed_ladder_actions(
    level: SupervisionLevel, colour: NoticeColour | None, actor_kind: str
) -> list[str]:
    """The ladder actions this kind of actor may take from this (level, colour)."""
    return list(LADDER_TABLES.allowed.get((rung_of(level, colour), actor_kind), ()))


def check_ladder_action(
    level: SupervisionLevel,
    colour: NoticeColour | None,
    action: str,
    actor_kind: str,
    *,
    notice_colour: NoticeColour | None = None,
) -> LadderStep:
    """The one step a ladder action makes; notice_colour, if given, must be the colour it lands on."""
    rung = rung_of(level, colour)
    step = LadderStep(action, Rung(check_move(LADDER_TABLES, rung, action, actor_kind, None)))
    if notice_colour is not None and step.colour is not notice_colour:
        raise TransitionNotAllowed(
            f"当前为“{rung.label}”，下一份督办单为“{step.rung.label}”，不能直接发“{COLOUR_LABELS[notice_colour]}”单",
            f"from {rung} the next notice is {step.colour}, not {notice_colour}; escalate_to skips ahead",
            action=action,
            state=str(rung),
            allowed_actions=allowed_ladder_actions(level, colour, actor_kind),
        )
    return step


def escalate_to(
    current_level: SupervisionLevel,
    current_colour: NoticeColour | None,
    target_level: SupervisionLevel,
    target_colour: NoticeColour | None,
    *,
    actor_kind: str = "scheduler",
) -> list[LadderStep]:
    """The machine steps from the current rung up to the target ([] if already there); never down."""
    start, end = rung_of(current_level, current_colour), rung_of(target_level, target_colour)
    if end.rank < start.rank:
        raise WorkflowError(
            f"督办层级不能降低：“{start.label}”→“{end.label}”",
            f"the supervision ladder never goes down: {start} → {end}",
            code="ladder_downgrade",
            current=str(start),
            target=str(end),
        )
    steps = _LADDER_PATHS[(start, end)]
    for step in steps:
        rule = LADDER_ACTION_RULES[step.action]
        if actor_kind not in rule.by:
            who = ACTOR_KIND_LABELS.get(actor_kind, actor_kind)
            raise ActionForbidden(
                f"{who}无权执行“{rule.label_zh}”，须由委员会办公室确认",
                f"{actor_kind} may not {step.action}; the office must confirm it",
                action=step.action,
                actor_kind=actor_kind,
            )
    return list(steps)
