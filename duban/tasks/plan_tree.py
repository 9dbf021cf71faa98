"""The plan review page as the outline of the document: parts (章/节/一、/（一）/1.) in document order, each
with its tasks and the counts of what still needs the office (measures, missing lead, default deadline,
proposals, unresolved units, disputes), built in one pass over the outline read in one query."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.tasks.enums import TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Measure, MeasureKind, Plan, PlanStatus
from duban.tasks.review.listing import ProposalView, ReviewItem, ReviewList
from duban.tasks.rules.deadlines import DEFAULT_SOURCE

# What makes a draft task need the office before issuing, in the order the page's filters show them.
ATTENTION: Final[tuple[str, ...]] = ("missing_lead", "unresolved", "default_deadline", "proposal", "disputed")
_TOPICS = re.compile(r"（([^（）]*)）：")


@dataclass
class PartCounts:
    """What a part holds (its own tasks and all below it)."""

    measures: int = 0
    tasks: int = 0
    drafts: int = 0
    missing_lead: int = 0
    unresolved: int = 0
    default_deadline: int = 0
    proposal: int = 0
    disputed: int = 0
    attention: int = 0  # tasks with any of the above

    def add(self, other: PartCounts) -> None:
        """Add a child part's counts."""
        for name in PartCounts.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def of(self, name: str) -> int:
        """One count by name (the filters' names)."""
        value: int = getattr(self, name)
        return value


@dataclass
class TreeTask:
    """A task under its measure, with what needs attention and the proposal's reasons in plain Chinese."""

    item: ReviewItem
    flags: tuple[str, ...]
    basis_zh: str | None
    regions: list[ReviewItem] = field(default_factory=list)  # a split task's 盟市 children


@dataclass
class TreeNode:
    """A part or a measure of the outline, in document order."""

    id: int
    kind: MeasureKind
    path: list[str]
    title: str
    body: str
    deadline_text: str | None
    excluded: str | None
    depth: int
    tasks: list[TreeTask] = field(default_factory=list)
    children: list[TreeNode] = field(default_factory=list)
    counts: PartCounts = field(default_factory=PartCounts)

    @property
    def label(self) -> str:
        """The part's own number as written (第一章, 一, (三), 1.); '#n' numbers are the parser's own."""
        last = self.path[-1] if self.path else ""
        return "" if last.startswith("#") else last

    def task_ids(self) -> list[int]:
        """Every task id in this part, in document order."""
        return [t.item.id for t in self.tasks] + [i for c in self.children for i in c.task_ids()]


@dataclass
class PlanTree:
    """A plan's head and its outline as a tree with counts."""

    plan_id: int
    title: str
    status: PlanStatus
    issue_date: dt.date | None
    roots: list[TreeNode]
    counts: PartCounts


def flags_of(item: ReviewItem) -> tuple[str, ...]:
    """What a draft task still needs (none for a task already issued)."""
    if item.state is not TaskState.draft:
        return ()
    found = {
        "missing_lead": "lead" in item.missing or "lead_unresolved" in item.missing,
        "unresolved": any(unit.department is None for unit in item.units),
        "default_deadline": item.deadline_source == DEFAULT_SOURCE or "deadline" in item.missing,
        "proposal": item.proposal is not None and item.lead_source == "rule",  # not yet decided by the office
        "disputed": item.disputed,
    }
    return tuple(name for name in ATTENTION if found[name])


def basis_zh(proposal: ProposalView | None) -> str | None:
    """A proposal's reasons in plain Chinese: the phrases, the topic and the remit (no rule ids)."""
    if proposal is None:
        return None
    lead = "、".join(d.name for d in proposal.lead)
    cooperating = "、".join(d.name for d in proposal.cooperating)
    remit = proposal.explanation_zh.partition("职责依据：")[2].strip()
    if proposal.fallback:
        return f"措施没有写明单位，也没有可对应的职责，暂由{lead}牵头，请办公室审定。{remit}".strip()
    topics = _TOPICS.search(proposal.explanation_zh)
    quoted = "、".join(f"“{p}”" for p in proposal.phrases[:6])
    text = f"措施提到{quoted}" + (f"，属于{topics.group(1)}" if topics else "") + f"，建议由{lead}牵头"
    text += f"，{cooperating}配合。" if cooperating else "。"
    return text + (f"职责依据：{remit}" if remit else "")


def _counts_of(tasks: list[TreeTask], is_measure: bool) -> PartCounts:
    counts = PartCounts(measures=1 if is_measure else 0)
    for task in tasks:
        counts.tasks += 1
        counts.drafts += task.item.state is TaskState.draft
        for name in task.flags:
            setattr(counts, name, counts.of(name) + 1)
        counts.attention += bool(task.flags)
    return counts


