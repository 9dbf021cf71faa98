"""Which plan a document is: its identity (文号 + issuer + title, + date), the reason an import gives for the
plan it chose, and the locks that serialise imports of one identity and revisions of one plan.

A plan's identity, from the strongest the document gives:

- `number`: its 文号, with the issuer and the title (国办发〔2018〕128号 · 国务院办公厅 · 《…工作方案》);
- `issuer`: no 文号, but the organ that issued it — issuer, title and issue date;
- `title`: neither — the title alone, as before issue 14 (a revision found this way says so);
- `file` / `content`: no title either — the file name, else the text itself.

The identity's key is the plan's unique `key`. The title, file and content keys are the ones duban used
before identities, so plans imported then keep theirs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, select

from duban.tasks.chinese import to_simplified
from duban.tasks.errors import TasksError
from duban.tasks.models import Plan
from duban.tasks.parser import ParsedPlan

IdentityBasis = Literal["number", "issuer", "title", "file", "content"]
# pg_advisory_xact_lock(space, key): the space keeps these locks apart from any other advisory lock.
_LOCK_SPACE = 0x706C616E  # "plan"
_SIMILAR_LIMIT = 5


class PlanIdentityTaken(TasksError):
    """`revises` names one plan while the document is already another plan (409)."""

    code = "plan_identity_taken"


class RevisionRemovesIssuedTasks(TasksError):
    """A revision that would drop measures whose tasks are already issued (422); `tasks` lists them."""

    code = "revision_removes_issued_tasks"


class ImportConflict(TasksError):
    """The same plan was written by another import at the same moment (409, retry)."""

    code = "import_conflict"


@dataclass(frozen=True, slots=True)
class PlanIdentity:
    """What identifies a document as a plan, and the key it gives the plan."""

    basis: IdentityBasis
    key: str
    doc_number: str | None
    issuer: str | None
    title_key: str | None
    issue_date: dt.date | None

    def describe_zh(self) -> str:
        """The identity in Chinese: 文号 …、发文机关 …、标题《…》."""
        parts = []
        if self.doc_number:
            parts.append(f"文号 {self.doc_number}")
        if self.issuer:
            parts.append(f"发文机关 {self.issuer}")
        if self.title_key:
            parts.append(f"标题《{self.title_key}》")
        if self.basis == "issuer" and self.issue_date:
            parts.append(f"日期 {self.issue_date.isoformat()}")
        return "、".join(parts) or "文件内容"

    def describe_en(self) -> str:
        """The identity in English."""
        parts = []
        if self.doc_number:
            parts.append(f"document number {self.doc_number}")
        if self.issuer:
            parts.append(f"issuer {self.issuer}")
        if self.title_key:
            parts.append(f"title 《{self.title_key}》")
        if self.basis == "issuer" and self.issue_date:
            parts.append(f"date {self.issue_date.isoformat()}")
        return ", ".join(parts) or "the text itself"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an import took the plan it took: a stable code and a sentence in Chinese and English."""

    code: str
    zh: str
    en: str
    similar: tuple[int, ...] = field(default=())


def squeeze_title(title: str | None) -> str | None:
    """A title as identities compare it: simplified script, no whitespace."""
    if not title:
        return None
    return re.sub(r"\s+", "", to_simplified(title)) or None


def _hashed(basis: str) -> str:
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def identity_of(parsed: ParsedPlan, source_name: str | None, digest: str) -> PlanIdentity:
    """The identity of a parsed document (see the module's docstring for the order of bases)."""
    title = squeeze_title(parsed.title)
    number, issuer = parsed.doc_number, parsed.issuer
    if number:
        key = _hashed(f"number:{number}|{issuer or ''}|{title or ''}")
        return PlanIdentity("number", key, number, issuer, title, parsed.issue_date)
    if issuer and title:
        date = parsed.issue_date.isoformat() if parsed.issue_date else ""
        key = _hashed(f"issuer:{issuer}|{title}|{date}")
        return PlanIdentity("issuer", key, None, issuer, title, parsed.issue_date)
    if title:
        return PlanIdentity("title", _hashed("title:" + title), None, issuer, title, parsed.issue_date)
    if source_name:
        stem = re.sub(r"\.(txt|docx)$", "", source_name.rsplit("/", 1)[-1], flags=re.IGNORECASE)
        return PlanIdentity("file", _hashed("file:" + stem), None, issuer, None, parsed.issue_date)
    return PlanIdentity("content", _hashed("hash:" + digest), None, issuer, None, parsed.issue_date)


def apply_identity(plan: Plan, identity: PlanIdentity) -> None:
    """Give the plan the document's identity (its key, 文号, issuer, title key and basis)."""
    plan.key = identity.key
    plan.identity_basis = identity.basis
    plan.doc_number = identity.doc_number[:64] if identity.doc_number else None
    plan.issuer = identity.issuer[:256] if identity.issuer else None  # a dozen co-issuers can run long
    plan.title_key = identity.title_key[:512] if identity.title_key else None


