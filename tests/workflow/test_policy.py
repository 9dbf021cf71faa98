"""The escalation policy: the bundled YAML, validation, snapshots, freezing onto issued tasks."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from duban.tasks.models import Task
from duban.workflow.machines import Rung
from duban.workflow.policy import PolicyError, bundled_policy, parse_policy, parse_policy_text
from duban.workflow.policy_store import freeze_policy, policy_t, register_policy
from tests.fixtures.policies import freeze_onto
from tests.notifications.scenario import Scenario, open_scenario


@pytest.fixture
def scene(session: Session) -> Iterator[Scenario]:
    yield from open_scenario(session)


def test_bundled_policy_is_the_documented_ladder() -> None:
    policy = bundled_policy()
    assert policy.version == 2 and policy.office == "sthbwbgs"
    steps = [(s.name, s.offset, s.rung, s.immediate, s.audience) for s in policy.deadline_steps()]
    assert steps == [
        ("remind_5", -5, Rung.reminded, False, "lead"),
        ("remind_3", -3, Rung.reminded, False, "lead"),
        ("remind_1", -1, Rung.reminded, False, "lead"),
        ("urge", 1, Rung.urged, False, "lead"),
        ("supervise_blue", 3, Rung.supervised_blue, True, "lead"),
        ("supervise_orange", 6, Rung.supervised_orange, True, "lead"),
        ("supervise_red", 10, Rung.supervised_red, True, "lead"),
        ("propose_interview", 15, None, True, "office"),
        ("propose_accountability", 30, None, True, "office"),
    ]
    # 签收提醒 on the first working day after three; contributions five working days before the deadline.
    assert [(s.name, s.offset) for s in policy.accept_steps()] == [("accept", 4)]
    assert [(s.name, s.offset) for s in policy.contribution_steps()] == [
        ("contribution_remind_3", -8),
        ("contribution_remind_1", -6),
        ("contribution_urge_1", -4),
    ]
    assert policy.reports == {"monthly": 5, "quarterly": 10, "half_yearly": 10, "yearly": 15}
    assert [s.rule for s in policy.report_steps()] == ["report"] * 9


def test_snapshot_round_trips_and_carries_its_fingerprint() -> None:
    policy = bundled_policy()
    snapshot = policy.snapshot()
    assert parse_policy(snapshot) == policy
    tampered = copy.deepcopy(snapshot)
    tampered["deadline"]["ladder"][0]["after"] = 2
    with pytest.raises(PolicyError, match="sha256"):
        parse_policy(tampered)


def _policy(**changes: Any) -> dict[str, Any]:
    data = bundled_policy().to_mapping()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            _policy(
                deadline={"ladder": [{"after": 3, "step": "supervise_blue"}, {"after": 1, "step": "urge"}]}
            ),
            "ladder",
        ),
        (_policy(deadline={"ladder": [{"after": 1, "step": "shout"}]}), "shout"),
        (_policy(deadline={"ladder": [{"after": 0, "step": "urge"}]}), "after"),
        (
            _policy(deadline={"ladder": [{"after": 1, "step": "urge"}], "remind_before": [3, 3]}),
            "remind_before",
        ),
        (_policy(version=0), "version"),
        (_policy(office=""), "office"),
        (_policy(colour="red"), "colour"),
        (_policy(contribution={"due_before_deadline": 2, "urge_after": [2]}), "urge_after"),
        (_policy(reports={"daily": {"due_after_period": 1}}), "daily"),
        ("just text", ""),
    ],
)
def test_invalid_policies_are_refused_with_the_place(data: object, fragment: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(data)
    assert fragment in caught.value.message_en + caught.value.message_zh
    assert caught.value.code == "policy_invalid"


def test_policy_text_must_be_yaml() -> None:
    with pytest.raises(PolicyError):
        parse_policy_text("version: [1")
    assert (
        parse_policy_text("version: 2\noffice: x\ndeadline:\n  ladder: [{after: 2, step: urge}]\n").version
        == 2
    )


def test_freeze_only_touches_issued_tasks_without_a_policy(scene: Scenario) -> None:
    draft = scene.task(dt.date(2025, 12, 31))
    issued = scene.task(dt.date(2025, 12, 31), issued="2025-10-15T09:00")
    older = scene.task(dt.date(2025, 12, 31), issued="2025-10-15T09:00")
    old_rules = _policy(version=7, name="旧版")
    freeze_onto(scene.session, older, parse_policy(old_rules))
    assert freeze_policy(scene.session, [draft, issued, older]) == 0  # issuing froze it already
    # a task issued before policies were frozen at issue (or by an older release) has none:
    freeze_onto(scene.session, issued, None)
    assert freeze_policy(scene.session, [draft, issued, older]) == 1
    assert freeze_policy(scene.session, [issued]) == 0
    rows = scene.session.execute(
        sa.select(col(Task.id), col(Task.policy_version)).where(col(Task.id).in_([draft, issued, older]))
    ).all()
    versions: dict[int, int | None] = {row[0]: row[1] for row in rows}
    assert versions == {draft: None, issued: 2, older: 7}  # a task keeps the policy it was issued under
    kept = scene.session.execute(sa.select(policy_t.c.version, policy_t.c.body).order_by(policy_t.c.version))
    assert [(v, body["version"]) for v, body in kept] == [(2, 2), (7, 7)]  # each version's rules, once


def test_a_version_number_never_means_two_rule_sets(scene: Scenario) -> None:
    policy = bundled_policy()
    register_policy(scene.session.connection(), policy)
    register_policy(scene.session.connection(), policy)
    changed = parse_policy(_policy(catch_up_working_days=3))
    with pytest.raises(PolicyError, match="version 2"):
        register_policy(scene.session.connection(), changed)
