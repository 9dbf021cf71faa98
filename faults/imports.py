"""Concurrent uploads of the same plans (issue 14): 50 clients post the same documents at once, then, for a
bounded time, different revisions of them (some naming the plan with `revises`), against `duban run` on
PostgreSQL. Fails on a 5xx, on a revision number answered twice or skipped, on a revision record whose text
is not the text its answer revised, and on a plan whose stored text disagrees with its measures."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from duban.tasks.plan_revise import revision_inconsistencies
from duban.tasks.plans import content_hash
from faults.core import Context, Outcome, elapsed
from faults.hostile import server_error
from faults.http import make_users
from faults.processes import start_api
from faults.services import HOST, free_port

NAME = "imports"
TITLE = "concurrent uploads and revisions of the same plans"
CLIENTS = 50
PLANS = 5
VARIANTS = 8
DURATION = 20.0
EXPLICIT_SHARE = 0.2  # of the revisions, posted with revises=<plan id>
TIMEOUT = 60.0

# The five documents: two with a 文号, one with an issuer only, two with a title only (the old identity).
_HEADS = [
    "内蒙古自治区人民政府办公厅关于印发大气污染防治攻坚实施方案的通知\n内政办发〔2025〕31号\n"
    "内蒙古自治区人民政府办公厅\n2025年3月1日\n大气污染防治攻坚实施方案\n",
    "内蒙古自治区人民政府办公厅关于印发大气污染防治攻坚实施方案的通知\n内政办发〔2025〕47号\n"
    "内蒙古自治区人民政府办公厅\n2025年5月9日\n大气污染防治攻坚实施方案\n",
    "内蒙古自治区生态环境厅关于印发黄河流域生态保护工作方案的通知\n黄河流域生态保护工作方案\n",
    "关于加强秸秆禁烧和综合利用的工作方案\n",
    "关于推进城镇污水管网建设的实施方案\n",
]

# The check queries (PostgreSQL): each names what it finds; every one must find nothing.
CHECKS: dict[str, str] = {
    "revision numbers recorded twice": (
        "SELECT plan_id, revision FROM plan_revision GROUP BY plan_id, revision HAVING count(*) > 1"
    ),
    "plans whose revision records do not run 1…revision": (
        "SELECT p.id FROM plan p LEFT JOIN plan_revision r ON r.plan_id = p.id GROUP BY p.id, p.revision "
        "HAVING count(r.id) <> p.revision OR min(r.revision) <> 1 OR max(r.revision) <> p.revision"
    ),
    "plans whose last revision record is of another text": (
        "SELECT p.id FROM plan p JOIN plan_revision r ON r.plan_id = p.id AND r.revision = p.revision "
        "WHERE r.content_hash <> p.content_hash"
    ),
    "live measures whose text is not in the plan's stored text": (
        "SELECT m.id FROM measure m JOIN plan p ON p.id = m.plan_id WHERE m.kind = 'measure' "
        "AND NOT (m.facts ? 'removed_in_revision') AND strpos(p.source_text, m.body) = 0"
    ),
    "live measures without exactly one task": (
        "SELECT m.id FROM measure m LEFT JOIN task t ON t.measure_id = m.id AND t.parent_id IS NULL "
        "WHERE m.kind = 'measure' AND NOT (m.facts ? 'removed_in_revision') "
        "GROUP BY m.id HAVING count(t.id) <> 1"
    ),
    "tasks changed twice in one revision": (
        "SELECT task_id, data->>'plan_revision' FROM task_event WHERE kind IN ('measure_changed', "
        "'measure_removed') GROUP BY task_id, data->>'plan_revision' HAVING count(*) > 1"
    ),
}


def document(plan: int, variant: int) -> str:
    """Plan `plan`'s text as its `variant` has it: (三) reworded per variant, (四) only in even variants."""
    text = _HEADS[plan] + (
        "\n一、重点任务\n"
        "（一）推进燃煤锅炉整治。2026年12月底前完成燃煤锅炉淘汰改造。（自治区生态环境厅牵头）\n"
        "（二）加强扬尘管控。2026年6月底前出台施工扬尘管理办法。（自治区住房城乡建设厅牵头）\n"
        f"（三）强化监测能力。完善大气环境监测网络，建设第{variant}批监测站点。（自治区生态环境厅负责）\n"
    )
    if variant % 2 == 0:
        text += f"（四）开展第{variant}轮专项执法。2026年9月底前完成。（自治区生态环境厅牵头）\n"
    return text


