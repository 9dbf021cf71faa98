"""Delivering outbox rows: claim (a lease), render, send, mark — and the relay that re-queues what is due.

A job's rows are claimed CLAIM_BATCH at a time, each chunk in its own short transaction (status
`sending`, attempts + 1, a lease in next_attempt_at) just before its rows leave, and each row is marked
`sent` as soon as it has gone. A worker killed in between leaves the row `sending`; once the lease runs
out the relay queues it again and it goes out with the same Message-ID — the only way a message can
repeat, besides a send still under way when its lease runs out (a worker that finds its lease over claims
the rest of the chunk again rather than send under it). Nothing is sent outside office hours of working
days.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock, jobs
from duban.core.config import Settings, get_settings
from duban.core.db import session_scope
from duban.notifications.attachments import with_notice_pdf
from duban.notifications.calendars import working_calendar
from duban.notifications.channels import (
    SENDER_NAME,
    DeliveryFailed,
    MailTransport,
    build_email,
    message_id,
    send_webhook,
)
from duban.notifications.messages import (
    freeze_digests,
    is_obsolete,
    item_of,
    load_items,
    outbox_t,
    subject_of,
)
from duban.notifications.models import Channel, OutboxKind, OutboxStatus
from duban.notifications.render import Rendered, render
from duban.notifications.schedule import next_opening, office_open
from duban.tasks.models import Department
from duban.workflow.calendar import WorkingCalendar

log = logging.getLogger("duban.delivery")

department_t: Final = Department.__table__  # type: ignore[attr-defined]
LEASE: Final = dt.timedelta(minutes=5)
REQUEUE_AFTER: Final = dt.timedelta(minutes=10)
MAX_ATTEMPTS: Final = 8
RELAY_LIMIT: Final = 10_000
DELIVER_JOB: Final = "duban.deliver"
# Rows per lease: a `deliver` call (a job, or the CLI's --deliver of up to RELAY_LIMIT rows) claims its ids
# this many at a time, so a lease never covers more than one SMTP connection sends well within LEASE. Rows
# of a later chunk may be queued again by the relay meanwhile (REQUEUE_AFTER): harmless, the claim takes a
# row only while it is pending (or its lease is over), in one UPDATE, so one job sends it.
CLAIM_BATCH: Final = 20
# Ids per `duban.deliver` job (one broker message each). Larger jobs would cost the sweep's commit fewer
# broker messages, but a killed worker would strand more unclaimed rows until REQUEUE_AFTER, and the
# kill and fault tests' drains would need to wait for idle workers first (bench/analysis/sweep.md).
DELIVER_BATCH: Final = CLAIM_BATCH
FINAL: Final = (OutboxStatus.sent.value, OutboxStatus.failed.value, OutboxStatus.skipped.value)
SECTIONS: Final = (
    (3, "督办事项", "#cf222e"),
    (2, "催办事项", "#bc4c00"),
    (1, "提醒事项", "#0969da"),
    (0, "通知事项", "#57606a"),
)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt `attempts` + 1: 1, 2, 4 … minutes, at most 6 hours."""
    return dt.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))


def deliverable() -> sa.ColumnElement[bool]:
    """Rows mailed on their own: digests, weekly summaries, immediate notices (not digest items)."""
    return sa.or_(outbox_t.c.kind != OutboxKind.notice.value, outbox_t.c.delivery == "immediate")


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this worker holds the lease on, rendered and ready to send."""

    id: int
    channel: str
    recipient: str
    secret: str | None
    message_id: str
    attempts: int
    rendered: Rendered


def _departments(session: Session, ids: Iterable[int | None]) -> dict[int, tuple[str, str | None]]:
    """Name and webhook secret of each department, in one query."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.connection().execute(
        sa.select(department_t.c.id, department_t.c.name, department_t.c.webhook_secret).where(
            department_t.c.id.in_(wanted)
        )
    )
    return {row.id: (row.name, row.webhook_secret) for row in rows}


