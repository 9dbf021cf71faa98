"""Beat removes evidence bytes that no row names (a request that failed after storing them), after a grace."""

from __future__ import annotations

import io
import os
import time

from sqlmodel import Session

from duban.core.config import get_settings
from duban.core.filestore import LocalFileStore
from duban.notifications.celery_app import beat_schedule
from duban.notifications.jobs import remove_orphaned_files_job
from tests.fixtures.evidence import pdf_bytes


def test_the_job_removes_old_orphans_and_beat_runs_it(session: Session) -> None:
    root = get_settings().files_dir
    assert root is not None
    store = LocalFileStore(root)
    orphan = store.put(io.BytesIO(pdf_bytes("孤立的上传")), limit=1 << 20)
    recent = store.put(io.BytesIO(pdf_bytes("刚刚上传")), limit=1 << 20)
    old = time.time() - 3 * 86_400
    os.utime(store.path_of(orphan.sha256), (old, old))
    assert remove_orphaned_files_job.run() >= 1
    assert not store.exists(orphan.sha256) and store.exists(recent.sha256)
    entry = beat_schedule(get_settings())["duban-evidence-orphans"]
    assert entry["task"] == "duban.remove_orphaned_files"
