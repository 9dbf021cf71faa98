"""The 督办单 (blue, orange or red supervision notice) of a task, from its 督办 event: the serial
(`督办〔2026〕第N号`) is issued the first time the event's 督办单 is generated — consecutive per year, the
same on every later download (`serials`) — the date is the day it was issued, the figures are the task's
as of that day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from sqlmodel import Session, col, select

from duban.core import clock
from duban.tasks.enums import AssignmentRole, NoticeColour, SupervisionLevel
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Department, Plan, Task, TaskEvent
from duban.tasks.plan_views import task_briefs
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.errors import WorkflowError
from duban.workflow.paperwork.model import (
    NOTICE_COLOURS,
    NOTICE_ZH,
    Paper,
    Paragraph,
    Table,
    chinese_date,
)
from duban.workflow.paperwork.serials import issue_serials, notice_subject
from duban.workflow.policy import bundled_policy
from duban.workflow.policy_store import names_of

event_t: Final = TaskEvent.__table__  # type: ignore[attr-defined]
department_t: Final = Department.__table__  # type: ignore[attr-defined]
OFFICE_FALLBACK: Final = "自治区生态环境保护委员会办公室"
REPLY_WORKING_DAYS: Final = 5
MAX_SELECTION: Final = 200


class NoticeNotIssued(WorkflowError):
    """A 督办单 was asked for a task that has received none (404)."""

    code = "notice_not_issued"


class PaperworkRequestInvalid(WorkflowError):
    """A paperwork request that cannot be served: no task chosen, too many, a reversed period (422)."""

    code = "paperwork_request_invalid"


@dataclass(frozen=True)
class NoticeFacts:
    """What one 督办单 states."""

    task_id: int
    title: str
    plan_title: str
    lead: tuple[str, ...]
    lead_ids: frozenset[int]
    cooperating: tuple[str, ...]
    deadline: dt.date | None
    original_deadline: dt.date | None
    colour: NoticeColour
    event_id: int
    issued_on: dt.date
    policy_name: str
    serial_year: int
    number: int

    @property
    def serial(self) -> str:
        """督办〔year〕第N号, N this 督办单's place among the year's."""
        return f"督办〔{self.serial_year}〕第{self.number}号"


def office_name(session: Session) -> str:
    """The committee office's name in the registry (the policy names its code)."""
    name = session.connection().execute(
        sa.select(department_t.c.name).where(department_t.c.code == bundled_policy().office)
    )
    return str(name.scalar() or OFFICE_FALLBACK)


def _notice_events(
    session: Session, task_ids: Sequence[int], colour: NoticeColour | None
) -> dict[int, tuple[int, NoticeColour, dt.datetime]]:
    """Each task's latest 督办 event (of `colour`, when given): id, colour, time."""
    colour_of = event_t.c.data["colour"].as_string()
    query = (
        sa.select(event_t.c.task_id, event_t.c.id, colour_of.label("colour"), event_t.c.created_at)
        .where(
            event_t.c.task_id.in_(list(task_ids)),
            event_t.c.to_level == SupervisionLevel.supervised.value,
            colour_of.in_([colour.value] if colour else [c.value for c in NoticeColour]),
        )
        .order_by(event_t.c.id)
    )
    found: dict[int, tuple[int, NoticeColour, dt.datetime]] = {}
    for row in session.connection().execute(query):
        found[row.task_id] = (row.id, NoticeColour(row.colour), row.created_at)
    return found


def _local_day(moment: dt.datetime | str) -> dt.date:
    at = dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment  # SQLite may give text
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(clock.TZ).date()


