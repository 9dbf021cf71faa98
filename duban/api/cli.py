"""The `duban` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from duban.api import runtime
from duban.api.cli_db import db_app
from duban.core.config import get_settings
from duban.core.db import session_scope
from duban.core.errors import DubanError

app = typer.Typer(
    help="督办 duban：规划文件变成可追责的任务 / policy documents become supervised tasks",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
departments_app = typer.Typer(help="部门名录 / department registry", no_args_is_help=True)
tokens_app = typer.Typer(help="API 令牌 / API tokens", no_args_is_help=True)
plans_app = typer.Typer(help="规划 / plans", no_args_is_help=True)
app.add_typer(db_app, name="db")  # db upgrade, db roles: duban/api/cli_db.py
app.add_typer(departments_app, name="departments")
app.add_typer(tokens_app, name="tokens")
app.add_typer(plans_app, name="plans")
# scheduler commands (duban sweep, duban calendar load, duban notifications preview) — issue 6
from duban.api.cli_scheduler import register as register_scheduler  # noqa: E402
from duban.api.cli_users import users_app  # noqa: E402  (users: create, set-password, disable … — issue 14)

register_scheduler(app)
app.add_typer(users_app, name="users")
from duban.api.cli_demo import register as register_demo  # noqa: E402  (duban demo — issue 15)

register_demo(app)

console = Console()
err_console = Console(stderr=True)


def _fail(error: DubanError) -> None:
    err_console.print(f"[red]错误 / error[/red] ({error.code}): {error.message_zh} / {error.message_en}")
    raise typer.Exit(code=2)


@departments_app.command("load")
def departments_load(
    file: Annotated[Path | None, typer.Argument(exists=True, dir_okay=False)] = None,
) -> None:
    """Load the department registry (the bundled one, or FILE in the same YAML format); idempotent."""
    from duban.tasks.departments import load_departments, load_departments_file

    try:
        with session_scope() as session:
            result = load_departments_file(session, file) if file else load_departments(session)
    except DubanError as error:
        _fail(error)
        return
    console.print(
        f"部门名录：新增 {result.created}，更新 {result.updated}，未变 {result.unchanged} / "
        f"departments: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    )


@tokens_app.command("create")
def tokens_create(name: str, label: Annotated[str, typer.Option(help="令牌用途")] = "OA") -> None:
    """Create a long-lived API token for user NAME and print it once."""
    from duban.api.users import create_api_token

    try:
        with session_scope() as session:
            issued = create_api_token(session, name, label)
    except DubanError as error:
        _fail(error)
        return
    err_console.print(
        f"令牌编号 {issued.record.id}，请妥善保存，此令牌只显示一次 / "
        f"token id {issued.record.id}: store it now, it is shown only once"
    )
    typer.echo(issued.token)


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke API token TOKEN_ID (see the id printed with the token's prefix); idempotent."""
    from duban.api.users import revoke_api_token

    try:
        with session_scope() as session:
            revoke_api_token(session, token_id)
    except DubanError as error:
        _fail(error)
        return
    console.print(f"令牌 {token_id} 已吊销 / token {token_id} revoked")


@plans_app.command("parse")
def plans_parse(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
    output_format: Annotated[str, typer.Option("--format", help="json | text")] = "text",
) -> None:
    """Parse documents without a database and print what the parser read (one JSON object per document)."""
    import json

    from duban.tasks.parser import ParseError, decode_bytes, parse, require_measures, to_json_dict
    from duban.tasks.registry import default_registry
    from duban.tasks.rules import apply_rules_to_json, bundled_rules

    failed = False
    for file in files:
        try:
            text = decode_bytes(file.read_bytes(), file.name)
            parsed = require_measures(parse(text))
        except ParseError as error:
            where = f" (第 {error.line} 行 / line {error.line})" if error.line else ""
            err_console.print(f"[red]{file}{where}[/red]: {error.message_zh} / {error.message_en}")
            failed = True
            continue
        if output_format == "json":
            document = apply_rules_to_json(to_json_dict(parsed), default_registry(), bundled_rules(), text)
            typer.echo(json.dumps(document, ensure_ascii=False))
            continue
        typer.echo(f"{parsed.title or file.name}（{parsed.script}）：{len(parsed.measures)} 条措施")
        for measure in parsed.measures:
            who = "、".join(measure.responsibility.lead) or "—"
            deadline = measure.time.deadline_text or "—"
            typer.echo(f"  {'/'.join(measure.path)}\t{measure.title[:40]}\t时限：{deadline}\t牵头：{who}")
    if failed:
        raise typer.Exit(code=2)


@plans_app.command("import")
def plans_import(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Import documents as plans with draft tasks (idempotent: an unchanged document is skipped)."""
    from rich.progress import Progress

    from duban.tasks.parser import ParseError, decode_bytes, parse, require_measures
    from duban.tasks.plans import import_plan

    failed = False
    with Progress(console=err_console, transient=False) as progress:
        bar = progress.add_task("导入规划 / importing", total=len(files))
        for file in files:
            try:
                text = decode_bytes(file.read_bytes(), file.name)
                with session_scope() as session:
                    result = import_plan(session, text, require_measures(parse(text)), file.name)
            except (ParseError, DubanError) as error:
                progress.console.print(f"[red]{file.name}[/red]: {error.message_zh} / {error.message_en}")
                failed = True
            else:
                progress.console.print(
                    f"{file.name}: {result.status}，第 {result.revision} 版，{result.measures} 条措施"
                    + (
                        f"（新增 {len(result.added)}，删除 {len(result.removed)}，"
                        f"修改 {len(result.changed)}）"
                        if result.status == "revised"
                        else ""
                    ),
                    markup=False,
                )
            progress.advance(bar)
    if failed:
        raise typer.Exit(code=2)


@app.command("run")
def run(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    worker: Annotated[bool, typer.Option(help="同时启动 Celery worker 与 beat")] = True,
) -> None:
    """Start the API and pages, a Celery worker and beat on the configured runtime."""
    settings = get_settings()
    runtime.serve(host or settings.host, port or settings.port, with_worker=worker)


def main() -> None:
    """Entry point of the `duban` console script."""
    if get_settings().log_format == "json":
        from duban.core.logging import configure_logging

        configure_logging()
    app()
