"""Benchmark: the plan review page of the 101-measure 十三五 plan (issue 15 item 2)."""

from __future__ import annotations

import sys
from typing import Any, Final

from bench.core import Context, Goal, Measured, Result, child_environment, run_child

NAME = "review"
ORDER = 70
TITLE = "Plan review: GET /plans/{id} of the 101-measure 十三五 plan (server time)"
REQUESTS: Final = 9
INTRO = f"""\
What it measures: the committee office's review page of the largest bundled plan (内蒙古自治区生态环境保护
“十三五”规划, 101 measures, all in draft) on the embedded runtime (SQLite in the scratch `var/`), through the
whole app in process (ASGI, session cookie, the reads of the review list, the outline tree and the units
table, the Jinja2 render with every printed text converted to simplified script once). Each run's figure is
the median of {REQUESTS} requests after one warm-up of the page as it opens (every part collapsed; the HTML
holds all 101 measures and their edit forms either way); a second line times its reads alone (review list,
outline tree, units table, no HTTP, no render). Reference, in the same round: `GET /login` through the same
stack — what any page costs before its own work. Goal (issue 15): under 300 ms server time."""

GOAL: Final = Goal("<", 300.0, "< 300 ms")


def run(ctx: Context) -> list[Result]:
    """Import the plan and time the page in a fresh process on a scratch var/ folder."""
    env = child_environment(DUBAN_VAR_DIR=str(ctx.scratch), DUBAN_ENV="development")
    command = [sys.executable, "-m", "bench.review.child", str(ctx.runs), str(REQUESTS)]
    data: dict[str, Any] = run_child(command, what="bench.review.child", timeout=300, env=env)
    floor = Measured.of(data["login"], "s").scaled(1000, "ms")
    results = [
        Result(
            "GET /plans/{id}, 101 measures",
            Measured.of(data["review"], "s").scaled(1000, "ms"),
            "GET /login",
            floor,
            GOAL,
        ),
        Result("its reads alone (list, tree, units)", Measured.of(data["reads"], "s").scaled(1000, "ms")),
    ]
    ctx.note(
        f"Plan: {data['measures']} measures, {data['tasks']} draft tasks; the page is "
        f"{data['bytes'] // 1024} KiB of HTML."
    )
    return results
