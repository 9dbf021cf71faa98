"""The review benchmark's child: a fresh embedded runtime with the 十三五 plan imported, then the review page
timed in process (prints one JSON object)."""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

PLAN = "十三五"
PASSWORD = "bench-review-pass-1"  # noqa: S105  (a throwaway account in a scratch database)


def median_of(requests: int, call: Callable[[], object]) -> float:
    """The median seconds of `requests` calls of `call`, after one warm-up call."""
    call()
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return float(statistics.median(times))


def main(runs: int, requests: int) -> None:
    """Import the plan, sign in as the office, then time the review page `runs` × `requests` times."""
    from duban import migrations
    from duban.api.app import create_app
    from duban.api.users import create_user
    from duban.core.config import PROJECT_ROOT, get_settings
    from duban.core.db import build_engine
    from duban.tasks.departments import load_departments
    from duban.tasks.enums import Role
    from duban.tasks.parser import decode_bytes, parse
    from duban.tasks.plan_tree import plan_tree
    from duban.tasks.plans import import_plan
    from duban.tasks.review import plan_units, review_list

    settings = get_settings()
    migrations.upgrade(settings.database_url)
    engine = build_engine(settings.database_url)
    file = next((PROJECT_ROOT / "examples" / "plans").glob(f"*{PLAN}*.txt"))
    text = decode_bytes(file.read_bytes(), file.name)
    document = parse(text)
    with Session(engine) as session:
        load_departments(session)
        imported = import_plan(session, text, document, file.name)
        create_user(session, "bench-office", Role.office, PASSWORD)
        session.commit()
        plan_id = imported.plan_id
        tasks = len(review_list(session, plan_id).items)

    def reads() -> None:
        with Session(engine) as session:
            review = review_list(session, plan_id)
            plan_tree(session, plan_id, review)
            plan_units(session, plan_id)

    results: dict[str, list[float]] = {"review": [], "login": [], "reads": []}
    size = 0
    with TestClient(create_app(), follow_redirects=False) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        signed = client.post(
            "/login",
            data={"username": "bench-office", "password": PASSWORD, "csrf_token": token.group(1), "next": ""},
        )
        assert signed.status_code == 303, signed.text[:500]
        opened = client.get(f"/plans/{plan_id}")
        assert opened.status_code == 200 and "第一章" in opened.text, opened.text[:500]

        def page() -> object:
            nonlocal size
            response = client.get(f"/plans/{plan_id}")
            assert response.status_code == 200, response.text[:500]
            size = len(response.content)
            return response

        def login() -> object:
            response = client.get("/login")
            assert response.status_code == 200
            return response

        for _ in range(runs):
            results["review"].append(median_of(requests, page))
            results["login"].append(median_of(requests, login))
            results["reads"].append(median_of(requests, reads))
    engine.dispose()
    print(
        json.dumps(
            {
                **results,
                "measures": len(document.measures),
                "tasks": tasks,
                "bytes": size,
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