def plan_tree(session: Session, plan_id: int, review: ReviewList) -> PlanTree:
    """The plan's outline in document order with its review items hung on their measures (one query for
    the outline; the items come from the review list already read)."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"规划 {plan_id} 不存在", f"Plan {plan_id} does not exist")
    measure_t = Measure.__table__  # type: ignore[attr-defined]
    columns = ("id", "parent_id", "kind", "path", "title", "body", "deadline_text", "facts", "position")
    rows = session.connection().execute(
        sa.select(*(measure_t.c[name] for name in (*columns, "line_start"))).where(
            measure_t.c.plan_id == plan_id
        )
    )
    by_path: dict[str, list[ReviewItem]] = defaultdict(list)
    for item in review.items:
        by_path["/".join(item.path)].append(item)
    children: dict[int | None, list[tuple[int, int, int]]] = defaultdict(list)
    nodes: dict[int, TreeNode] = {}
    for row in rows:
        (measure_id, parent_id, kind, path, title, body, deadline_text, facts, position, line) = row
        assert measure_id is not None
        if facts.get("removed_in_revision"):
            continue
        nodes[measure_id] = TreeNode(
            id=measure_id,
            kind=MeasureKind(kind),
            path=list(path),
            title=title,
            body=body,
            deadline_text=deadline_text,
            excluded=facts.get("excluded"),
            depth=len(path) - 1,
            tasks=_tasks(by_path.get("/".join(path), [])),
        )
        children[parent_id].append((position, line or 0, measure_id))
    roots: list[TreeNode] = []
    total = PartCounts()
    # Parents before children: walk from the roots down in document order (position, then line).
    stack: list[tuple[int | None, TreeNode | None]] = [(None, None)]
    order: list[TreeNode] = []
    while stack:
        parent_id, parent = stack.pop()
        kids = [nodes[i] for _, _, i in sorted(children.get(parent_id, [])) if i in nodes]
        (roots if parent is None else parent.children).extend(kids)
        for kid in reversed(kids):
            stack.append((kid.id, kid))
        if parent is not None:
            order.append(parent)
    for node in reversed(order):  # children before parents: add the counts up
        node.counts = _counts_of(node.tasks, node.kind is MeasureKind.measure)
        for child in node.children:
            node.counts.add(child.counts)
    for root in roots:
        total.add(root.counts)
    return PlanTree(plan_id, plan.title, plan.status, plan.issue_date, roots, total)


def _tasks(items: list[ReviewItem]) -> list[TreeTask]:
    """A measure's tasks: the whole-measure tasks, each with its 盟市 children under it."""
    tops = [i for i in items if i.parent_id is None]
    regional: dict[int, list[ReviewItem]] = defaultdict(list)
    for item in items:
        if item.parent_id is not None:
            regional[item.parent_id].append(item)
    tasks = [
        TreeTask(item, flags_of(item), basis_zh(item.proposal), sorted(regional.pop(item.id, []), key=_id))
        for item in sorted(tops, key=_id)
    ]
    # a child whose parent is in another measure (never expected) still shows, as a task of its own
    tasks.extend(TreeTask(i, flags_of(i), None) for rest in regional.values() for i in sorted(rest, key=_id))
    return tasks


def _id(item: ReviewItem) -> int:
    return item.id


def keep(node: TreeNode, show: str) -> bool:
    """Whether a filter (`attention` or one of ATTENTION) keeps the part: some task in it matches."""
    if not show:
        return True
    return (node.counts.attention if show == "attention" else node.counts.of(show)) > 0


def shown(task: TreeTask, show: str) -> bool:
    """Whether a filter keeps the task."""
    if not show:
        return True
    return bool(task.flags) if show == "attention" else show in task.flags


def opened_parts(tree: PlanTree, task_ids: Collection[int | None], *, everything: bool = False) -> set[int]:
    """The parts shown open: all of them (a filter, or 展开全部), else those holding the tasks in focus
    (the one being edited or just saved, those an error names), and a plan's only part."""
    opened: set[int] = set()

    def walk(node: TreeNode) -> bool:
        below = [walk(child) for child in node.children]  # every child walked: `everything` opens all
        inside = any(below) or any(t.item.id in task_ids for t in node.tasks)
        if everything or inside:
            opened.add(node.id)
        return inside

    for root in tree.roots:
        walk(root)
    if len(tree.roots) == 1:
        opened.add(tree.roots[0].id)
    return opened
