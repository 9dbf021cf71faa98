"""What 办结 needs, from the task's frozen policy: submit refused naming what is missing, accepted with it;
after 退回 a new report first. A task frozen without a `completion` section needs nothing more."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import time
from pathlib import Path

import pytest

from duban.core.filestore import LocalFileStore
from duban.tasks.enums import TaskState
from duban.workflow.evidence.completion import CompletionIncomplete
from duban.workflow.evidence.files import Limits, remove_orphans, upload
from duban.workflow.policy import CompletionRules, EscalationPolicy, bundled_policy, parse_policy
from duban.workflow.records import add_contribution, add_progress
from duban.workflow.service import apply_action
from tests.fixtures.evidence import pdf_bytes, require_completion
from tests.fixtures.policies import freeze_onto
from tests.fixtures.tasks import TaskWorld

LIMITS = Limits(1 << 20, 1 << 22)


def _evidence(world: TaskWorld, store: LocalFileStore, task: int, who: str = "lead") -> int:
    row = upload(world.session, store, task, world.actor(who), "验收.pdf", io.BytesIO(pdf_bytes(who)), LIMITS)
    assert row.id is not None
    return row.id


def _refusal(world: TaskWorld, task: int) -> CompletionIncomplete:
    with pytest.raises(CompletionIncomplete) as caught:
        apply_action(world.session, task, "submit", world.actor("lead"))
    return caught.value


def test_submit_names_everything_missing_then_goes_through(world: TaskWorld, tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    task = world.task_in(TaskState.in_progress)
    require_completion(world.session, task)
    refusal = _refusal(world, task)
    assert [m["requirement"] for m in refusal.extra["missing"]] == [
        "final_report",
        "evidence_files",
        "contributions",
    ]
    assert "完成 100% 的最终进展" in refusal.message_zh and "佐证材料" in refusal.message_zh
    assert "自治区发展改革委" in refusal.message_zh
    add_progress(
        world.session, task, world.actor("lead"), 60, "完成过半", file_ids=[_evidence(world, store, task)]
    )
    assert [m["requirement"] for m in _refusal(world, task).extra["missing"]] == [
        "final_report",
        "contributions",
    ]
    add_contribution(world.session, task, world.actor("cooperating"), "已完成配合工作")
    add_progress(world.session, task, world.actor("lead"), 100, "全部完成")
    outcome = apply_action(world.session, task, "submit", world.actor("lead"))
    assert outcome.to_state is TaskState.submitted


def test_a_written_reason_stands_for_a_missing_contribution(world: TaskWorld, tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    task = world.task_in(TaskState.in_progress)
    require_completion(world.session, task)
    add_progress(
        world.session,
        task,
        world.actor("lead"),
        100,
        "全部完成",
        file_ids=[_evidence(world, store, task)],
        missing_contributions={world.cooperating_id: "该单位本期无相关工作，已电话确认"},
    )
    assert apply_action(world.session, task, "submit", world.actor("lead")).to_state is TaskState.submitted


def test_after_a_return_a_new_report_comes_before_resubmitting(world: TaskWorld, tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    task = world.task_in(TaskState.in_progress)
    require_completion(world.session, task)
    add_contribution(world.session, task, world.actor("cooperating"), "已完成配合工作")
    add_progress(
        world.session, task, world.actor("lead"), 100, "完成", file_ids=[_evidence(world, store, task)]
    )
    apply_action(world.session, task, "submit", world.actor("lead"))
    apply_action(world.session, task, "return", world.actor("office"), reason="请补充监测数据")
    refusal = _refusal(world, task)
    assert [m["requirement"] for m in refusal.extra["missing"]] == ["report_after_return"]
    assert "退回后须先报送新的进展" in refusal.message_zh
    add_progress(world.session, task, world.actor("lead"), 100, "已补充监测数据")
    assert apply_action(world.session, task, "submit", world.actor("lead")).to_state is TaskState.submitted


def test_the_bundled_policy_asks_for_everything_and_bare_tasks_are_refused(world: TaskWorld) -> None:
    assert bundled_policy().version == 2
    assert bundled_policy().completion == CompletionRules(1, 100, "or_reason", True)
    task = world.task_in(TaskState.in_progress)
    assert [m["requirement"] for m in _refusal(world, task).extra["missing"]] == [
        "final_report",
        "evidence_files",
        "contributions",
    ]


def test_a_task_frozen_without_completion_rules_submits_as_before(world: TaskWorld) -> None:
    task = world.task_in(TaskState.in_progress)
    freeze_onto(world.session, task, _version_one())
    assert apply_action(world.session, task, "submit", world.actor("lead")).to_state is TaskState.submitted


def _version_one() -> EscalationPolicy:
    """Version 1 as it was issued: the same rules without the `completion` section."""
    return dataclasses.replace(bundled_policy(), version=1, name="督办升级规则（第 1 版）", completion=None)


def test_the_completion_section_round_trips_and_keeps_old_fingerprints() -> None:
    policy = _version_one()
    assert "completion" not in policy.snapshot()  # a version frozen before the section existed
    assert parse_policy(policy.snapshot()) == policy
    assert parse_policy(bundled_policy().snapshot()) == bundled_policy()
    rules = CompletionRules(2, 100, "or_reason", True)
    with_rules = dataclasses.replace(policy, version=policy.version + 1, completion=rules)
    assert parse_policy(with_rules.snapshot()).completion == rules


@pytest.mark.parametrize(
    "section",
    [
        {"evidence_files": -1},
        {"final_percent": 0},
        {"contributions": "always"},
        {"new_report_after_return": "yes"},
    ],
)
def test_a_bad_completion_section_is_refused(section: dict[str, object]) -> None:
    from duban.workflow.policy import PolicyError, bundled_policy

    data = {**bundled_policy().to_mapping(), "completion": section}
    with pytest.raises(PolicyError):
        parse_policy(data)


def test_orphaned_bytes_are_removed_after_the_grace_period(world: TaskWorld, tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    task = world.task_in(TaskState.in_progress)
    _evidence(world, store, task)  # named by a row
    orphan = store.put(io.BytesIO(pdf_bytes("孤立")), limit=1 << 20)  # a failed request's upload
    fresh = store.put(io.BytesIO(pdf_bytes("刚上传")), limit=1 << 20)  # a request still under way
    old = time.time() - 2 * 86_400
    for digest, _ in store.digests():
        if digest != fresh.sha256:
            os.utime(store.path_of(digest), (old, old))
    assert remove_orphans(world.session, store, dt.timedelta(hours=24)) == 1
    assert not store.exists(orphan.sha256) and store.exists(fresh.sha256)
    assert len(list(store.digests())) == 2
