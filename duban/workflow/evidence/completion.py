"""What 办结报送 needs, as the task's frozen escalation policy states it; `submit` is refused naming what is
missing. A task frozen under a policy without a `completion` section needs nothing more than its state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from duban.core.db import Unit
from duban.tasks.models import Department, Task, TaskEvent
from duban.workflow.errors import WorkflowError
from duban.workflow.evidence.models import ContributionWaiver, EvidenceFile, EvidenceLink
from duban.workflow.models import ReportKind, TaskReport
from duban.workflow.policy import CompletionRules, parse_completion
from duban.workflow.policy_store import frozen_rules

if TYPE_CHECKING:  # the service calls this module on `submit`
    from duban.workflow.service import TaskHeader

task_t: Final = Task.__table__  # type: ignore[attr-defined]
event_t: Final = TaskEvent.__table__  # type: ignore[attr-defined]
report_t: Final = TaskReport.__table__  # type: ignore[attr-defined]
file_t: Final = EvidenceFile.__table__  # type: ignore[attr-defined]
link_t: Final = EvidenceLink.__table__  # type: ignore[attr-defined]
waiver_t: Final = ContributionWaiver.__table__  # type: ignore[attr-defined]
department_t: Final = Department.__table__  # type: ignore[attr-defined]


class CompletionIncomplete(WorkflowError):
    """办结报送 refused: what the task's policy asks for is missing (422; `missing` lists each item)."""

    code = "completion_incomplete"


@dataclass(frozen=True, slots=True)
class Missing:
    """One unmet requirement, in Chinese and English, with its machine name."""

    requirement: str
    zh: str
    en: str
    extra: dict[str, Any]


def rules_of(session: Unit, task_id: int) -> CompletionRules | None:
    """The completion rules frozen onto the task (None: its policy has none)."""
    query = sa.select(frozen_rules()).where(task_t.c.id == task_id)
    policy = session.connection().execute(query).scalar()
    if not isinstance(policy, dict) or "completion" not in policy:
        return None
    return parse_completion(policy["completion"])


def silent_cooperators(session: Unit, header: TaskHeader) -> dict[int, str]:
    """The task's cooperating units that have sent no contribution and have no written reason from the
    lead yet: id → name, in id order."""
    if not header.cooperating_ids:
        return {}
    conn = session.connection()
    sent = {
        row[0]
        for row in conn.execute(
            sa.select(report_t.c.department_id).where(
                report_t.c.task_id == header.id, report_t.c.kind == ReportKind.contribution.value
            )
        )
    }
    excused = {
        row[0]
        for row in conn.execute(sa.select(waiver_t.c.department_id).where(waiver_t.c.task_id == header.id))
    }
    absent = sorted(header.cooperating_ids - sent - excused)
    if not absent:
        return {}
    names = {
        row.id: row.name
        for row in conn.execute(
            sa.select(department_t.c.id, department_t.c.name).where(department_t.c.id.in_(absent))
        )
    }
    return {d: names.get(d) or str(d) for d in absent}


def missing_for_completion(session: Unit, header: TaskHeader, rules: CompletionRules) -> list[Missing]:
    """Every requirement of `rules` the task does not meet yet."""
    conn = session.connection()
    task_id = header.id
    missing: list[Missing] = []
    if rules.final_percent is not None:
        latest = conn.execute(
            sa.select(report_t.c.percent)
            .where(report_t.c.task_id == task_id, report_t.c.kind == ReportKind.progress.value)
            .order_by(report_t.c.id.desc())
            .limit(1)
        ).first()
        if latest is None or (latest.percent or 0) < rules.final_percent:
            at = "尚无进展报送" if latest is None else f"最近一次为 {latest.percent}%"
            missing.append(
                Missing(
                    "final_report",
                    f"报送完成 {rules.final_percent}% 的最终进展（{at}）",
                    f"a final progress report at {rules.final_percent}%",
                    {"final_percent": rules.final_percent},
                )
            )
    if rules.evidence_files:
        count = conn.execute(
            sa.select(sa.func.count(sa.distinct(file_t.c.id)))
            .select_from(file_t.join(link_t, link_t.c.file_id == file_t.c.id))
            .where(file_t.c.task_id == task_id, link_t.c.record_kind == "report")
        ).scalar_one()
        if count < rules.evidence_files:
            missing.append(
                Missing(
                    "evidence_files",
                    f"随报送上传至少 {rules.evidence_files} 份佐证材料（现有 {count} 份）",
                    f"at least {rules.evidence_files} evidence file(s) with the reports ({count} so far)",
                    {"evidence_files": rules.evidence_files, "evidence_files_now": int(count)},
                )
            )
    if rules.contributions == "or_reason":
        absent = silent_cooperators(session, header)
        if absent:
            listed = "、".join(f"“{name}”" for name in absent.values())
            missing.append(
                Missing(
                    "contributions",
                    f"配合单位{listed}的配合情况，或牵头单位对每个未报送单位的书面说明",
                    f"the contribution of {len(absent)} cooperating unit(s), or a written reason for each",
                    {"departments": [{"id": d, "name": name} for d, name in absent.items()]},
                )
            )
    if rules.new_report_after_return:
        last = conn.execute(
            sa.select(
                sa.func.max(sa.case((event_t.c.kind == "return", event_t.c.id))),
                sa.func.max(sa.case((event_t.c.kind == ReportKind.progress.value, event_t.c.id))),
            ).where(event_t.c.task_id == task_id, event_t.c.kind.in_(["return", ReportKind.progress.value]))
        ).one()
        returned, reported = last
        if returned is not None and (reported is None or reported < returned):
            missing.append(
                Missing(
                    "report_after_return",
                    "退回后须先报送新的进展，再重新报送办结",
                    "after a return, a new progress report before submitting again",
                    {},
                )
            )
    return missing


def check_completion(session: Unit, header: TaskHeader) -> None:
    """Refuse `submit` (422 `completion_incomplete`) naming every requirement the task does not meet."""
    rules = rules_of(session, header.id)
    if rules is None:
        return
    missing = missing_for_completion(session, header, rules)
    if not missing:
        return
    raise CompletionIncomplete(
        "办结报送前还须：" + "；".join(item.zh for item in missing),
        "Before submitting for completion: " + "; ".join(item.en for item in missing),
        missing=[{"requirement": item.requirement, "zh": item.zh, **item.extra} for item in missing],
    )
