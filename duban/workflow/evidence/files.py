"""Evidence files: stored (bytes first, then the row in the caller's transaction), attached to records, read.

The bytes go into the content-addressed store before the request commits; the row and its links commit with
the request. A failed commit leaves only bytes no row names, which `remove_orphans` deletes after a grace
period — never a row without its file. Requests never delete bytes: another request may be about to name
the same digest.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock
from duban.core.filestore import FileStore, StoreLimitExceeded
from duban.tasks.enums import TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Department, Task
from duban.workflow.errors import ActionForbidden, RecordNotAllowed, WorkflowError
from duban.workflow.evidence.kinds import KINDS, EvidenceKind, sniff_file
from duban.workflow.evidence.models import ContributionWaiver, EvidenceFile, EvidenceLink
from duban.workflow.machines import Actor
from duban.workflow.service import TaskHeader, ensure_visible, load_header

task_t: Final = Task.__table__  # type: ignore[attr-defined]
file_t: Final = EvidenceFile.__table__  # type: ignore[attr-defined]
link_t: Final = EvidenceLink.__table__  # type: ignore[attr-defined]
waiver_t: Final = ContributionWaiver.__table__  # type: ignore[attr-defined]
department_t: Final = Department.__table__  # type: ignore[attr-defined]

RECORD_KINDS: Final = ("report", "extension")
UPLOAD_STATES: Final = frozenset({TaskState.assigned, TaskState.in_progress, TaskState.returned})
MAX_FILES_PER_RECORD: Final = 20
ACCEPTED_ZH: Final = "PDF、JPEG/PNG 图片、Word（.docx）、Excel（.xlsx）、WPS（.wps/.et）、OFD 或 ZIP"


class EvidenceError(WorkflowError):
    """An evidence file that cannot be taken (the subclasses carry the HTTP status)."""

    code = "evidence_invalid"


class EvidenceTooLarge(EvidenceError):
    """A file over the per-file limit, or one that would take the task over its total (413)."""

    code = "file_too_large"


class EvidenceKindRefused(EvidenceError):
    """Bytes that are none of the accepted kinds, whatever the name says (415)."""

    code = "file_kind_refused"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bytes allowed per file and per task (settings `DUBAN_EVIDENCE_MAX_FILE_BYTES` / `…_TASK_BYTES`)."""

    per_file: int
    per_task: int


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} 字节"


