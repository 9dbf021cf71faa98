"""From the raw outline to the final one: which parts are not measures, paragraph measures, measure drafts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from duban.tasks.parser.model import Exclusion, NodeKind, OutlineNode
from duban.tasks.parser.numbering import Style
from duban.tasks.parser.outline import ANNOTATION, RawNode, split_heading
from duban.tasks.parser.paragraphs import Paragraph

# Each part of a heading ("指导思想、原则和目标" → 指导思想 / 原则 / 目标) must match one of these, in full,
# on the simplified key, for the heading to be a non-measure part.
_CATEGORIES: tuple[tuple[Exclusion, re.Pattern[str]], ...] = (
    (
        Exclusion.goals,
        re.compile(
            r"(?:[^，,。；;]{0,16}的)?(?:总体|主要|规划|发展|工作|近期|中期|远期|具体|基本|总|战略|预期|阶段性?"
            r"|整改|年度|行动|治理|建设|改革|考核){0,2}"
            r"(?:目标|愿景)(?:愿景|任务|指标)?|(?:主要)?指标|展望"
        ),
    ),
    (
        Exclusion.ideology,
        re.compile(
            r"(?:总体|指导|基本)(?:思想|思路|要求)|指导方针|总体部署"
            r"|(?:深入|认真|全面)?(?:学习|贯彻|领会)(?:落实|贯彻)?.{0,20}思想"
        ),
    ),
    (Exclusion.principles, re.compile(r"(?:基本|工作|主要|总体|规划|遵循|编制)?原则")),
    (
        Exclusion.situation,
        re.compile(
            r".{0,30}(?:形势|回顾|现状)|.{0,30}(?:取得的|主要|工作)(?:成效|成就|进展)"
            r"|.{0,30}(?:存在的?|面临的?)(?:主要|突出)?(?:问题|挑战|困难)|(?:发展|现实|工作)基础"
            r"|机遇(?:和|与)?挑战|.{0,30}(?:重要|重大)意义|(?:规划|编制)?(?:背景|依据)"
        ),
    ),
)
_PART_SPLIT = re.compile(r"以及|[、和与及,，]")
_HEADING_SENTENCE_MAX = 30
_NOT_HEADING_START = re.compile(r"(?:--|——|[-•●■◆·]|[一二三四五六七八九十]+是|到\s?\d{4}|\d{4}\s?年)")
_KIND = {Style.part: NodeKind.part, Style.chapter: NodeKind.chapter, Style.section: NodeKind.section}
_EXHORTATION = re.compile(r"让我们|同志们")
_SENTENCE_BREAK = re.compile(r"[。！!？?\n]")


def classify_heading(title_key: str) -> Exclusion | None:
    """Whether a heading names a non-measure part (指导思想, 基本原则, 形势, 目标), by keywords."""
    found = _classify(title_key)
    if found is None:
        # "一、总体要求 以习近平…为指导，…": a short heading run into its text after a space.
        head = title_key.strip().split(maxsplit=1)[0] if title_key.strip() else ""
        if head != title_key.strip() and len(head) <= 20:
            found = _classify(head)
    return found


def _classify(title_key: str) -> Exclusion | None:
    heading = re.sub(r"\s", "", title_key).rstrip("。.：:")
    if not heading or len(heading) > 40:
        return None
    found: list[Exclusion] = []
    for part in _PART_SPLIT.split(heading):
        if not part:
            continue
        category = next((cat for cat, pattern in _CATEGORIES if pattern.fullmatch(part)), None)
        if category is None:
            return None
        found.append(category)
    if not found:
        return None
    return Exclusion.goals if Exclusion.goals in found else found[0]


def _is_heading_sentence(key: str) -> bool:
    index = key.find("。")
    if index < 2 or index > _HEADING_SENTENCE_MAX or index >= len(key) - 1:
        return False
    if _NOT_HEADING_START.match(key):
        return False
    return not any(ch in "，,；;：:" for ch in key[:index])


def _paragraph_children(node: RawNode) -> list[RawNode] | None:
    """Unnumbered paragraphs led by a heading sentence, as measures of a heading-only item (001)."""
    body = node.body
    heads = [index for index, paragraph in enumerate(body) if _is_heading_sentence(paragraph.key)]
    if len(heads) < 2 or len(heads) * 5 < len(body) * 3:
        return None
    children: list[RawNode] = []
    for index in range(heads[0], len(body)):
        paragraph = body[index]
        if index in heads:
            title, title_key, rest = split_heading(paragraph)
            line = paragraph.line_start
            child = RawNode(
                None, len(children) + 1, f"#{len(children) + 1}", title, title_key, False, line, line
            )
            if rest is not None:
                child.body.append(rest)
            children.append(child)
        else:
            children[-1].body.append(paragraph)
    node.body = body[: heads[0]]
    return children


def _assigned(node: RawNode) -> bool:
    from duban.tasks.parser.responsibility import find_annotations  # the grammar reads, sections only ask

    return any(a.groups for a in find_annotations(f"{node.title}。{body_text(node.body)}"))


def _promote_title(node: RawNode) -> None:
    """A heading whose text is on the next line (第一章 / 总则) takes it as its title."""
    if node.title or not node.body:
        return
    first = node.body[0]
    if len(first.key) <= 40 and "。" not in first.key:
        node.title, node.title_key = first.text, first.key
        node.body = node.body[1:]


def _kind(node: RawNode) -> NodeKind:
    if node.style is None:
        return NodeKind.paragraph
    return _KIND.get(node.style, NodeKind.item)


def body_text(paragraphs: list[Paragraph]) -> str:
    """Paragraph texts joined by newlines."""
    return "\n".join(paragraph.text for paragraph in paragraphs)


def body_key(paragraphs: list[Paragraph]) -> str:
    """Paragraph keys joined by newlines (same offsets as body_text)."""
    return "\n".join(paragraph.key for paragraph in paragraphs)


@dataclass(frozen=True, slots=True)
class MeasureDraft:
    """A measure before its facts are read."""

    path: tuple[str, ...]
    kind: NodeKind
    title: str
    body: str
    body_key: str
    line_start: int
    line_end: int
    context: str = ""  # responsibility annotations of enclosing headings, for measures without their own


@dataclass(frozen=True, slots=True)
class GoalsPart:
    """A goals part of the outline and its full text, where targets are read."""

    path: tuple[str, ...]
    text: str


def _subtree_text(node: RawNode) -> str:
    parts = [node.title, body_text(node.body)]
    parts += [_subtree_text(child) for child in node.children]
    return "\n".join(part for part in parts if part)


def _goals_parts(
    node: RawNode, path: tuple[str, ...], excluded: dict[int, Exclusion | None]
) -> Iterator[GoalsPart]:
    if excluded.get(id(node)) is Exclusion.goals and not any(
        excluded.get(id(child)) is Exclusion.goals for child in node.children
    ):
        yield GoalsPart(path, _subtree_text(node))
        return
    for child in node.children:
        yield from _goals_parts(child, (*path, child.label), excluded)


class Finaliser:
    """Walks the raw tree once, classifying headings and collecting measures and goals parts."""

    def __init__(self) -> None:
        self.measures: list[MeasureDraft] = []
        self.excluded: dict[int, Exclusion | None] = {}

    def run(self, root: RawNode) -> tuple[tuple[OutlineNode, ...], list[MeasureDraft], list[GoalsPart]]:
        """The final outline, the measure drafts in reading order and the goals parts."""
        outline = tuple(self._node(child, (), None, "") for child in root.children)
        goals = [
            part for child in root.children for part in _goals_parts(child, (child.label,), self.excluded)
        ]
        return outline, self.measures, goals

    def _node(
        self, node: RawNode, parent: tuple[str, ...], inherited: Exclusion | None, context: str
    ) -> OutlineNode:
        _promote_title(node)
        own = classify_heading(node.title_key)
        self.excluded[id(node)] = own
        excluded = inherited or own
        if not node.children and node.heading_only and excluded is None:
            paragraphs = _paragraph_children(node)
            if paragraphs is not None:
                node.children = paragraphs
        path = (*parent, node.label)
        is_measure = not node.children and bool(node.title or node.body)
        if excluded is Exclusion.goals and is_measure:
            # A 分工方案 assigns its targets too ("1.地区生产总值增长6.2%左右。牵头单位：区发改局"): a goal
            # with someone responsible for it is a task; a goal nobody is assigned stays a goal.
            is_measure = _assigned(node)
        elif excluded is not None:
            is_measure = False
        if is_measure:
            self.measures.append(
                MeasureDraft(
                    path,
                    _kind(node),
                    node.title,
                    body_text(node.body),
                    body_key(node.body),
                    node.line_start,
                    node.last_line(),
                    context,
                )
            )
        notes = [paragraph.text for paragraph in node.body if ANNOTATION.match(paragraph.key)]
        if node.children and notes:
            context = "\n".join([context, *notes]).strip()
        children = tuple(self._node(child, path, excluded, context) for child in node.children)
        return OutlineNode(
            kind=_kind(node),
            label=node.label,
            path=path,
            title=node.title,
            body=body_text(node.body),
            line_start=node.line_start,
            line_end=node.last_line(),
            children=children,
            excluded=own,
            is_measure=is_measure,
        )


def trim_closing(root: RawNode) -> None:
    """Cut the closing exhortation (让我们…而不懈奋斗！) off the last paragraph of the last node."""
    node = root
    while node.children:
        node = node.children[-1]
    if not node.body:
        return
    paragraph = node.body[-1]
    found = _EXHORTATION.search(paragraph.key)
    if found is None:
        return
    cut = _sentence_start(paragraph.key, found.start())
    while cut > 0:
        previous = _sentence_start(paragraph.key, cut - 1)
        if "事关" not in paragraph.key[previous:cut]:
            break
        cut = previous
    kept = paragraph.cut(0, cut) if cut > 0 else None
    node.body = node.body[:-1] + ([kept] if kept is not None and kept.text else [])


def _sentence_start(key: str, position: int) -> int:
    start = 0
    for found in _SENTENCE_BREAK.finditer(key, 0, position):
        start = found.end()
    return start