def digest_sections(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items grouped by urgency, 督办 on top."""
    sections = []
    for low, title, colour in SECTIONS:
        high = min((edge for edge, _, _ in SECTIONS if edge > low), default=None)
        chosen = [i for i in items if i["urgency"] >= low and (high is None or i["urgency"] < high)]
        if chosen:
            sections.append({"title": title, "colour": colour, "entries": chosen})
    return sections


def render_row(
    row: Mapping[str, Any],
    item_row: Mapping[str, Any] | None,
    recipient_name: str,
    calendar: WorkingCalendar,
    settings: Settings | None = None,
) -> Rendered | None:
    """The message of an outbox row (None when a notice is obsolete, or a digest lists nothing current);
    `item_row` comes from load_items, a digest's items from its frozen payload (`freeze_digests`)."""
    config = settings or get_settings()
    robot = row["channel"] == Channel.webhook.value
    common = {
        "recipient_name": recipient_name or "各有关单位",
        "sender_name": SENDER_NAME,
        "message_ref": str(row["id"]),
    }
    if row["kind"] == OutboxKind.notice.value:
        if item_row is None or is_obsolete(item_row):
            return None
        item = item_of(item_row, calendar, config.base_url)
        return render("notice", subject_of(item), {**common, "item": item}, markdown=robot)
    payload: dict[str, Any] = dict(row["payload"] or {})
    if row["kind"] == OutboxKind.digest.value:
        items = payload.get("items", [])
        if not items:
            return None
        board = payload.get("board_link") or f"{config.base_url.rstrip('/')}/tasks"
        # Items frozen before 0014 carry their link; since, it is the board's plus the task id.
        shown = [item if "link" in item else {**item, "link": f"{board}/{item['task_id']}"} for item in items]
        context = {
            **common,
            **payload,
            "recipient_name": payload.get("recipient_name") or common["recipient_name"],
            "items": shown,
            "sections": digest_sections(shown),
            "supervised_count": sum(1 for i in shown if i["urgency"] >= 3),
        }
        return render("digest", payload.get("subject", "督办摘要"), context, markdown=robot)
    return render("weekly", payload.get("subject", "每周督办汇总"), {**common, **payload}, markdown=robot)


def claim(session: Session, ids: Iterable[int], now: dt.datetime) -> tuple[list[Claimed], Counter[str]]:
    """Take the lease on the deliverable, due rows among `ids` and render them (one transaction).

    Returns the claimed rows and a count of what happened to the others (done, busy, deferred, …).
    """
    conn = session.connection()
    wanted = sorted({int(i) for i in ids})
    rows: dict[int, dict[str, Any]] = {
        row["id"]: dict(row)
        for row in conn.execute(sa.select(outbox_t).where(outbox_t.c.id.in_(wanted))).mappings()
    }
    outcomes: Counter[str] = Counter()
    eligible: list[dict[str, Any]] = []
    for outbox_id in wanted:
        row = rows.get(outbox_id)
        if row is None:
            outcomes["missing"] += 1
        elif row["status"] in FINAL or row["status"] == OutboxStatus.digested.value:
            outcomes["done"] += 1
        elif row["status"] == OutboxStatus.sending.value and row["next_attempt_at"] > now:
            outcomes["busy"] += 1
        elif row["kind"] == OutboxKind.notice.value and row["delivery"] != "immediate":
            outcomes["digest_item"] += 1
        else:
            eligible.append(row)
    if not eligible:
        return [], outcomes
    calendar = working_calendar(session)
    eligible_ids = [row["id"] for row in eligible]
    if not office_open(now, calendar):
        conn.execute(
            outbox_t.update()
            .where(outbox_t.c.id.in_(eligible_ids), outbox_t.c.status == OutboxStatus.pending.value)
            .values(next_attempt_at=next_opening(now, calendar), queued_at=None)
        )
        outcomes["deferred"] += len(eligible)
        return [], outcomes
    notices = [row["id"] for row in eligible if row["kind"] == OutboxKind.notice.value]
    items = (
        {item["id"]: item for item in load_items(session, [outbox_t.c.id.in_(notices)])} if notices else {}
    )
    departments = _departments(session, (row["department_id"] for row in eligible))
    names = {key: name for key, (name, _) in departments.items()}
    frozen = freeze_digests(session, eligible, names, calendar)
    eligible = [{**row, "payload": frozen[row["id"]]} if row["id"] in frozen else row for row in eligible]
    rendered: dict[int, Rendered] = {}
    obsolete: list[int] = []
    for row in eligible:
        name = departments.get(row["department_id"], ("", None))[0]
        message = render_row(row, items.get(row["id"]), name, calendar)
        if message is not None:  # a 督办单 mail carries the 督办单 itself as a PDF
            message = with_notice_pdf(session, row, items.get(row["id"]), message, calendar)
        if message is None:
            obsolete.append(row["id"])
        else:
            rendered[row["id"]] = message
    if obsolete:
        conn.execute(
            outbox_t.update()
            .where(outbox_t.c.id.in_(obsolete), outbox_t.c.status.not_in(FINAL))
            .values(status=OutboxStatus.skipped.value, last_error="任务已办结、撤销或改期 / obsolete")
        )
        outcomes["skipped"] += len(obsolete)
    if not rendered:
        return [], outcomes
    ids_by_message = {
        row["id"]: row["message_id"] or message_id(row["id"], row["dedupe_key"])
        for row in eligible
        if row["id"] in rendered
    }
    taken = conn.execute(
        outbox_t.update()
        .where(
            outbox_t.c.id.in_(list(rendered)),
            sa.or_(
                outbox_t.c.status == OutboxStatus.pending.value,
                sa.and_(outbox_t.c.status == OutboxStatus.sending.value, outbox_t.c.next_attempt_at <= now),
            ),
        )
        .values(
            status=OutboxStatus.sending.value,
            attempts=outbox_t.c.attempts + 1,
            next_attempt_at=now + LEASE,
            message_id=sa.case(ids_by_message, value=outbox_t.c.id, else_=outbox_t.c.message_id),
        )
        .returning(outbox_t.c.id, outbox_t.c.attempts)
    ).all()
    if len(taken) < len(rendered):
        outcomes["busy"] += len(rendered) - len(taken)
    freezing = [{"row_id": row_id, "frozen": frozen[row_id]} for row_id, _ in taken if row_id in frozen]
    if freezing:  # with the lease: a repeat renders these, never the rows again
        conn.execute(
            outbox_t.update()
            .where(outbox_t.c.id == sa.bindparam("row_id"))
            .values(payload=sa.bindparam("frozen", type_=outbox_t.c.payload.type)),
            freezing,
        )
    claimed = [
        Claimed(
            row_id,
            rows[row_id]["channel"],
            rows[row_id]["recipient"],
            departments.get(rows[row_id]["department_id"], ("", None))[1],
            ids_by_message[row_id],
            attempts,
            rendered[row_id],
        )
        for row_id, attempts in sorted(taken)
    ]
    return claimed, outcomes


def _record_failure(session: Session, claimed: Claimed, error: DeliveryFailed, now: dt.datetime) -> str:
    gave_up = bool(error.extra.get("permanent")) or claimed.attempts >= MAX_ATTEMPTS
    session.connection().execute(
        outbox_t.update()
        .where(outbox_t.c.id == claimed.id, outbox_t.c.status == OutboxStatus.sending.value)
        .values(
            status=(OutboxStatus.failed if gave_up else OutboxStatus.pending).value,
            next_attempt_at=now + backoff(claimed.attempts),
            queued_at=None,
            last_error=f"{error.message_zh} / {error.message_en}"[:2000],
        )
    )
    log.warning("outbox %s attempt %s failed (%s): %s", claimed.id, claimed.attempts, gave_up, error)
    return "failed" if gave_up else "retry"


def _send(claimed: Claimed, transport: MailTransport, now: dt.datetime) -> str:
    """Send one claimed row and record the outcome at once (so at most this row can repeat after a kill)."""
    try:
        if claimed.channel == Channel.webhook.value:
            send_webhook(claimed.recipient, claimed.secret, claimed.rendered, claimed.message_id)
        else:
            mail = build_email(claimed.rendered, claimed.recipient, claimed.message_id, claimed.id)
            transport.send(mail, claimed.id)
    except DeliveryFailed as error:
        with session_scope() as session:
            return _record_failure(session, claimed, error, now)
    with session_scope() as session:
        session.connection().execute(
            outbox_t.update()
            .where(outbox_t.c.id == claimed.id, outbox_t.c.status == OutboxStatus.sending.value)
            .values(status=OutboxStatus.sent.value, sent_at=clock.now(), last_error="")
        )
    return "sent"


def deliver(ids: Iterable[int], now: dt.datetime | None = None) -> Counter[str]:
    """Deliver rows a chunk at a time: claim CLAIM_BATCH (one transaction), send and mark them one by one,
    then claim the next; each lease starts at the clock when claimed, or at `now` for every chunk."""
    ordered = sorted({int(i) for i in ids})
    outcomes: Counter[str] = Counter()
    with MailTransport() as transport:  # one SMTP connection for the whole job
        while ordered:
            chunk, ordered = ordered[:CLAIM_BATCH], ordered[CLAIM_BATCH:]
            moment = now or clock.now()
            with session_scope() as session:
                claimed, counts = claim(session, chunk, moment)
            outcomes.update(counts)
            for position, row in enumerate(claimed):
                if (now or clock.now()) >= moment + LEASE:
                    # A slow server outlasted the lease: the relay may have handed these rows on, so
                    # they are claimed again (guarded on status) instead of sent under a lease now gone.
                    ordered = [held.id for held in claimed[position:]] + ordered
                    break
                outcomes[_send(row, transport, moment)] += 1
    return outcomes


def deliver_due(now: dt.datetime | None = None, limit: int = RELAY_LIMIT) -> Counter[str]:
    """Deliver, in this process, every deliverable row that is due (the CLI's --deliver and the tests)."""
    moment = now or clock.now()
    with session_scope() as session:
        ids = [
            row.id
            for row in session.connection().execute(
                sa.select(outbox_t.c.id)
                .where(
                    deliverable(),
                    outbox_t.c.status == OutboxStatus.pending.value,
                    outbox_t.c.next_attempt_at <= moment,
                )
                .order_by(outbox_t.c.id)
                .limit(limit)
            )
        ]
    # `now`, not `moment`: without one, each chunk's lease starts when it is claimed.
    return deliver(ids, now)


def enqueue_delivery(session: Session, ids: Sequence[int], now: dt.datetime, *, mark: bool = True) -> int:
    """Mark rows queued (unless they were written so: `mark=False`) and queue their delivery jobs (in
    batches) for after commit."""
    ordered = sorted(set(ids))
    conn = session.connection()
    for start in range(0, len(ordered) if mark else 0, 5000):
        conn.execute(
            outbox_t.update().where(outbox_t.c.id.in_(ordered[start : start + 5000])).values(queued_at=now)
        )
    for start in range(0, len(ordered), DELIVER_BATCH):
        jobs.enqueue(session, DELIVER_JOB, *ordered[start : start + DELIVER_BATCH])
    return len(ordered)


def relay(session: Session, now: dt.datetime | None = None, limit: int = RELAY_LIMIT) -> list[int]:
    """Queue again what is due and not in anyone's hands: new or retried rows, and expired leases."""
    moment = now or clock.now()
    if not office_open(moment, working_calendar(session)):
        return []
    conn = session.connection()
    due = sa.or_(
        sa.and_(
            outbox_t.c.status == OutboxStatus.pending.value,
            outbox_t.c.next_attempt_at <= moment,
            sa.or_(outbox_t.c.queued_at.is_(None), outbox_t.c.queued_at <= moment - REQUEUE_AFTER),
        ),
        sa.and_(outbox_t.c.status == OutboxStatus.sending.value, outbox_t.c.next_attempt_at <= moment),
    )
    ids = [
        row.id
        for row in conn.execute(
            sa.select(outbox_t.c.id).where(deliverable(), due).order_by(outbox_t.c.id).limit(limit)
        )
    ]
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        # An expired lease means the worker died mid-send: the row is pending again, same Message-ID.
        conn.execute(
            outbox_t.update()
            .where(
                outbox_t.c.id.in_(chunk),
                outbox_t.c.status == OutboxStatus.sending.value,
                outbox_t.c.next_attempt_at <= moment,
            )
            .values(status=OutboxStatus.pending.value)
        )
    enqueue_delivery(session, ids, moment)
    return ids
