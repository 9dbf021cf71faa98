"""The task and supervision-ladder machines against DESIGN.md, their role guards, and the generated doc."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statemachine import State, StateMachine
from statemachine import exceptions as sm_exceptions

from duban.tasks.enums import NoticeColour, Role, SupervisionLevel, TaskState
from duban.tasks.models import Task
from duban.workflow import diagrams
from duban.workflow.errors import ActionForbidden, TransitionNotAllowed, WorkflowError
from duban.workflow.machines import (
    LADDER_ACTIONS,
    TASK_ACTIONS,
    ActionRule,
    Actor,
    Rung,
    SupervisionMachine,
    TaskMachine,
    TaskRelation,
    actor_kind,
    allowed_actions,
    allowed_ladder_actions,
    check_action,
    check_ladder_action,
    escalate_to,
    event_id,
    rung_of,
)
from duban.workflow.machines._rules import derive_tables

# DESIGN.md "The task state machine", typed in by hand: action → (who, from-states, to, reason required).
DESIGN_TABLE: dict[str, tuple[str, set[str], str, bool]] = {
    "issue": ("office", {"draft"}, "assigned", False),
    "accept": ("lead", {"assigned"}, "in_progress", False),
    "dispute": ("lead", {"assigned"}, "draft", True),
    "submit": ("lead", {"in_progress", "returned"}, "submitted", False),
    "approve": ("office", {"submitted"}, "completed", False),
    "return": ("office", {"submitted"}, "returned", True),
    "reassign": ("office", {"draft", "assigned", "in_progress", "returned"}, "assigned", False),
    "cancel": ("office", {"draft", "assigned", "in_progress", "submitted", "returned"}, "cancelled", True),
}
# admin may do what office may; cooperating units and unrelated departments take no task action.
MAY_ACT_AS = {"office": "office", "admin": "office", "lead": "lead", "cooperating": None, "other": None}
KINDS = list(MAY_ACT_AS)
STATES = [s.value for s in TaskState]
FINAL = {"completed", "cancelled"}

# What GET /tasks/{id} should list, typed in by hand.
ALLOWED: dict[tuple[str, str], list[str]] = {
    ("draft", "office"): ["issue", "reassign", "cancel"],
    ("assigned", "office"): ["reassign", "cancel"],
    ("in_progress", "office"): ["reassign", "cancel"],
    ("submitted", "office"): ["approve", "return", "cancel"],
    ("returned", "office"): ["reassign", "cancel"],
    ("draft", "lead"): [],
    ("assigned", "lead"): ["accept", "dispute"],
    ("in_progress", "lead"): ["submit"],
    ("submitted", "lead"): [],
    ("returned", "lead"): ["submit"],
}


def expected_allowed(state: str, kind: str) -> list[str]:
    as_kind = MAY_ACT_AS[kind]
    return [] if as_kind is None or state in FINAL else ALLOWED[(state, as_kind)]


# ------------------------------------------------------------------------------------------ task machine


def test_machine_states_are_the_column_enum() -> None:
    assert [s.value for s in TaskMachine.states] == list(TaskState)
    assert all(isinstance(s.value, TaskState) for s in TaskMachine.states)
    assert {s.value for s in TaskMachine.states if s.final} == FINAL
    assert [s.value for s in TaskMachine.states if s.initial] == ["draft"]
    assert list(TASK_ACTIONS) == list(DESIGN_TABLE)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("action", list(DESIGN_TABLE))
@pytest.mark.parametrize("state", STATES)
def test_every_state_action_actor(state: str, action: str, kind: str) -> None:
    who, sources, target, _reason = DESIGN_TABLE[action]
    task_state = TaskState(state)
    if MAY_ACT_AS[kind] != who:
        with pytest.raises(ActionForbidden) as forbidden:
            check_action(task_state, action, kind, "理由")
        assert forbidden.value.code == "forbidden"
    elif state not in sources:
        with pytest.raises(TransitionNotAllowed) as conflict:
            check_action(task_state, action, kind, "理由")
        assert conflict.value.code == "transition_not_allowed"
        assert conflict.value.extra["allowed_actions"] == expected_allowed(state, kind)
    else:
        assert check_action(task_state, action, kind, "理由") is TaskState(target)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("state", STATES)
def test_allowed_actions_matrix(state: str, kind: str) -> None:
    assert allowed_actions(TaskState(state), kind) == expected_allowed(state, kind)


def test_the_machine_itself_agrees_with_the_design_table() -> None:
    for state in STATES:
        for action, (_who, sources, target, _reason) in DESIGN_TABLE.items():
            machine = TaskMachine(start_value=TaskState(state))
            if state in sources:
                machine.send(event_id(action))
                assert machine.current_state.value is TaskState(target)
            else:
                with pytest.raises(sm_exceptions.TransitionNotAllowed):
                    machine.send(event_id(action))
                assert machine.current_state.value is TaskState(state)


def test_machine_binds_to_the_task_row() -> None:
    task = Task(plan_id=1, title="推进燃煤锅炉整治")
    machine = TaskMachine(model=task, state_field="state")
    machine.send("issue")
    machine.send("accept")
    assert task.state is TaskState.in_progress


@pytest.mark.parametrize("action", [a for a, row in DESIGN_TABLE.items() if row[3]])
@pytest.mark.parametrize("reason", [None, "", "   \n\t"])
def test_reason_required(action: str, reason: str | None) -> None:
    who, sources, target, _ = DESIGN_TABLE[action]
    for state in sources:
        with pytest.raises(WorkflowError) as missing:
            check_action(TaskState(state), action, who, reason)
        assert missing.value.code == "reason_required"
        assert check_action(TaskState(state), action, who, "牵头单位有误") is TaskState(target)


def test_reason_not_required_elsewhere_and_state_checked_before_reason() -> None:
    for action, (who, sources, target, needs_reason) in DESIGN_TABLE.items():
        if not needs_reason:
            assert all(check_action(TaskState(s), action, who, None) is TaskState(target) for s in sources)
    with pytest.raises(TransitionNotAllowed):
        check_action(TaskState.draft, "return", "office", None)


@pytest.mark.parametrize("state", sorted(FINAL))
def test_final_states_allow_nothing(state: str) -> None:
    for kind in KINDS:
        assert allowed_actions(TaskState(state), kind) == []
        for action in DESIGN_TABLE:
            with pytest.raises((TransitionNotAllowed, ActionForbidden)):
                check_action(TaskState(state), action, kind, "理由")
    machine = TaskMachine(start_value=TaskState(state))
    assert machine.current_state.final


@pytest.mark.parametrize("kind", ["office", "admin"])
@pytest.mark.parametrize("state", [s for s in STATES if s not in FINAL])
def test_cancel_from_every_non_final_state(state: str, kind: str) -> None:
    assert check_action(TaskState(state), "cancel", kind, "规划调整") is TaskState.cancelled


def test_unknown_action_lists_the_known_ones() -> None:
    with pytest.raises(WorkflowError) as unknown:
        check_action(TaskState.draft, "approve_all", "office")
    assert unknown.value.code == "unknown_action"
    assert unknown.value.extra["known_actions"] == list(DESIGN_TABLE)
    with pytest.raises(WorkflowError, match="unknown action 'return_'"):
        check_action(TaskState.submitted, "return_", "office", "x")


def test_errors_carry_both_languages() -> None:
    with pytest.raises(TransitionNotAllowed) as conflict:
        check_action(TaskState.completed, "submit", "lead")
    assert "已办结" in conflict.value.message_zh and "办结报送" in conflict.value.message_zh
    assert conflict.value.message_en == "cannot submit from completed"
    with pytest.raises(ActionForbidden) as forbidden:
        check_action(TaskState.assigned, "accept", "cooperating")
    assert forbidden.value.message_zh == "配合单位无权执行“签收”操作"


def test_actor_kind() -> None:
    relation = TaskRelation.of(7, lead_ids=[7], cooperating_ids=[8, 9])
    assert relation == TaskRelation(is_lead=True, is_cooperating=False)
    assert actor_kind(Actor(Role.department, 7), relation) == "lead"
    assert actor_kind(Actor(Role.department, 8), TaskRelation.of(8, [7], [8, 9])) == "cooperating"
    assert actor_kind(Actor(Role.department, 3), TaskRelation.of(3, [7], [8, 9])) == "other"
    assert actor_kind(Actor(Role.department, None), TaskRelation(is_lead=True)) == "other"
    assert actor_kind(Actor(Role.office), TaskRelation()) == "office"
    assert actor_kind(Actor(Role.admin, 7), relation) == "admin"
    assert TaskRelation.of(None, [7], [8]) == TaskRelation()
    both = TaskRelation.of(7, [7], [7])
    assert actor_kind(Actor(Role.department, 7), both) == "lead"


def test_rules_must_name_exactly_the_events() -> None:
    class Tiny(StateMachine):
        draft = State(initial=True)
        done = State(final=True)
        finish = draft.to(done)

    with pytest.raises(RuntimeError, match="rules"):
        derive_tables(
            Tiny, {"finish": ActionRule("x", frozenset()), "extra": ActionRule("y", frozenset())}, []
        )
    tables = derive_tables(Tiny, {"finish": ActionRule("办结", frozenset({"office"}))}, ["office", "lead"])
    assert tables.allowed[("draft", "office")] == ("finish",)
    assert tables.allowed[("draft", "lead")] == ()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([*DESIGN_TABLE, "bogus"]), st.sampled_from(KINDS)), max_size=40))
def test_random_walks_stay_in_the_enum_and_never_leave_a_final_state(walk: list[tuple[str, str]]) -> None:
    state = TaskState.draft
    machine = TaskMachine()
    for action, kind in walk:
        try:
            new_state = check_action(state, action, kind, "理由")
        except WorkflowError:
            continue
        assert state not in FINAL
        assert action in allowed_actions(state, kind)
        machine.send(event_id(action))
        state = new_state
        assert isinstance(state, TaskState)
        assert machine.current_state.value is state
    if state in FINAL:
        assert all(allowed_actions(state, kind) == [] for kind in KINDS)


# ------------------------------------------------------------------------------------------ ladder

B, OR, R = NoticeColour.blue, NoticeColour.orange, NoticeColour.red
L = SupervisionLevel
LADDER = [  # the rungs bottom to top, as (level, colour)
    (L.none, None),
    (L.reminded, None),
    (L.urged, None),
    (L.supervised, B),
    (L.supervised, OR),
    (L.supervised, R),
    (L.interviewed, None),
    (L.accountability, None),
]
# Every legal single move, typed in by hand: (from rung index, action) → to rung index.
LADDER_MOVES = {
    (0, "remind"): 1,
    (0, "urge"): 2,
    (1, "urge"): 2,
    (0, "supervise"): 3,
    (1, "supervise"): 3,
    (2, "supervise"): 3,
    (3, "supervise"): 4,
    (4, "supervise"): 5,
    (3, "interview"): 6,
    (4, "interview"): 6,
    (5, "interview"): 6,
    (6, "hold_accountable"): 7,
}
OFFICE_ONLY = {"interview", "hold_accountable"}


def ladder_kind_may(kind: str, action: str) -> bool:
    return kind in ("office", "admin") or (kind == "scheduler" and action not in OFFICE_ONLY)


def test_rungs_map_to_level_and_colour() -> None:
    assert [(r.level, r.colour) for r in Rung] == LADDER
    assert [r.rank for r in Rung] == list(range(8))
    assert [rung_of(level, colour) for level, colour in LADDER] == list(Rung)
    assert rung_of(L.interviewed, R) is Rung.interviewed  # the last notice's colour stays on the row
    assert rung_of("supervised", "orange") is Rung.supervised_orange
    assert Rung.supervised_red.label == "督办（红）"
    for bad in [(L.supervised, None), ("nowhere", None), (L.supervised, "purple")]:
        with pytest.raises(WorkflowError) as invalid:
            rung_of(*bad)
        assert invalid.value.code == "invalid_ladder_position"


def test_ladder_machine_states_and_final() -> None:
    assert [s.value for s in SupervisionMachine.states] == list(Rung)
    assert [s.value for s in SupervisionMachine.states if s.final] == [Rung.accountability]
    assert list(LADDER_ACTIONS) == ["remind", "urge", "supervise", "interview", "hold_accountable"]


@pytest.mark.parametrize("kind", ["scheduler", "office", "admin", "lead", "cooperating", "other"])
@pytest.mark.parametrize("action", ["remind", "urge", "supervise", "interview", "hold_accountable"])
@pytest.mark.parametrize("index", range(8))
def test_every_ladder_move(index: int, action: str, kind: str) -> None:
    level, colour = LADDER[index]
    may = ladder_kind_may(kind, action)
    target = LADDER_MOVES.get((index, action))
    if not may:
        with pytest.raises(ActionForbidden):
            check_ladder_action(level, colour, action, kind)
    elif target is None:
        with pytest.raises(TransitionNotAllowed) as conflict:
            check_ladder_action(level, colour, action, kind)
        assert conflict.value.extra["allowed_actions"] == allowed_ladder_actions(level, colour, kind)
    else:
        step = check_ladder_action(level, colour, action, kind)
        assert (step.level, step.colour) == LADDER[target]
        machine = SupervisionMachine(start_value=Rung(list(Rung)[index]))
        machine.send(action)
        assert machine.current_state.value is step.rung
    expected = sorted(a for (i, a) in LADDER_MOVES if i == index and ladder_kind_may(kind, a))
    assert sorted(allowed_ladder_actions(level, colour, kind)) == expected


def test_supervise_colour_must_be_the_next_one() -> None:
    assert check_ladder_action(L.urged, None, "supervise", "office", notice_colour=B).colour is B
    assert check_ladder_action(L.supervised, B, "supervise", "scheduler", notice_colour=OR).colour is OR
    with pytest.raises(TransitionNotAllowed):
        check_ladder_action(L.none, None, "supervise", "office", notice_colour=R)
    with pytest.raises(TransitionNotAllowed):
        check_ladder_action(L.supervised, R, "supervise", "office", notice_colour=R)


def test_escalate_skips_ahead() -> None:
    steps = escalate_to(L.none, None, L.supervised, R)
    assert [(s.action, s.level, s.colour) for s in steps] == [
        ("supervise", L.supervised, B),
        ("supervise", L.supervised, OR),
        ("supervise", L.supervised, R),
    ]
    assert [s.action for s in escalate_to(L.none, None, L.urged, None)] == ["urge"]
    assert [s.action for s in escalate_to(L.reminded, None, L.supervised, B)] == ["supervise"]
    office = escalate_to(L.none, None, L.accountability, None, actor_kind="office")
    assert [s.action for s in office] == ["supervise", "interview", "hold_accountable"]


def test_escalate_same_rung_is_a_no_op_and_never_goes_down() -> None:
    assert escalate_to(L.reminded, None, L.reminded, None) == []
    assert escalate_to(L.supervised, OR, L.supervised, OR) == []
    for current, target in [((L.supervised, R), (L.supervised, B)), ((L.interviewed, None), (L.urged, None))]:
        with pytest.raises(WorkflowError) as down:
            escalate_to(*current, *target)
        assert down.value.code == "ladder_downgrade"


def test_scheduler_proposes_interview_but_cannot_take_it() -> None:
    with pytest.raises(ActionForbidden) as forbidden:
        escalate_to(L.supervised, R, L.interviewed, None)
    assert forbidden.value.extra["action"] == "interview"
    with pytest.raises(ActionForbidden):
        escalate_to(L.urged, None, L.supervised, B, actor_kind="lead")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(range(8)), st.sampled_from(range(8)))
def test_escalation_is_monotone_and_lands_on_target(start: int, end: int) -> None:
    if end < start:
        with pytest.raises(WorkflowError, match="never goes down"):
            escalate_to(*LADDER[start], *LADDER[end], actor_kind="office")
        return
    steps = escalate_to(*LADDER[start], *LADDER[end], actor_kind="office")
    position = start
    for step in steps:
        assert LADDER_MOVES[(position, step.action)] == LADDER.index((step.level, step.colour))
        position = LADDER.index((step.level, step.colour))
    assert position == end
    assert [s.rung.rank for s in steps] == sorted({s.rung.rank for s in steps})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(LADDER_ACTIONS)), st.sampled_from(["scheduler", "office"]))))
def test_ladder_random_walks_only_climb(walk: list[tuple[str, str]]) -> None:
    rung = Rung.none
    machine = SupervisionMachine()
    for action, kind in walk:
        try:
            step = check_ladder_action(rung.level, rung.colour, action, kind)
        except WorkflowError:
            continue
        assert step.rung.rank > rung.rank and not machine.current_state.final
        machine.send(action)
        rung = step.rung
        assert machine.current_state.value is rung
    if rung is Rung.accountability:
        assert allowed_ladder_actions(rung.level, None, "office") == []


# ------------------------------------------------------------------------------------------ the doc


def test_committed_doc_is_what_the_generator_writes(tmp_path: Path) -> None:
    committed = diagrams.DEFAULT_OUTPUT.read_text(encoding="utf-8")
    assert committed == diagrams.render_markdown(), "run: python -m duban.workflow.diagrams"
    stale = tmp_path / "state-machines.md"
    stale.write_text(committed.replace("已交办", "已分配"), encoding="utf-8")
    assert diagrams.main(["--check", "--output", str(stale)]) == 1
    assert diagrams.main(["--output", str(stale)]) == 0
    assert diagrams.main(["--check", "--output", str(stale)]) == 0


def test_doc_has_every_edge_with_labels_and_roles() -> None:
    text = diagrams.render_markdown()
    assert text.count("```mermaid\nstateDiagram-v2\n") == 2
    for action, (who, sources, target, needs_reason) in DESIGN_TABLE.items():
        for source in sources:
            edge = next(line for line in text.splitlines() if line.startswith(f"    {source} --> {target}: "))
            assert f"{action} " in edge and who in edge
            if needs_reason:
                assert "须说明理由" in edge
    for state in TaskState:
        assert f'state "{state.label}<br/>{state.value}" as {state.value}' in text
    assert "    [*] --> draft" in text and "    completed --> [*]" in text and "    cancelled --> [*]" in text
    assert "supervised_red --> interviewed: interview 约谈 · office/admin" in text