def upload(
    session: Session,
    store: FileStore,
    task_id: int,
    actor: Actor,
    name: str,
    source: BinaryIO,
    limits: Limits,
) -> EvidenceFile:
    """Store one uploaded file of a task (the lead or a cooperating unit, task open) and add its row."""
    header = load_header(session, task_id)
    relation = ensure_visible(actor, header)
    if relation not in ("lead", "cooperating"):
        raise ActionForbidden(
            "佐证材料由牵头单位或配合单位上传", "Evidence is uploaded by the lead or a cooperating unit"
        )
    if header.state not in UPLOAD_STATES:
        raise RecordNotAllowed(
            f"任务当前为“{header.state.label}”，不能再上传佐证材料",
            f"The task is {header.state.value}; evidence is accepted while it is assigned, in_progress "
            "or returned",
            code="evidence_not_allowed",
            state=header.state.value,
        )
    try:
        stored = store.put(source, limit=limits.per_file)
    except StoreLimitExceeded:
        raise EvidenceTooLarge(
            f"文件“{name}”超过单个文件 {_mb(limits.per_file)} 的上限",
            f"The file exceeds the limit of {limits.per_file} bytes per file",
            limit=limits.per_file,
        ) from None
    if stored.size == 0:
        raise EvidenceKindRefused("文件为空", "The file is empty", code="file_empty")
    with store.open(stored.sha256) as handle:
        kind = sniff_file(handle)
    if kind is None:
        raise EvidenceKindRefused(
            f"“{name}”不是可接受的佐证材料格式（按文件内容判断，而非扩展名）；请提供 {ACCEPTED_ZH}",
            "The file is none of the accepted kinds (told from its bytes, not its name): PDF, JPEG/PNG, "
            ".docx, .xlsx, .wps/.et, .ofd or .zip",
            accepted=sorted(KINDS),
        )
    conn = session.connection()
    # One upload at a time per task from here to commit (PostgreSQL), so two cannot both pass the total.
    conn.execute(sa.select(task_t.c.id).where(task_t.c.id == task_id).with_for_update())
    used = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(file_t.c.size), 0)).where(file_t.c.task_id == task_id)
    ).scalar_one()
    if int(used) + stored.size > limits.per_task:
        raise EvidenceTooLarge(
            f"此任务的佐证材料合计将超过 {_mb(limits.per_task)} 上限（已有 {_mb(int(used))}）",
            f"The task's evidence would exceed {limits.per_task} bytes in all ({used} used)",
            code="task_files_too_large",
            limit=limits.per_task,
            used=int(used),
        )
    row = EvidenceFile(
        task_id=task_id,
        sha256=stored.sha256,
        size=stored.size,
        kind=kind.name,
        media_type=kind.media_type,
        name=name,
        department_id=actor.department_id,
        uploaded_by_user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    return row


def attach(
    session: Session,
    task_id: int,
    actor: Actor,
    file_ids: Sequence[int],
    record_kind: str,
    record_id: int,
) -> int:
    """Link the caller's department's files of this task to a record; 422 for any other id."""
    ids = sorted(set(file_ids))
    if not ids:
        return 0
    if len(ids) > MAX_FILES_PER_RECORD:
        raise EvidenceError(
            f"每次报送最多附 {MAX_FILES_PER_RECORD} 个文件",
            f"At most {MAX_FILES_PER_RECORD} files per record",
            code="too_many_files_attached",
        )
    conn = session.connection()
    found = {
        row.id
        for row in conn.execute(
            sa.select(file_t.c.id).where(
                file_t.c.id.in_(ids),
                file_t.c.task_id == task_id,
                file_t.c.department_id == actor.department_id,
            )
        )
    }
    unknown = [file_id for file_id in ids if file_id not in found]
    if unknown:
        raise EvidenceError(
            f"文件 {', '.join(map(str, unknown))} 不是本单位为此任务上传的佐证材料",
            f"Files {', '.join(map(str, unknown))} are not evidence your department uploaded for this task",
            code="unknown_files",
            file_ids=unknown,
        )
    conn.execute(
        link_t.insert(), [{"file_id": i, "record_kind": record_kind, "record_id": record_id} for i in ids]
    )
    return len(ids)


def pending_files(session: Session, task_id: int, department_id: int | None) -> list[int]:
    """The files a department uploaded for the task that no record carries yet (oldest first)."""
    attached = sa.select(link_t.c.id).where(link_t.c.file_id == file_t.c.id)
    rows = session.connection().execute(
        sa.select(file_t.c.id)
        .where(file_t.c.task_id == task_id, file_t.c.department_id == department_id, ~attached.exists())
        .order_by(file_t.c.id)
        .limit(MAX_FILES_PER_RECORD)
    )
    return [row.id for row in rows]


def record_waivers(
    session: Session, task_id: int, header: TaskHeader, report_id: int, reasons: Mapping[int, str]
) -> None:
    """The lead's written reasons for cooperating units whose contribution is missing (422 for others)."""
    if not reasons:
        return
    strangers = sorted(set(reasons) - header.cooperating_ids)
    if strangers:
        raise EvidenceError(
            "只能为本任务的配合单位说明未报送原因",
            "Reasons for missing contributions name only the task's cooperating units",
            code="not_cooperating",
            department_ids=strangers,
        )
    now = clock.now()
    session.connection().execute(
        waiver_t.insert(),
        [
            {"task_id": task_id, "report_id": report_id, "department_id": d, "reason": r, "created_at": now}
            for d, r in sorted(reasons.items())
        ],
    )


def task_files(session: Session, task_id: int) -> list[EvidenceFile]:
    """Every evidence file of a task, oldest first."""
    rows = session.connection().execute(
        sa.select(file_t).where(file_t.c.task_id == task_id).order_by(file_t.c.id)
    )
    return [EvidenceFile.model_validate(dict(row._mapping)) for row in rows]


def links_of(session: Session, file_ids: Iterable[int]) -> dict[int, list[tuple[str, int]]]:
    """The records each file is attached to."""
    ids = sorted(set(file_ids))
    found: dict[int, list[tuple[str, int]]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.connection().execute(
        sa.select(link_t.c.file_id, link_t.c.record_kind, link_t.c.record_id)
        .where(link_t.c.file_id.in_(ids))
        .order_by(link_t.c.id)
    )
    for row in rows:
        found[row.file_id].append((row.record_kind, row.record_id))
    return found


def files_of_records(session: Session, record_kind: str, record_ids: Iterable[int]) -> dict[int, list[int]]:
    """The file ids attached to each record of a kind."""
    ids = sorted(set(record_ids))
    found: dict[int, list[int]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.connection().execute(
        sa.select(link_t.c.record_id, link_t.c.file_id)
        .where(link_t.c.record_kind == record_kind, link_t.c.record_id.in_(ids))
        .order_by(link_t.c.file_id)
    )
    for row in rows:
        found[row.record_id].append(row.file_id)
    return found


def file_row(session: Session, file_id: int) -> EvidenceFile:
    """One evidence file's row (404 when there is none)."""
    row = session.connection().execute(sa.select(file_t).where(file_t.c.id == file_id)).first()
    if row is None:
        raise NotFoundError(f"文件 {file_id} 不存在", f"File {file_id} does not exist", code="not_found")
    return EvidenceFile.model_validate(dict(row._mapping))


def kind_of_file(row: EvidenceFile) -> EvidenceKind:
    """The recognised kind a row was stored as."""
    return KINDS[row.kind]


def remove_orphans(session: Session, store: FileStore, grace: dt.timedelta) -> int:
    """Delete stored bytes that no row names and that are older than `grace` (a failed request's upload)."""
    cutoff = time.time() - grace.total_seconds()
    candidates = [digest for digest, stored_at in store.digests() if stored_at < cutoff]
    removed = 0
    conn = session.connection()
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        named = {row[0] for row in conn.execute(sa.select(file_t.c.sha256).where(file_t.c.sha256.in_(chunk)))}
        for digest in chunk:
            # a put of the same bytes since the listing refreshed the time: kept
            if digest not in named and store.delete(digest, older_than=cutoff):
                removed += 1
    return removed


def department_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Department names by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.connection().execute(
        sa.select(department_t.c.id, department_t.c.name).where(department_t.c.id.in_(wanted))
    )
    return {row.id: row.name for row in rows}


def as_json(row: EvidenceFile, links: Sequence[tuple[str, int]] = ()) -> dict[str, Any]:
    """A file's row with its kind's label and the records it is attached to."""
    return {
        **row.model_dump(),
        "label": kind_of_file(row).label,
        "records": [{"kind": kind, "id": record_id} for kind, record_id in links],
    }
