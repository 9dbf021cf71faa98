"""The evidence benchmark's child: a fresh embedded runtime, then timed uploads (prints one JSON object)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session


def pdf(size: int, seed: int) -> bytes:
    """A PDF of `size` bytes whose content differs per `seed` (a stream of varying bytes)."""
    head = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    )
    filler = os.urandom(size - len(head) - 64) if seed >= 0 else b""
    body = head + b"3 0 obj<</Length %d>>stream\n" % len(filler) + filler + b"\nendstream endobj\n"
    return body + b"trailer<</Root 1 0 R>>\n%%EOF\n"


def main(runs: int, megabytes: int) -> None:
    """Seed a task in progress, then time `runs` multipart and raw uploads and the write+fsync floor."""
    from sqlmodel import select

    from duban import migrations
    from duban.api.app import create_app
    from duban.api.security import create_access_token
    from duban.api.users import create_user
    from duban.core.config import get_settings
    from duban.core.db import build_engine
    from duban.tasks.departments import load_departments
    from duban.tasks.enums import Role
    from duban.tasks.models import Task
    from duban.tasks.parser import parse
    from duban.tasks.plans import import_plan
    from duban.workflow.machines import Actor
    from duban.workflow.service import apply_action

    settings = get_settings()
    migrations.upgrade(settings.database_url)
    engine = build_engine(settings.database_url)
    text = "工作方案\n\n一、重点任务\n（一）推进燃煤锅炉整治。2026年年底前完成。（自治区生态环境厅牵头）\n"
    with Session(engine) as session:
        load_departments(session)
        plan_id = import_plan(session, text, parse(text), None).plan_id
        task = session.exec(select(Task).where(Task.plan_id == plan_id)).one()
        assert task.id is not None
        user = create_user(session, "bench-lead", Role.department, "bench-pass-1", "sthjt")
        apply_action(session, task.id, "issue", Actor(role=Role.office))
        apply_action(
            session, task.id, "accept", Actor(role=Role.department, department_id=user.department_id)
        )
        session.commit()
        task_id, user_id = task.id, user.id
    engine.dispose()
    assert user_id is not None
    headers = {"Authorization": f"Bearer {create_access_token(user_id)}"}
    size = megabytes * 1024 * 1024
    results: dict[str, list[float]] = {"multipart": [], "raw": [], "floor": []}
    with TestClient(create_app()) as client:
        for round_ in range(runs):
            data = pdf(size, round_)
            began = time.perf_counter()
            sent = client.post(
                f"/api/v1/tasks/{task_id}/files",
                files={"file": ("验收报告.pdf", data, "application/pdf")},
                headers=headers,
            )
            results["multipart"].append(time.perf_counter() - began)
            assert sent.status_code == 201, sent.text
            raw = pdf(size, round_ + 1000)
            began = time.perf_counter()
            sent = client.post(
                f"/api/v1/tasks/{task_id}/files",
                content=raw,
                headers={**headers, "Content-Type": "application/octet-stream", "X-Filename": "report.pdf"},
            )
            results["raw"].append(time.perf_counter() - began)
            assert sent.status_code == 201, sent.text
            floor = Path(settings.var_dir) / f"floor-{round_}.bin"
            began = time.perf_counter()
            with floor.open("wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            results["floor"].append(time.perf_counter() - began)
            floor.unlink()
    files_dir = settings.files_dir
    assert files_dir is not None
    stored = sum(1 for p in files_dir.glob("??/??/*"))
    print(json.dumps({**results, "stored": stored}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
