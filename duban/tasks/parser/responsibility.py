"""Responsibilities a measure states itself: annotations, labels, document rules and acting phrases.

Explicit forms (source "explicit"): "（X牵头，Y、Z配合）", "（A、B牵头负责）", "（A、B、C负责）" (first listed
is the lead only under a document rule such as "列第一位者为牵头单位"; otherwise all are leads),
"（各有关部门按职责分工负责）", "牵头单位：X；配合单位：Y" and "责任单位：…" labels, "X指导" (guidance).
Body forms (source "body"), read only when there is no annotation: a named body acting as a clause's subject
("自治区生态环境厅要牵头推进…", "由自治区发展改革委会同…", "自治区党委和政府…负总体责任"). Bodies that
only receive reports (向X报告), issued a cited policy, sit inside 《…》 or are generic classes (各盟市,
有关部门) are not made responsible; generic acting units are listed under `generic`.
Names are the registry's official names when matched, else as written; coordinated ellipsis is expanded
("自治区党委、政府" → 自治区党委, 自治区人民政府).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from duban.tasks.parser.bodies import Mention, NameReader
from duban.tasks.parser.facts import DocRules, Responsibility, ResponsibilitySource
from duban.tasks.parser.textview import book_title_spans, bracket_spans, in_spans, search_view, split_top
from duban.tasks.registry import Registry

_FIRST_IS_LEAD_RE = re.compile(
    r"(?:列|排|位|居)?(?:在|于)?(?:第一位|首位|第一个|最前)[^。；;，,\n]{0,8}?(?:为|是|系)(?:牵头|主办|主责)"
)
_STANDING_RE = re.compile(r"不再(?:一一|逐一|单独|重复)?列出|不再列举|均为责任单位")
_SENTENCE_ENDS = "。；;\n"
_LABEL_RE = re.compile(
    r"(?P<label>牵头单位|牵头部门|责任单位|责任部门|主责单位|主办单位|配合单位|配合部门|协办单位|参与单位|参加单位"
    r"|指导单位|完成时限|时限要求|完成时间|时间要求)[ \t\u3000]*[:：]"
)
_LABEL_ROLES = {
    "牵头单位": "lead",
    "牵头部门": "lead",
    "主责单位": "lead",
    "主办单位": "lead",
    "责任单位": "listed",
    "责任部门": "listed",
    "配合单位": "coop",
    "配合部门": "coop",
    "协办单位": "coop",
    "参与单位": "coop",
    "参加单位": "coop",
    "指导单位": "guide",
}
_ROLE_SUFFIX_RE = re.compile(
    r"^(?P<names>.+?)(?:共同|分别)?(?P<role>牵头负责|牵头|按职责分工负责|按职责负责|分工负责|负责落实|负责|落实"
    r"|配合|参与|协助|协同|指导)$"
)
_ROLE_WORDS = {
    "牵头负责": "lead",
    "牵头": "lead",
    "按职责分工负责": "listed_all",
    "按职责负责": "listed_all",
    "分工负责": "listed_all",
    "负责落实": "listed",
    "负责": "listed",
    "落实": "coop",
    "配合": "coop",
    "参与": "coop",
    "协助": "coop",
    "协同": "coop",
    "指导": "guide",
}


@dataclass(slots=True)
class _Roles:
    lead: list[str]
    coop: list[str]
    guide: list[str]
    generic: list[str]
    evidence: list[str]

    def add(self, role: str, mention: Mention) -> None:
        target = {"lead": self.lead, "coop": self.coop, "guide": self.guide}[role]
        if mention.name not in target:
            target.append(mention.name)
        if mention.generic and mention.name not in self.generic:
            self.generic.append(mention.name)

    def result(self, source: ResponsibilitySource | None, rules: DocRules) -> Responsibility:
        coop = [n for n in self.coop if n not in self.lead]
        for unit in rules.standing_units:
            if unit not in self.lead and unit not in coop:
                coop.append(unit)
        evidence = list(self.evidence)
        if rules.standing_units and rules.standing_text:
            evidence.append(rules.standing_text)
        return Responsibility(
            lead=tuple(self.lead),
            cooperating=tuple(coop),
            guidance=tuple(n for n in self.guide if n not in self.lead),
            source=source,
            evidence=tuple(evidence),
            generic=tuple(self.generic),
        )


def detect_doc_rules(text: str) -> DocRules:
    """Document conventions: "列第一位者为牵头单位" and standing units ("以下均需各盟市落实，不再列出")."""
    view = search_view(text)
    first = _FIRST_IS_LEAD_RE.search(view) is not None
    standing = _STANDING_RE.search(view)
    if standing is None:
        return DocRules(first_listed_is_lead=first, standing_units=(), standing_text=None)
    start = max(view.rfind(ch, 0, standing.start()) for ch in _SENTENCE_ENDS) + 1
    ends = [pos for pos in (view.find(ch, standing.end()) for ch in _SENTENCE_ENDS) if pos != -1]
    end = min(ends, default=len(view))
    while start < end and view[start] in " \t\u3000，,":
        start += 1
    sentence = text[start:end]
    units = NameReader(None).standing_units(search_view(sentence), sentence)
    if not units:  # "…的项目不再列出" is no rule about responsible units
        return DocRules(first_listed_is_lead=first, standing_units=(), standing_text=None)
    return DocRules(first_listed_is_lead=first, standing_units=tuple(units), standing_text=sentence)


def extract_responsibility(text: str, rules: DocRules, registry: Registry) -> Responsibility:
    """Who the measure's own text makes lead, cooperating, guiding (explicit first, else acting phrases)."""
    view = search_view(text)
    reader = NameReader(registry)
    roles = _Roles([], [], [], [], [])
    books = book_title_spans(view)
    for start, end in bracket_spans(view):
        if not in_spans(start, books) and end - start > 3:
            _read_annotation(view, text, start + 1, end - 1, rules, reader, roles)
    _read_labels(view, text, rules, reader, roles, books)
    if roles.lead or roles.coop or roles.guide:
        return roles.result("explicit", rules)
    _read_body(view, text, reader, roles, books)
    if roles.lead or roles.coop or roles.guide:
        return roles.result("body", rules)
    return roles.result(None, rules)


