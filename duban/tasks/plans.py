"""Plan import: a parsed document becomes a plan — or a revision of one — with its outline, targets and one
draft task per measure.

Which plan a document is comes from its identity (`duban.tasks.plan_identity`: 文号 + issuer + title, +
date; the title alone only when the document gives neither), or from the office (`revises=<plan id>`).
Idempotent on the content hash; a revision updates the plan in place and reports the measures added,
removed and changed, never duplicating a task (`duban.tasks.plan_revise`), and writes one revision record.

Imports of one identity and revisions of one plan are serialised: an advisory lock on the identity's key
and `SELECT … FOR UPDATE` on the plan's row on PostgreSQL; on SQLite every writing transaction is
(BEGIN IMMEDIATE). Two uploads of one document at once: the second waits, then finds it `unchanged`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from duban.core.config import get_settings
from duban.tasks.errors import NotFoundError, PlanTooLarge
from duban.tasks.models import Plan, PlanRevision
from duban.tasks.parser import ParsedPlan, to_json_dict
from duban.tasks.plan_identity import (
    PlanIdentity,
    Reason,
    apply_identity,
    identity_of,
    identity_taken,
    import_conflict,
    lock_identity,
    plan_for_update,
    plan_holding,
    reason_created,
    reason_explicit,
    reason_revised,
    reason_unchanged,
    similar_plans,
)
from duban.tasks.plan_outline import fill_plan, insert_outline, insert_targets, path_key, planner
from duban.tasks.plan_revise import Diff, live_measures, revise
from duban.tasks.registry import Registry, default_registry

ImportStatus = Literal["created", "unchanged", "revised"]


@dataclass
class ImportResult:
    """What an import did, to which plan, and why that plan."""

    plan_id: int
    key: str
    status: ImportStatus
    revision: int
    measures: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    reason: Reason | None = None
    identity: PlanIdentity | None = None


def content_hash(text: str) -> str:
    """Hash of a document's text, insensitive to line-ending and trailing-space noise."""
    normalised = "\n".join(
        line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    )
    return hashlib.sha256(normalised.strip().encode("utf-8")).hexdigest()


def plan_key(parsed: ParsedPlan, source_name: str | None, digest: str) -> str:
    """The natural key of a plan: the key of its identity (文号 + issuer + title, …, else its content)."""
    return identity_of(parsed, source_name, digest).key


def import_plan(
    session: Session,
    text: str,
    parsed: ParsedPlan,
    source_name: str | None = None,
    registry: Registry | None = None,
    *,
    revises: int | None = None,
    actor_user_id: int | None = None,
) -> ImportResult:
    """Persist a parsed document as a new plan, a revision of the plan it is (or of `revises`), or nothing
    when the text is the plan's current one; the result says which and why."""
    limit = get_settings().max_plan_measures
    if len(parsed.measures) > limit:
        raise PlanTooLarge(
            f"文件中识别出 {len(parsed.measures)} 项措施，超过上限 {limit}，不像一份规划文件；未导入",
            f"The document holds {len(parsed.measures)} measures, more than the limit of {limit}; "
            "nothing was imported",
            measures=len(parsed.measures),
            limit=limit,
        )
    digest = content_hash(text)
    identity = identity_of(parsed, source_name, digest)
    lock_identity(session, identity.key)
    if revises is None:
        plan = plan_for_update(session, Plan.key == identity.key)
    else:
        plan = _explicit_target(session, revises, identity)
    if plan is not None and plan.content_hash == digest:
        assert plan.id is not None
        return ImportResult(
            plan.id,
            plan.key,
            "unchanged",
            plan.revision,
            plan_measure_count(session, plan.id),
            reason=reason_unchanged(plan.id, plan.revision),
            identity=identity,
        )
    if plan is None:
        return _create(session, text, digest, parsed, source_name, registry, identity, actor_user_id)
    assert plan.id is not None
    diff = revise(
        session, plan, text, parsed, source_name, planner(session, text, parsed, _registry(registry))
    )
    plan.content_hash = digest
    apply_identity(plan, identity)
    session.add(plan)
    reason = (
        reason_explicit(plan.id, plan.revision)
        if revises is not None
        else reason_revised(identity, plan.id, plan.revision)
    )
    _record(session, plan, reason, identity, source_name, diff, actor_user_id)
    return ImportResult(
        plan.id,
        plan.key,
        "revised",
        plan.revision,
        len(parsed.measures),
        added=diff.added,
        removed=diff.removed,
        changed=diff.changed,
        reason=reason,
        identity=identity,
    )


def _registry(registry: Registry | None) -> Registry:
    return registry or default_registry()


def _explicit_target(session: Session, plan_id: int, identity: PlanIdentity) -> Plan:
    """The plan the office named, its row locked; 404 when there is none, 409 when the document is already
    another plan (one identity, one plan)."""
    plan = plan_for_update(session, Plan.id == plan_id)
    if plan is None:
        raise NotFoundError(f"规划 {plan_id} 不存在", f"plan {plan_id} does not exist", plan_id=plan_id)
    holder = plan_holding(session, identity.key)
    if holder is not None and holder != plan_id:
        raise identity_taken(plan_id, holder, identity)
    return plan


def _create(
    session: Session,
    text: str,
    digest: str,
    parsed: ParsedPlan,
    source_name: str | None,
    registry: Registry | None,
    identity: PlanIdentity,
    actor_user_id: int | None,
) -> ImportResult:
    reason = reason_created(identity, similar_plans(session, identity))
    departments = planner(session, text, parsed, _registry(registry))
    plan = Plan(key=identity.key, title=parsed.title or (source_name or "未命名规划"), content_hash=digest)
    apply_identity(plan, identity)
    fill_plan(plan, text, parsed, source_name, departments.fit)
    session.add(plan)
    try:
        session.flush()
    except IntegrityError as error:  # the identity's lock makes this a bug, never a 500 for the client
        raise import_conflict() from error
    assert plan.id is not None
    measures = {m.path: m for m in parsed.measures}
    facts = {tuple(m["path"]): m for m in to_json_dict(parsed)["measures"]}
    insert_outline(session, plan, parsed.outline, measures, facts, departments)
    insert_targets(session, plan.id, parsed)
    added = [path_key(m.path) for m in parsed.measures]
    _record(session, plan, reason, identity, source_name, Diff(added=added), actor_user_id)
    return ImportResult(
        plan.id,
        plan.key,
        "created",
        plan.revision,
        len(parsed.measures),
        added=added,
        reason=reason,
        identity=identity,
    )


def _record(
    session: Session,
    plan: Plan,
    reason: Reason,
    identity: PlanIdentity,
    source_name: str | None,
    diff: Diff,
    actor_user_id: int | None,
) -> None:
    """The revision's change record: one per revision number (a unique constraint holds it to that)."""
    assert plan.id is not None
    session.add(
        PlanRevision(
            plan_id=plan.id,
            revision=plan.revision,
            content_hash=plan.content_hash,
            reason=reason.code,
            identity_basis=identity.basis,
            source_name=source_name[:512] if source_name else None,
            added=len(diff.added),
            removed=len(diff.removed),
            changed=len(diff.changed),
            actor_user_id=actor_user_id,
        )
    )
    session.flush()


def plan_measure_count(session: Session, plan_id: int) -> int:
    """Number of live measures of a plan."""
    return len(live_measures(session, plan_id))
