"""`duban demo`: issue one plan as if on a chosen day, so that a fresh installation's board has lights, its
tasks a history and its departments their 交办 mails."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlmodel import Session, col, select

from duban.core import clock
from duban.core.config import get_settings
from duban.core.db import session_scope
from duban.core.errors import DubanError
from duban.tasks.errors import TasksError
from duban.tasks.models import Plan

console = Console()
err_console = Console(stderr=True)


class DemoPlanNotFound(TasksError):
    """`--plan` names no plan: not an id, a file or a part of a title."""

    code = "plan_not_found"


def find_plan(session: Session, plan: str) -> int:
    """The id of the plan `plan` names: an id, a document file (imported, idempotently), or a part of a
    title that only one plan has."""
    if plan.isdigit() and session.get(Plan, int(plan)) is not None:
        return int(plan)
    path = Path(plan)
    if path.is_file():
        from duban.tasks.parser import decode_bytes, parse, require_measures
        from duban.tasks.plans import import_plan

        text = decode_bytes(path.read_bytes(), path.name)
        return import_plan(session, text, require_measures(parse(text)), path.name).plan_id
    found = session.exec(select(Plan.id).where(col(Plan.title).contains(plan)).limit(2)).all()
    if len(found) == 1 and found[0] is not None:
        return found[0]
    raise DemoPlanNotFound(
        f"找不到规划“{plan}”（可用规划编号、文件路径或标题中的一段）",
        f"No plan “{plan}” (give a plan id, a file or a part of one title)",
    )


def issue_on(plan: str, day: dt.date) -> tuple[int, str, int]:
    """Issue every draft task of the plan as the office on `day`, 09:00 Beijing time (then the clock runs
    on): (plan id, title, tasks issued)."""
    import duban.notifications.celery_app  # noqa: F401  (installs the broker's sender for the 交办 mails)
    from duban.workflow.issuing import issue_plan
    from duban.workflow.service import office_actor

    clock.set_now(dt.datetime.combine(day, dt.time(9), tzinfo=clock.TZ))
    try:
        with session_scope() as session:
            plan_id = find_plan(session, plan)
            record = session.get(Plan, plan_id)
            title = record.title if record is not None else ""
            # a demo plays an old plan on a chosen day: its past deadlines are confirmed as history
            issued = issue_plan(session, plan_id, office_actor(), confirm_past_deadlines=True)
    finally:
        clock.set_now(None)
    return plan_id, title, len(issued)


def demo(
    plan: Annotated[str, typer.Option("--plan", help="规划编号、文件路径或标题中的一段")],
    on: Annotated[str, typer.Option("--on", help="交办日期 YYYY-MM-DD")],
) -> None:
    """Issue one plan on a chosen date (development), so the board shows its lights and mails go out."""
    try:
        day = dt.date.fromisoformat(on)
    except ValueError:
        err_console.print(f"[red]错误[/red] (invalid_date): --on 须为日期 YYYY-MM-DD，收到 {on}")
        raise typer.Exit(code=2) from None
    try:
        plan_id, title, issued = issue_on(plan, day)
    except DubanError as error:
        err_console.print(f"[red]错误[/red] ({error.code}): {error.message_zh}")
        raise typer.Exit(code=2) from None
    settings = get_settings()
    if not issued:
        console.print(f"《{title}》（编号 {plan_id}）没有待交办的任务，未改动", markup=False)
        return
    console.print(
        f"已于 {day.isoformat()} 交办《{title}》（编号 {plan_id}）{issued} 项任务；"
        f"逾期督办看板：http://{settings.host}:{settings.port}/overdue",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add `duban demo` to the command line."""
    app.command("demo")(demo)