def lock_identity(session: Session, key: str) -> None:
    """Serialise the imports of one identity until this transaction ends (PostgreSQL; SQLite's writers
    are serialised already by BEGIN IMMEDIATE)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        number = int.from_bytes(bytes.fromhex(key[:8]), "big", signed=True)
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": _LOCK_SPACE, "key": number}
        )


def plan_for_update(session: Session, *where: Any) -> Plan | None:
    """The plan matching `where`, its row locked until the transaction ends (SELECT … FOR UPDATE on
    PostgreSQL) and its attributes read afresh after the wait."""
    query = select(Plan).where(*where).with_for_update().execution_options(populate_existing=True)
    return session.exec(query).first()


def plan_holding(session: Session, key: str) -> int | None:
    """The id of the plan that has this identity key, if any."""
    return session.exec(select(Plan.id).where(Plan.key == key)).first()


def similar_plans(session: Session, identity: PlanIdentity) -> tuple[int, ...]:
    """Other plans with the same title (a different 文号, issuer or date made them other plans)."""
    if identity.title_key is None:
        return ()
    rows = session.exec(
        select(Plan.id)
        .where(Plan.title_key == identity.title_key, Plan.key != identity.key)
        .order_by(Plan.id)  # type: ignore[arg-type]
        .limit(_SIMILAR_LIMIT)
    ).all()
    return tuple(int(row) for row in rows if row is not None)


_BASIS_ZH = {
    "number": "文号、发文机关和标题相同",
    "issuer": "发文机关、标题和日期相同",
    "title": "文件未写明文号和发文机关，按标题识别为同一规划的修订",
    "file": "文件既无标题也无文号，按文件名识别为同一规划的修订",
    "content": "按文件内容识别",
}
_BASIS_EN = {
    "number": "same document number, issuer and title",
    "issuer": "same issuer, title and date",
    "title": "the document gives no number or issuer; taken as a revision of the plan with the same title",
    "file": "the document has no title or number; taken as a revision by its file name",
    "content": "identified by its text",
}


def reason_created(identity: PlanIdentity, similar: tuple[int, ...]) -> Reason:
    """A new plan: nothing had this identity (and which same-titled plans it is not)."""
    zh = f"未找到{identity.describe_zh()}的规划，新建"
    en = f"no plan had {identity.describe_en()}; created"
    if similar:
        ids = "、".join(f"#{plan_id}" for plan_id in similar)
        zh += (
            f"；同标题的规划 {ids} 文号、发文机关或日期不同，是另一份文件"
            "（如系其修订，请以 revises=<规划 id> 导入）"
        )
        en += (
            f"; plans {', '.join(f'#{i}' for i in similar)} share the title but not the number, issuer "
            "or date, so they are other documents (to revise one, import with revises=<plan id>)"
        )
    return Reason("new_plan", zh, en, similar)


def reason_unchanged(plan_id: int, revision: int) -> Reason:
    """The text is the plan's current text: nothing written."""
    return Reason(
        "same_content",
        f"与规划 #{plan_id} 第 {revision} 版内容相同，未作改动",
        f"same text as plan #{plan_id}, revision {revision}; nothing changed",
    )


def reason_revised(identity: PlanIdentity, plan_id: int, revision: int) -> Reason:
    """A revision found by identity: which parts agreed."""
    return Reason(
        f"same_{identity.basis}",
        f"{_BASIS_ZH[identity.basis]}（{identity.describe_zh()}），内容不同："
        f"作为规划 #{plan_id} 的第 {revision} 版",
        f"{_BASIS_EN[identity.basis]} ({identity.describe_en()}) with a different text: "
        f"revision {revision} of plan #{plan_id}",
    )


def reason_explicit(plan_id: int, revision: int) -> Reason:
    """A revision the office named (`revises`)."""
    return Reason(
        "explicit",
        f"按 revises={plan_id} 的指定，作为规划 #{plan_id} 的第 {revision} 版",
        f"revision {revision} of plan #{plan_id}, as revises={plan_id} asked",
    )


def identity_taken(target: int, holder: int, identity: PlanIdentity) -> PlanIdentityTaken:
    """The error for `revises=target` of a document that is already plan `holder`."""
    return PlanIdentityTaken(
        f"该文件（{identity.describe_zh()}）已作为规划 #{holder} 导入，不能再作为规划 #{target} 的修订；"
        f"请对规划 #{holder} 操作",
        f"this document ({identity.describe_en()}) is already plan #{holder}; it cannot also be a revision "
        f"of plan #{target}",
        plan_id=holder,
    )


def import_conflict() -> ImportConflict:
    """The error for an import that met another one writing the same plan."""
    return ImportConflict(
        "同一规划正由另一请求导入，请稍后重试",
        "another request is importing the same plan; retry shortly",
        headers={"Retry-After": "1"},
    )
