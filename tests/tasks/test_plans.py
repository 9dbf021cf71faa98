"""Plan import: measures and draft tasks persisted, idempotent, revisions reported, never duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from duban.tasks.enums import AssignmentRole, LeadSource, TaskState
from duban.tasks.models import (
    Department,
    Measure,
    MeasureKind,
    Milestone,
    Plan,
    Target,
    Task,
    TaskAssignment,
    TaskEvent,
)
from duban.tasks.parser import parse
from duban.tasks.plan_views import plan_detail
from duban.tasks.plans import import_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"

PLAN = """内蒙古自治区大气污染防治实施方案（2024—2027年）

一、主要目标
到2027年，全区细颗粒物（PM2.5）年均浓度下降10%。

二、重点任务
（一）推进产业结构优化。2025年年底前完成钢铁行业超低排放改造，2026年6月底前完成焦化行业改造。（自治区工业和信息化厅牵头，自治区生态环境厅、发展改革委配合）
（二）加强柴油货车治理。开展柴油货车路检路查。（自治区交通运输厅、公安厅负责）
（三）强化监测能力。完善大气环境监测网络。
"""


def _count(session: Session, model: type[object]) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def _import(session: Session, text: str, name: str = "方案.txt") -> object:
    return import_plan(session, text, parse(text), name)


def test_import_creates_measures_tasks_and_targets(departments: Session) -> None:
    result = _import(departments, PLAN)
    assert result.status == "created"  # type: ignore[attr-defined]
    assert result.measures == 3  # type: ignore[attr-defined]
    plan = departments.exec(select(Plan)).one()
    assert plan.title == "内蒙古自治区大气污染防治实施方案（2024—2027年）"
    tasks = departments.exec(select(Task).order_by(Task.id)).all()  # type: ignore[arg-type]
    assert [t.state for t in tasks] == [TaskState.draft] * 3
    first = tasks[0]
    assert first.deadline is not None and first.deadline.isoformat() == "2026-06-30"
    assert first.deadline_source == "document"
    milestones = departments.exec(select(Milestone).where(Milestone.task_id == first.id)).all()
    assert sorted(m.due.isoformat() for m in milestones) == ["2025-12-31", "2026-06-30"]
    assert _count(departments, TaskEvent) == 3
    assert _count(departments, Target) >= 1
    sections = departments.exec(select(Measure).where(Measure.kind == MeasureKind.section)).all()
    assert {tuple(s.path) for s in sections} >= {("二",)}


def test_explicit_annotations_become_assignments(departments: Session) -> None:
    _import(departments, PLAN)
    tasks = departments.exec(select(Task).order_by(Task.id)).all()  # type: ignore[arg-type]
    rows = departments.exec(
        select(TaskAssignment, Department).join(Department).where(TaskAssignment.task_id == tasks[0].id)
    ).all()
    by_role = {(d.name, a.role) for a, d in rows}
    assert ("自治区工业和信息化厅", AssignmentRole.lead) in by_role
    assert ("自治区生态环境厅", AssignmentRole.cooperating) in by_role
    assert all(a.source is LeadSource.explicit for a, _ in rows)
    second = departments.exec(select(TaskAssignment).where(TaskAssignment.task_id == tasks[1].id)).all()
    assert len([a for a in second if a.role is AssignmentRole.lead]) == 2


def test_measure_without_deadline_gets_the_horizon_marked_as_default(departments: Session) -> None:
    _import(departments, PLAN)
    third = departments.exec(select(Task).order_by(Task.id.desc())).first()  # type: ignore[union-attr]
    assert third is not None
    assert third.deadline is not None and third.deadline.isoformat() == "2027-12-31"
    assert third.deadline_source == "default"
    assert third.deadline_note and "未写明" in third.deadline_note


def test_reimport_unchanged_is_a_no_op(departments: Session) -> None:
    _import(departments, PLAN)
    before = (_count(departments, Task), _count(departments, Measure), _count(departments, TaskEvent))
    again = _import(departments, PLAN + "\n\n")
    assert again.status == "unchanged"  # type: ignore[attr-defined]
    assert (_count(departments, Task), _count(departments, Measure), _count(departments, TaskEvent)) == before


def test_revision_reports_added_removed_changed_without_duplicates(departments: Session) -> None:
    _import(departments, PLAN)
    revised = (
        PLAN.replace("完善大气环境监测网络。", "完善大气环境监测网络，2026年年底前实现旗县全覆盖。")
        .replace("（二）加强柴油货车治理。开展柴油货车路检路查。（自治区交通运输厅、公安厅负责）\n", "")
        .replace("（三）强化监测能力", "（二）强化监测能力")
        + "（三）推进秸秆综合利用。2027年前秸秆综合利用率达到90%。\n"
    )
    result = _import(departments, revised)
    assert result.status == "revised"  # type: ignore[attr-defined]
    assert result.revision == 2  # type: ignore[attr-defined]
    # (三) 强化监测能力 was renumbered to (二) and its text changed; (二) 柴油货车 went; (三) 秸秆 is new.
    assert result.added == ["二/(三)"]  # type: ignore[attr-defined]
    assert result.changed == ["二/(二)"]  # type: ignore[attr-defined]
    assert result.removed == ["二/(二)"]  # type: ignore[attr-defined]
    assert _count(departments, Task) == 4  # three old tasks kept (one flagged removed), one added
    monitoring = departments.exec(select(Measure).where(Measure.title == "强化监测能力")).one()
    assert monitoring.path == ["二", "(二)"]
    task = departments.exec(select(Task).where(Task.measure_id == monitoring.id)).one()
    assert task.deadline is not None and task.deadline.isoformat() == "2026-12-31"
    kinds = {e.kind for e in departments.exec(select(TaskEvent)).all()}
    assert {"created", "measure_changed"} <= kinds
    detail = plan_detail(departments, result.plan_id)  # type: ignore[attr-defined]
    assert detail.revision == 2
    assert detail.measures == 3


def test_revision_marks_removed_measures(departments: Session) -> None:
    _import(departments, PLAN)
    shorter = PLAN.replace("（三）强化监测能力。完善大气环境监测网络。\n", "")
    result = _import(departments, shorter)
    assert result.removed == ["二/(三)"]  # type: ignore[attr-defined]
    events = departments.exec(select(TaskEvent).where(TaskEvent.kind == "measure_removed")).all()
    assert len(events) == 1
    assert plan_detail(departments, result.plan_id).measures == 2  # type: ignore[attr-defined]


@pytest.mark.skipif(not EXAMPLES.exists(), reason="examples missing")
def test_the_five_example_plans_give_291_draft_tasks(departments: Session) -> None:
    for file in sorted(EXAMPLES.glob("*.txt")):
        text = file.read_text(encoding="utf-8")
        _import(departments, text, file.name)
    assert _count(departments, Plan) == 5
    assert _count(departments, Task) == 291
    again = [
        _import(departments, f.read_text(encoding="utf-8"), f.name) for f in sorted(EXAMPLES.glob("*.txt"))
    ]
    assert {r.status for r in again} == {"unchanged"}  # type: ignore[attr-defined]
    assert _count(departments, Task) == 291
