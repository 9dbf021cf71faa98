"""Scheduler commands: `duban sweep`, `duban calendar load FILE`, `duban notifications preview KIND`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from duban.core import clock
from duban.core.db import session_scope
from duban.core.errors import DubanError

calendar_app = typer.Typer(help="工作日日历 / working-day calendar", no_args_is_help=True)
notifications_app = typer.Typer(help="提醒与督办通知 / notices", no_args_is_help=True)

console = Console()
err_console = Console(stderr=True)


def _fail(error: DubanError) -> None:
    err_console.print(f"[red]错误 / error[/red] ({error.code}): {error.message_zh} / {error.message_en}")
    raise typer.Exit(code=2)


def _moment(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        err_console.print(
            f"[red]--now 须为 ISO 时间，例如 2025-10-09T09:00 / not an ISO datetime: {value}[/red]"
        )
        raise typer.Exit(code=2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.TZ)


def sweep(
    now: Annotated[str | None, typer.Option("--now", help="ISO 时间，默认当前 / ISO datetime")] = None,
    deliver: Annotated[
        bool, typer.Option("--deliver", help="同时在本进程投递到期消息 / also deliver what is due here")
    ] = False,
) -> None:
    """Run one reminder/escalation sweep synchronously (what beat runs), then optionally deliver."""
    import duban.notifications.celery_app  # noqa: F401  (installs the broker sender for after-commit jobs)
    from duban.notifications.calendars import working_calendar
    from duban.notifications.delivery import deliver_due
    from duban.notifications.digest import dispatch
    from duban.notifications.outbox import run_sweep
    from duban.workflow.policy import bundled_policy

    moment = _moment(now)
    try:
        with session_scope() as session:
            result = run_sweep(session, moment)
        console.print(
            f"{result.today.isoformat()}：新增通知 {result.notices} 条，督办层级变动 {result.moved} 项，"
            f"已排队投递 {result.queued} 条 / {result.notices} notices, {result.moved} ladder moves, "
            f"{result.queued} queued"
        )
        for step, count in sorted(result.by_step.items()):
            console.print(f"  {step}: {count}", markup=False)
        if deliver:
            with session_scope() as session:
                counts = dispatch(session, moment, working_calendar(session), bundled_policy())
            outcomes = deliver_due(moment)
            console.print(f"摘要 / digests: {counts['digests']}；投递 / delivery: {dict(outcomes)}")
    except DubanError as error:
        _fail(error)


@calendar_app.command("load")
def calendar_load(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Load a State Council holiday notice (YAML, one year or `schedules: [...]`); a year loaded again is
    replaced."""
    from duban.notifications.calendars import save_schedules
    from duban.workflow.calendar import load_schedules_file

    try:
        schedules = load_schedules_file(file)
        with session_scope() as session:
            loaded = save_schedules(session, schedules)
    except DubanError as error:
        _fail(error)
        return
    for year in loaded:
        action = "已替换" if year.replaced else "已载入"
        note = "（覆盖随程序发布的安排）" if year.overrides_bundled else ""
        console.print(
            f"{year.year} 年：{action}{note}，与 holidays 包相比有 {len(year.differences)} 天不同 / "
            f"{year.year}: {'replaced' if year.replaced else 'loaded'}, "
            f"{len(year.differences)} days differ from the holidays package"
        )
        for difference in year.differences[:40]:
            state = "上班" if difference.announced_working else "放假"
            console.print(f"  {difference.date.isoformat()} {state}", markup=False)


@notifications_app.command("preview")
def notifications_preview(
    kind: Annotated[str, typer.Argument(help="remind, urge, supervise_red, digest, weekly …")],
    output: Annotated[str, typer.Option("--format", help="text | html | markdown")] = "text",
) -> None:
    """Render a sample message of KIND (subject, then the body) without a database."""
    from duban.notifications.preview import PREVIEW_KINDS, preview

    if kind not in PREVIEW_KINDS:
        err_console.print(
            f"[red]未知类型 / unknown kind {kind!r}[/red]；可用 / known: {', '.join(PREVIEW_KINDS)}"
        )
        raise typer.Exit(code=2)
    if output not in ("text", "html", "markdown"):
        err_console.print("[red]--format 须为 text、html 或 markdown[/red]")
        raise typer.Exit(code=2)
    rendered = preview(kind)
    typer.echo(f"Subject: {rendered.subject}\n")
    typer.echo(getattr(rendered, output))


def register(app: typer.Typer) -> None:
    """Add the scheduler commands to the `duban` app."""
    app.command("sweep")(sweep)
    app.add_typer(calendar_app, name="calendar")
    app.add_typer(notifications_app, name="notifications")