def notice_facts(
    session: Session, task_ids: Sequence[int], colour: NoticeColour | None = None
) -> list[NoticeFacts]:
    """The 督办单 of each task, in the order asked, its serial issued now if it has none yet (in the
    caller's transaction); NotFoundError or NoticeNotIssued names the first task that has none."""
    wanted = list(dict.fromkeys(task_ids))
    tasks = {
        t.id: t
        for t in session.exec(
            select(Task).where(col(Task.id).in_(wanted)).execution_options(populate_existing=True)
        ).all()
    }
    for task_id in wanted:
        if task_id not in tasks:
            raise NotFoundError(f"任务 {task_id} 不存在", f"Task {task_id} does not exist")
    events = _notice_events(session, wanted, colour)
    for task_id in wanted:
        if task_id not in events:
            raise NoticeNotIssued(
                f"任务 {task_id} 尚未发出督办单", f"Task {task_id} has received no 督办单", task_id=task_id
            )
    ordered = [tasks[i] for i in wanted]
    briefs = {b.id: b for b in task_briefs(session, ordered)}
    plans = {
        p.id: p.title
        for p in session.exec(select(Plan).where(col(Plan.id).in_({t.plan_id for t in ordered}))).all()
    }
    serials = issue_serials(
        session,
        "notice",
        {notice_subject(events[t.id][0]): _local_day(events[t.id][2]).year for t in ordered if t.id},
    )
    names = names_of(session.connection(), (t.policy_version for t in ordered))
    facts = []
    for task in ordered:
        assert task.id is not None
        brief = briefs[task.id]
        event_id, found_colour, at = events[task.id]
        leads = [d for d in brief.lead if d.role is AssignmentRole.lead]
        facts.append(
            NoticeFacts(
                task_id=task.id,
                title=task.title,
                plan_title=plans.get(task.plan_id, ""),
                lead=tuple(d.name for d in leads),
                lead_ids=frozenset(d.department_id for d in leads),
                cooperating=tuple(d.name for d in brief.cooperating),
                deadline=task.deadline,
                original_deadline=task.original_deadline or task.deadline,
                colour=found_colour,
                event_id=event_id,
                issued_on=_local_day(at),
                policy_name=names.get(task.policy_version or 0) or bundled_policy().name,
                serial_year=serials[notice_subject(event_id)].year,
                number=serials[notice_subject(event_id)].number,
            )
        )
    return facts


def notice_paper(facts: NoticeFacts, office: str, calendar: WorkingCalendar) -> Paper:
    """One 督办单 in the 公文 layout."""
    zh = NOTICE_ZH[facts.colour.value]
    lead = "、".join(facts.lead) or "牵头单位"
    deadline = facts.deadline
    late = calendar.working_days_between(deadline, facts.issued_on) if deadline else 0
    reply = calendar.add_working_days(facts.issued_on, REPLY_WORKING_DAYS).date
    moved = ""
    if facts.original_deadline and deadline and facts.original_deadline != deadline:
        moved = f"（经批准延期，原定{chinese_date(facts.original_deadline)}）"
    due = f"完成时限为{chinese_date(deadline)}{moved}" if deadline else "未设完成时限"
    original = chinese_date(facts.original_deadline) if facts.original_deadline else "—"
    rows = (
        ("任务", facts.title, "督办级别", f"{zh}色督办"),
        ("牵头单位", lead, "配合单位", "、".join(facts.cooperating) or "—"),
        ("原定完成时限", original, "现行完成时限", chinese_date(deadline) if deadline else "—"),
        ("逾期工作日", f"{max(late, 0)}个", "报送期限", f"{chinese_date(reply)}前"),
    )
    return Paper(
        issuer=office,
        serial=facts.serial,
        title=f"{zh}色督办单",
        title_colour=NOTICE_COLOURS[facts.colour.value],
        date=facts.issued_on,
        addressee=lead,
        blocks=(
            Paragraph(
                f"你单位牵头承办的“{facts.title}”任务{_plan(facts)}，{due}，截至{chinese_date(facts.issued_on)}"
                f"已超过完成时限{max(late, 0)}个工作日，尚未办结。依据《{facts.policy_name}》，"
                f"现对该任务予以{zh}色督办。"
            ),
            Paragraph(
                f"请你单位接此督办单后，抓紧研究整改措施，于{chinese_date(reply)}前将办理进展、存在问题和"
                f"下一步措施书面报送{office}；逾期仍未办结的，将依规升级督办，直至提请约谈、问责。"
            ),
            Table(headers=(), rows=rows, widths=(1.2, 2.6, 1.2, 2.0), keys=frozenset({0, 2}), small=True),
        ),
        signature=office,
        notes=(f"抄送：{'、'.join(facts.cooperating)}。",) if facts.cooperating else (),
    )


def _plan(facts: NoticeFacts) -> str:
    return f"（《{facts.plan_title}》）" if facts.plan_title else ""