@dataclass(frozen=True)
class Answer:
    """One upload: which plan and variant, the answer's status, its import status and revision."""

    plan: int
    variant: int
    explicit: bool
    status: int | None
    outcome: str
    plan_id: int | None
    revision: int | None
    seconds: float


def _post(client: httpx.Client, token: str, plan: int, variant: int, revises: int | None) -> Answer:
    began = time.monotonic()
    body: dict[str, Any] = {"text": document(plan, variant), "name": f"方案{plan}.txt"}
    if revises is not None:
        body["revises"] = revises
    try:
        response = client.post("/api/v1/plans", json=body, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as error:
        return Answer(
            plan, variant, revises is not None, None, type(error).__name__, None, None, elapsed(began)
        )
    seconds = elapsed(began)
    answer = response.json() if response.headers.get("content-type", "").endswith("json") else {}
    if response.status_code in (200, 201):
        return Answer(
            plan,
            variant,
            revises is not None,
            response.status_code,
            str(answer["status"]),
            int(answer["plan"]["id"]),
            int(answer["revision"]),
            seconds,
        )
    return Answer(
        plan, variant, revises is not None, response.status_code, str(answer.get("code")), None, None, seconds
    )


def _duplicates(base_url: str, token: str) -> list[Answer]:
    """Every client posts variant 0 of plan `client % PLANS`, all released at once."""
    answers: list[Answer] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        with httpx.Client(base_url=base_url, timeout=TIMEOUT) as http:
            barrier.wait()
            answer = _post(http, token, n % PLANS, 0, None)
        with lock:
            answers.append(answer)

    _run_threads(client)
    return answers


def _revisions(base_url: str, token: str, plan_ids: dict[int, int]) -> list[Answer]:
    """Every client posts random variants of random plans (a share naming the plan) for DURATION."""
    answers: list[Answer] = []
    lock = threading.Lock()
    stop = time.monotonic() + DURATION

    def client(n: int) -> None:
        rng = random.Random(20251013 + n)
        with httpx.Client(base_url=base_url, timeout=TIMEOUT) as http:
            while time.monotonic() < stop:
                plan = rng.randrange(PLANS)
                revises = plan_ids.get(plan) if rng.random() < EXPLICIT_SHARE else None
                answer = _post(http, token, plan, rng.randrange(VARIANTS), revises)
                with lock:
                    answers.append(answer)

    _run_threads(client)
    return answers


def _run_threads(target: Any) -> None:
    threads = [threading.Thread(target=target, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DURATION + TIMEOUT * 2)


def _numbering(answers: list[Answer]) -> tuple[list[str], dict[tuple[int, int], str]]:
    """Revision numbers answered twice or skipped per plan, and the text hash each (plan, revision) got."""
    problems: list[str] = []
    by_plan: dict[int, list[int]] = defaultdict(list)
    texts: dict[tuple[int, int], str] = {}
    for answer in answers:
        if answer.outcome in ("created", "revised") and answer.plan_id and answer.revision:
            by_plan[answer.plan_id].append(answer.revision)
            texts[(answer.plan_id, answer.revision)] = content_hash(document(answer.plan, answer.variant))
    for plan_id, numbers in by_plan.items():
        twice = sorted(n for n, count in Counter(numbers).items() if count > 1)
        if twice:
            problems.append(f"plan {plan_id}: revisions {twice} answered more than once")
        if sorted(numbers) != list(range(1, max(numbers) + 1)):
            problems.append(f"plan {plan_id}: revisions answered {sorted(set(numbers))} skip a number")
    return problems, texts


def _check(engine: Engine, texts: dict[tuple[int, int], str]) -> dict[str, int]:
    """The check queries, the revision records against the answers, each plan's text against its measures."""
    found: dict[str, int] = {}
    with engine.connect() as conn:
        for name, query in CHECKS.items():
            found[name] = len(conn.execute(sa.text(query)).all())
        records = {
            (int(row.plan_id), int(row.revision)): str(row.content_hash)
            for row in conn.execute(sa.text("SELECT plan_id, revision, content_hash FROM plan_revision"))
        }
        plan_ids = [int(row[0]) for row in conn.execute(sa.text("SELECT id FROM plan"))]
    found["revision records not of the text their answer revised"] = sum(
        1 for key, digest in texts.items() if records.get(key) != digest
    )
    with Session(engine) as session:
        found["plans whose measures disagree with their re-read text"] = sum(
            1 for plan_id in plan_ids if revision_inconsistencies(session, plan_id)
        )
    found["plans"] = len(plan_ids)
    return found


def run(ctx: Context, outcome: Outcome) -> None:
    """Duplicates at once, then revisions for DURATION, then the checks."""
    outcome.tried = (
        f"`duban run` (the API) on the private PostgreSQL; {CLIENTS} clients post {PLANS} documents (two "
        f"with the same title and different 文号, one with an issuer only, two with a title only), "
        f"{CLIENTS // PLANS} copies of each released at once; then for {DURATION:.0f} s every client posts "
        f"random ones of {VARIANTS} different revisions of them ({EXPLICIT_SHARE:.0%} with "
        "`revises=<plan id>`) without pause. Checked: no 5xx; one 201 per document, the other copies 200 "
        "`unchanged` (or 409) naming the same plan; every revision number answered once and none skipped; "
        "each revision record holds the text its answer revised; check queries on plan_revision, measure, "
        "task and task_event; each plan's measures as the parser reads its stored text."
    )
    url, engine = ctx.database(NAME)
    token = make_users(engine).office
    folder = ctx.scratch / NAME
    port = free_port()
    api = start_api(ctx.env(url, folder), folder / "api.log", port)
    base_url = f"http://{HOST}:{port}"
    started = time.monotonic()
    try:
        first = _duplicates(base_url, token)
        plan_ids = {a.plan: a.plan_id for a in first if a.plan_id is not None}
        later = _revisions(base_url, token, plan_ids)
    finally:
        api.stop()
    answers = first + later
    statuses = Counter(str(a.status) for a in answers)
    created = Counter(a.plan for a in first if a.status == 201)
    same_plan = all(
        len({a.plan_id for a in first if a.plan == plan and a.plan_id is not None}) == 1
        for plan in range(PLANS)
    )
    numbering, texts = _numbering(answers)
    checks = _check(engine, texts)
    server_errors = [a for a in answers if a.status is None or a.status >= 500]
    outcome.note(
        f"{CLIENTS} copies at once: answers {dict(Counter(str(a.status) for a in first))}; one 201 per "
        f"document: {dict(sorted(created.items()))}; the other copies named the same plan: {same_plan}"
    )
    outcome.note(
        f"{len(later)} revision uploads in {DURATION:.0f} s: imports "
        f"{dict(Counter(a.outcome for a in later))}, {sum(1 for a in later if a.explicit)} with revises; "
        f"highest revision {max((a.revision or 0 for a in answers), default=0)}"
    )
    outcome.note("check queries: " + "; ".join(f"{name} {count}" for name, count in checks.items()))
    durations = sorted(a.seconds for a in answers)
    outcome.figure("requests", len(answers))
    outcome.figure("5xx", len(server_errors))
    outcome.figure("answers by status", dict(sorted(statuses.items())))
    outcome.figure("revisions recorded", len(texts))
    outcome.figure("revision numbers answered twice or skipped", len(numbering))
    for name, count in checks.items():
        outcome.figure(name, count)
    outcome.figure("slowest answer (s)", round(durations[-1], 1) if durations else 0.0)
    outcome.figure("seconds", round(elapsed(started), 1))
    if server_errors:
        outcome.failures.append(
            f"{len(server_errors)} answers 5xx or none; the API logged: {server_error(folder / 'api.log')}"
        )
    outcome.check(set(statuses) <= {"200", "201", "409"}, f"unexpected answers {dict(statuses)}")
    outcome.check(created == Counter(range(PLANS)), f"201s per document at once: {dict(created)}")
    outcome.check(same_plan, "copies of one document answered different plans")
    outcome.failures.extend(numbering)
    outcome.check(checks.pop("plans") == PLANS, f"{PLANS} documents made another number of plans")
    for name, count in checks.items():
        outcome.check(count == 0, f"{name}: {count}")