def _assign(role: str, mentions: list[Mention], rules: DocRules, roles: _Roles) -> None:
    if any(m.lead_mark for m in mentions):  # "责任单位：A（牵头）、B"
        for m in mentions:
            roles.add("lead" if m.lead_mark else "coop", m)
        return
    if role == "listed":
        role = "first" if rules.first_listed_is_lead else "all"
    for i, mention in enumerate(mentions):
        if role in ("all", "listed_all"):
            roles.add("lead", mention)
        elif role == "first":
            roles.add("lead" if i == 0 else "coop", mention)
        else:
            roles.add(role, mention)


_SKIP_SEGMENT_RE = re.compile(
    r"\d+[ \t\u3000]*[年月]|底前|年内|持续推进|长期坚持|持续实施|长期|下同|以下同|不再(?:一一)?列出"
)


def _read_annotation(
    view: str, text: str, start: int, end: int, rules: DocRules, reader: NameReader, roles: _Roles
) -> None:
    """A bracketed annotation is read only when every segment is names + role word, a label or a time."""
    parsed: list[tuple[str, list[Mention]]] = []
    pending: list[Mention] = []  # "A、B，C、D负责": names before the segment that carries the role
    label_role: str | None = None
    for seg_start, seg_end in split_top(view, start, end, "，,；;。"):
        a, b = _trim(view, seg_start, seg_end)
        seg = view[a:b]
        if not seg:
            continue
        if seg in ("按职责分工负责", "按职责负责", "分工负责"):
            parsed.append(("listed_all", pending or [Mention(a, a, "各有关部门", True)]))
            pending = []
            continue
        label = _LABEL_RE.match(seg)
        found = _ROLE_SUFFIX_RE.match(seg) if label is None else None
        if label is not None:
            label_role = _LABEL_ROLES.get(label.group("label"))
            if label_role is None:
                continue  # 完成时限：… belongs to the time reader
            role, names = label_role, reader.names(view, text, a + label.end(), b)
        elif found is not None:
            role, label_role = _ROLE_WORDS[found.group("role")], None
            names = reader.names(view, text, a, a + found.end("names"))
        elif _SKIP_SEGMENT_RE.search(seg) or _FIRST_IS_LEAD_RE.search(seg):
            continue
        else:
            listed = reader.names(view, text, a, b)
            if listed is None:
                return
            if label_role is not None:  # "责任单位：A、B，各盟市": the label's list goes on
                parsed.append((label_role, listed))
            else:
                pending.extend(listed)
            continue
        if names is None:
            return
        parsed.append((role, pending + names))
        pending = []
    if not parsed or pending:
        return
    has_lead = any(role == "lead" for role, _ in parsed)
    for role, names in parsed:
        _assign("coop" if has_lead and role in ("listed", "listed_all") else role, names, rules, roles)
    roles.evidence.append(text[start - 1 : end + 1])


def _trim(view: str, a: int, b: int) -> tuple[int, int]:
    while a < b and view[a] in " \t\u3000\n":
        a += 1
    while b > a and view[b - 1] in " \t\u3000\n":
        b -= 1
    return a, b


