"""`python -m faults.run [names…] [--list] [--merge] [--smtp-outage SECONDS]`: break duban on purpose, on
private servers, and write what each fault tried and found to docs/faults.md (when every fault ran, or
with `--merge` into the last full run's report for the faults named).

Exit status 1 when any fault found a loss, an unexplained repeat, a 5xx or a recovery too slow.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType, ModuleType

_SCRATCH = Path(tempfile.mkdtemp(prefix="duban-faults-"))
os.environ["DUBAN_VAR_DIR"] = str(_SCRATCH / "suite")
for _name in ("DUBAN_DATABASE_URL", "DUBAN_BROKER_URL", "DUBAN_NOW", "DUBAN_ENV"):
    os.environ.pop(_name, None)
os.environ["DUBAN_MAIL_NOTICE_PDF"] = "false"  # as in the duban processes' environment: see faults.core

from faults import beats, broker, database, fuzz, hostile, imports, kills, mail, report, worker  # noqa: E402
from faults.core import TEMPLATE_DATABASE, Context, Outcome  # noqa: E402
from faults.services import MailServer, PrivatePostgres, PrivateRedis  # noqa: E402

FAULTS: dict[str, ModuleType] = {
    module.NAME: module for module in (kills, beats, database, broker, mail, fuzz, hostile, imports, worker)
}
REPO_ROOT = Path(__file__).resolve().parents[1]
DOC = REPO_ROOT / "docs" / "faults.md"
KEPT_LOGS = REPO_ROOT / "var" / "faults"
TIME_LIMIT = 12 * 60


class SuiteTimeout(Exception):
    """The whole suite ran past its time limit."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise SuiteTimeout(f"the fault suite ran past {TIME_LIMIT} s")


def _on_term(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def prepare(ctx: Context) -> None:
    """Start the private servers and migrate the template database every fault copies."""
    from sqlmodel import Session

    from duban import migrations
    from duban.core.db import build_engine
    from duban.tasks.departments import load_departments

    ctx.postgres.init()
    ctx.postgres.start()
    url = ctx.postgres.create_database(TEMPLATE_DATABASE)
    migrations.upgrade(url)
    engine = build_engine(url)
    with Session(engine) as session:
        load_departments(session)
        session.commit()
    engine.dispose()
    ctx.redis.start()
    ctx.mail.start()


def run_fault(module: ModuleType, ctx: Context) -> Outcome:
    """Run one fault; a crash is recorded as its error, never raised."""
    outcome = Outcome(module.NAME, module.TITLE, "")
    ctx.say(f"── {module.NAME}: {module.TITLE}")
    ctx.fresh_broker()
    if not ctx.mail.running:
        ctx.mail.start()
    began = time.monotonic()
    try:
        module.run(ctx, outcome)
    except SuiteTimeout:
        raise
    except Exception as error:
        outcome.error = f"{type(error).__name__}: {error}"
        ctx.say(traceback.format_exc())
    finally:
        outcome.seconds = time.monotonic() - began
    ctx.say(f"   tried: {outcome.tried}")
    for line in outcome.found:
        ctx.say(f"   found: {line}")
    ctx.say("   " + ", ".join(f"{key}={value}" for key, value in outcome.figures.items()))
    verdict = (
        "passed" if outcome.passed else "FAILED: " + "; ".join(outcome.failures or [outcome.error or ""])
    )
    ctx.say(f"   {module.NAME} {verdict} ({outcome.seconds:.0f} s)")
    return outcome


def main(argv: list[str] | None = None) -> int:
    """Run the chosen faults (all by default); write docs/faults.md when all ran."""
    parser = argparse.ArgumentParser(prog="python -m faults.run", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"faults to run (default all: {', '.join(FAULTS)})")
    parser.add_argument("--list", action="store_true", help="list the faults and exit")
    parser.add_argument("--smtp-outage", type=float, default=60.0, help="seconds the SMTP server is down")
    parser.add_argument("--output", type=Path, default=DOC, help="report file (default docs/faults.md)")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="with some faults named: replace their rows and sections in the report",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in FAULTS]
    if args.list or unknown:
        shutil.rmtree(_SCRATCH, ignore_errors=True)
        for name, module in FAULTS.items():
            print(f"{name}: {module.TITLE}")
        if unknown:
            print(f"unknown fault(s): {', '.join(unknown)}", file=sys.stderr)
        return 2 if unknown else 0
    mail.OUTAGE_SECONDS = args.smtp_outage
    chosen = args.names or list(FAULTS)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_term)
    signal.alarm(TIME_LIMIT)
    os.chmod(_SCRATCH, 0o755)  # noqa: S103  (the postgres user reaches its cluster folder inside)
    ctx = Context(
        _SCRATCH,
        PrivatePostgres(_SCRATCH / "postgres"),
        PrivateRedis(_SCRATCH / "redis"),
        MailServer(),
        lambda text: print(text, flush=True),
    )
    outcomes: list[Outcome] = []
    began = time.monotonic()
    try:
        ctx.say(
            f"private PostgreSQL on {ctx.postgres.port}, Redis on {ctx.redis.port}, SMTP on {ctx.mail.port}"
        )
        prepare(ctx)
        ctx.say(f"ready in {time.monotonic() - began:.0f} s (PostgreSQL {ctx.postgres.server_version()})")
        for name in chosen:
            outcomes.append(run_fault(FAULTS[name], ctx))
    except SuiteTimeout as error:
        outcomes.append(Outcome("suite", "time limit", "", error=str(error)))
    finally:
        signal.alarm(0)
        wall = time.monotonic() - began
        postgres_version = _quiet(ctx.postgres.server_version)
        ctx.close()
        ctx.mail.stop()
        ctx.redis.stop()
        ctx.postgres.destroy()
        failed = any(not outcome.passed for outcome in outcomes)
        if failed:
            KEPT_LOGS.mkdir(parents=True, exist_ok=True)
            kept = KEPT_LOGS / time.strftime("%Y%m%d-%H%M%S")
            shutil.copytree(_SCRATCH, kept, ignore=shutil.ignore_patterns("postgres"), dirs_exist_ok=True)
            ctx.say(f"logs kept in {kept}")
        shutil.rmtree(_SCRATCH, ignore_errors=True)
    ctx.say(report.summary(outcomes, wall))
    if set(chosen) == set(FAULTS):
        args.output.write_text(
            report.render(outcomes, wall, postgres_version, args.smtp_outage), encoding="utf-8"
        )
        ctx.say(f"written {args.output}")
    elif args.merge and args.output.exists() and all(o.name in FAULTS for o in outcomes):
        merged = report.merge(args.output.read_text(encoding="utf-8"), outcomes, wall)
        args.output.write_text(merged, encoding="utf-8")
        ctx.say(f"merged {', '.join(chosen)} into {args.output}")
    return 1 if failed else 0


def _quiet(read: Callable[[], str]) -> str:
    try:
        return read()
    except Exception:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
