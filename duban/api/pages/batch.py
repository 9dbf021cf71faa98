"""What the pages' batch forms share: the ticked rows as batch items, and the report of a batch that
names every refused row and why (shown on the list it was sent from)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from duban.api.deps import MAX_ID
from duban.api.pages.web import FormInvalid
from duban.tasks.models import Task
from duban.workflow.batch import MAX_BATCH_ITEMS, BatchItem, ItemFailed, ItemResult


@dataclass(frozen=True, slots=True)
class RowRefused:
    """A row the batch could not act on, and why (中文 / English)."""

    task_id: int
    title: str
    why_zh: str
    why_en: str


@dataclass(frozen=True, slots=True)
class BatchReport:
    """How a batch went: how many rows moved, and each refused row."""

    action_zh: str
    done: int
    refused: list[RowRefused] = field(default_factory=list)

    @property
    def refused_ids(self) -> set[int]:
        """The refused rows' task ids (to mark them in the table)."""
        return {row.task_id for row in self.refused}


def selected_items(form: FormData) -> list[BatchItem]:
    """The ticked rows (`task` = "id:version"), in order, each once; FormInvalid when none or too many."""
    items: dict[int, BatchItem] = {}
    for raw in form.getlist("task"):
        task, _, version = str(raw).partition(":")
        if not task.isdigit() or int(task) > MAX_ID or (version and not version.isdigit()):
            raise FormInvalid("选择的任务无效", "A selected task is not valid", field="task")
        expected = int(version) if version and int(version) <= MAX_ID else None
        items.setdefault(int(task), BatchItem(int(task), expected))
    if not items:
        raise FormInvalid("请先勾选要办理的任务", "Select the tasks first", field="task")
    if len(items) > MAX_BATCH_ITEMS:
        raise FormInvalid(
            f"一次最多办理 {MAX_BATCH_ITEMS} 项任务", f"At most {MAX_BATCH_ITEMS} tasks at once", field="task"
        )
    return list(items.values())


def report_of(session: Session, action_zh: str, results: list[ItemResult]) -> BatchReport:
    """The report of a batch, with the refused rows' titles (one query)."""
    failed = [r for r in results if isinstance(r, ItemFailed)]
    titles = dict(
        session.exec(select(Task.id, Task.title).where(col(Task.id).in_([r.task_id for r in failed]))).all()
        if failed
        else []
    )
    refused = [
        RowRefused(r.task_id, titles.get(r.task_id, f"#{r.task_id}"), r.error.message_zh, r.error.message_en)
        for r in failed
    ]
    return BatchReport(action_zh, len(results) - len(failed), refused)