def _read_labels(
    view: str, text: str, rules: DocRules, reader: NameReader, roles: _Roles, books: list[tuple[int, int]]
) -> None:
    """Unbracketed "牵头单位：X；配合单位：Y、Z" / "责任单位：…" lines."""
    for m in _LABEL_RE.finditer(view):
        role = _LABEL_ROLES.get(m.group("label"))
        if role is None or in_spans(m.start(), books) or _inside_bracket(view, m.start()):
            continue
        ends = (view.find(ch, m.end(), m.end() + 300) for ch in "；;。\n")
        stop = min((pos for pos in ends if pos != -1), default=min(len(view), m.end() + 300))
        nxt = _LABEL_RE.search(view, m.end(), stop)
        if nxt is not None:
            stop = nxt.start()
        names = reader.names(view, text, m.end(), stop)
        if names:
            _assign(role, names, rules, roles)
            roles.evidence.append(text[m.start() : stop].strip(" \t\u3000，,"))


def _inside_bracket(view: str, pos: int) -> bool:
    lo = max(0, pos - 300)
    opened = max(view.rfind("（", lo, pos), view.rfind("(", lo, pos))
    closed = max(view.rfind("）", lo, pos), view.rfind(")", lo, pos))
    return opened > closed


_BOUNDARY = set("。；;，,：:！？!?\n") | {""}
_ACTOR_BEFORE = ("由", "请", "要求", "责成", "并由", "并", "同时", "其中")
_PASSIVE_BEFORE: tuple[str, ...] = ("向", "报", "报送", "报请", "提请", "报经", "经", "呈报", "提交", "按照")
_PASSIVE_BEFORE += (
    "根据",
    "贯彻",
    "落实",
    "执行",
    "对",
    "为",
    "给",
    "协助",
    "支持",
    "配合",
    "是",
    "请示",
    "印发",
)
_PASSIVE_AFTER: tuple[str, ...] = (
    "的",
    "印发",
    "发布",
    "出台",
    "制定的",
    "批准",
    "报告",
    "汇报",
    "备案",
    "审定",
)
_PASSIVE_AFTER += ("审议", "同意", "关于", "办公厅", "文件", "令", "决定")
_CREATED_BEFORE = ("成立", "组建", "设立", "建立", "设置", "下设")
_MODAL_RE = re.compile(r"^(?:要|将|应|须|需|要求|必须|负责|继续|进一步|统一|具体)*")
_CLAUSE_RE = re.compile(r"[^，,。；;！？!?\n]{1,60}")


def _read_body(view: str, text: str, reader: NameReader, roles: _Roles, books: list[tuple[int, int]]) -> None:
    """Named bodies acting in the running text (subjects, 会同 partners, bodies set up and tasked)."""
    actors: list[list[Mention]] = []
    for group in reader.groups(view, text):
        first, last = group[0], group[-1]
        if in_spans(first.start, books):
            continue
        before = re.sub(r"[ \t\u3000]", "", view[max(0, first.start - 8) : first.start])
        after = view[last.end : last.end + 12].lstrip(" \t\u3000")
        verb = _MODAL_RE.sub("", after)
        clause = _CLAUSE_RE.match(view, first.start)
        evidence = text[first.start : clause.end() if clause else last.end]
        if before.endswith("设在"):
            role: str | None = "coop"
        elif before.endswith("会同"):
            role = "coop"
        elif before.endswith(_CREATED_BEFORE):
            role = "coop" if not any(m.generic for m in group) else None
        elif before.endswith("在") and after.startswith(("指导下", "的指导下")):
            role = "guide"
        elif before.endswith(_PASSIVE_BEFORE) or after.startswith(_PASSIVE_AFTER):
            role = None
        elif before[-1:] in _BOUNDARY or before.endswith(_ACTOR_BEFORE) or verb.startswith(("牵头", "会同")):
            role = _acting_role(verb, before)
        else:
            role = None
        if role is None:
            continue
        roles.evidence.append(evidence.strip(" \t\u3000"))
        named = [m for m in group if not m.generic]
        for m in group:
            if m.generic and m.name not in roles.generic:
                roles.generic.append(m.name)
        if not named:
            continue
        if role == "actor":
            actors.append(named)
        else:
            for m in named:
                roles.add(role, m)
        office = reader.sub_office(view, last)
        if office is not None:
            roles.add("coop", office)
    first_is_lead = not roles.lead
    for i, group in enumerate(actors):
        for m in group:
            roles.add("lead" if i == 0 and first_is_lead else "coop", m)


def _acting_role(verb: str, before: str) -> str:
    if verb.startswith(("牵头", "会同")):
        return "lead"
    if verb.startswith(("配合", "协助", "参与", "协同")):
        return "coop"
    if verb.startswith("指导") or before.endswith("在"):
        return "guide"
    return "actor"
