"""The task page's 办结报送 under the bundled policy: without what 办结 needs, the page names what is missing
(Chinese, English on the switch) and the task stays as it was; with it, the task is submitted."""

from __future__ import annotations

import io
from collections.abc import Callable

from sqlmodel import Session

from duban.core.filestore import configured_store
from duban.tasks.enums import TaskState
from duban.tasks.models import Task
from duban.workflow.evidence.files import upload
from duban.workflow.service import load_header
from tests.api.pages.helpers import PageClient, text_of
from tests.fixtures.evidence import READY_LIMITS, pdf_bytes, ready_to_submit
from tests.fixtures.tasks import TaskWorld


def _state(session: Session, task_id: int) -> TaskState:
    task = session.get(Task, task_id, populate_existing=True)
    assert task is not None
    return task.state


def test_submitting_without_what_completion_needs_shows_what_is_missing(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task_id = world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    reported = lead.post(f"/tasks/{task_id}/progress", {"form": "progress", "percent": "60", "text": "过半"})
    assert reported.status_code == 303
    refused = lead.post(f"/tasks/{task_id}/actions/submit", {})
    assert refused.status_code == 422
    page = text_of(refused.text)
    assert "办结报送前还须：报送完成 100% 的最终进展（最近一次为 60%）" in page
    assert "随报送上传至少 1 份佐证材料（现有 0 份）" in page
    assert "配合单位“自治区发展改革委”的配合情况，或牵头单位对每个未报送单位的书面说明" in page
    assert _state(world.session, task_id) is TaskState.in_progress
    lead.get("/lang/en", next=f"/tasks/{task_id}")
    english = text_of(lead.post(f"/tasks/{task_id}/actions/submit", {}).text)
    assert "Before submitting for completion: a final progress report at 100%" in english
    assert "at least 1 evidence file(s) with the reports (0 so far)" in english
    assert "办结报送前还须" not in english
    ready_to_submit(world.session, task_id, world.actor("lead"))
    world.session.flush()
    submitted = lead.post(f"/tasks/{task_id}/actions/submit", {})
    assert submitted.status_code == 303
    assert _state(world.session, task_id) is TaskState.submitted


def test_the_lead_explains_a_silent_cooperating_unit_on_the_progress_form(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task_id = world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    form = lead.get(f"/tasks/{task_id}")
    (silent,) = sorted(load_header(world.session, task_id).cooperating_ids)
    assert f'name="missing_{silent}"' in form.text
    assert "配合单位未报送配合情况的说明（办结前须逐一说明）" in text_of(form.text)
    upload(  # uploaded beforehand: the next report takes it
        world.session,
        configured_store(),
        task_id,
        world.actor("lead"),
        "验收报告.pdf",
        io.BytesIO(pdf_bytes()),
        READY_LIMITS,
    )
    world.session.flush()
    reported = lead.post(
        f"/tasks/{task_id}/progress",
        {"form": "progress", "percent": "100", "text": "全部完成", f"missing_{silent}": "本期无需配合"},
    )
    assert reported.status_code == 303
    assert f'name="missing_{silent}"' not in lead.get(f"/tasks/{task_id}").text  # explained: no longer asked
    submitted = lead.post(f"/tasks/{task_id}/actions/submit", {})
    assert submitted.status_code == 303, text_of(submitted.text)
    assert _state(world.session, task_id) is TaskState.submitted
