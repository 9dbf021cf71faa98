"""Bodies the running text makes responsible, where a measure carries no annotation.

Only a named body (自治区生态环境厅, 上海市财政局, 财政部; not a class such as 有关部门) in a clause that
assigns: "由X牵头/负责", "由X会同Y…", "X要牵头推进…", "X会同Y…". A body that acts in a description
("一支由政府牵头、企业支持的队伍") or inside 《…》 is not made responsible.
"""

from __future__ import annotations

import re

from duban.tasks.parser.facts import UnitMention
from duban.tasks.parser.textview import in_spans, split_top
from duban.tasks.parser.units import NameSpan, looks_like_named_body, read_names

_BY_RE = re.compile(
    r"由(?:所涉及的|所涉|涉及的|相关的)?(?P<names>[^，,。；;由]{2,300}?)(?P<word>牵头负责|牵头|负责|会同)"
)
# "…牵头，其他相关部门（单位）配合": the partners named in the clause after the lead's.
_PARTNERS_RE = re.compile(r"[，,]\s?(?P<names>[^，,。；;]{2,120}?)(?:积极|共同|协同)?(?:配合|参与|协助)")
_PREFIX_ONLY_RE = re.compile(r"(?:内蒙古)?自治区|[\u4e00-\u9fff]{0,6}(?:省|市|县|区|盟|旗|州)")
_CLAUSE_RE = re.compile(r"[^，,。；;！!？?\n]{3,80}")
_ACTOR_RE = re.compile(
    r"(?P<names>[^，,。；;、由]{2,40}?(?:、[^，,。；;、由]{2,40}?)*)"
    r"(?:要|将|应|须|需|应当|继续|负责|已|已经|正|正在|拟|还|也|共同|将继续)?(?P<word>牵头|会同)"
)
# "农业部等有关部门": the class after 等 is a unit (有关部门); "等部门" alone is not.
_ETC_GENERIC_RE = re.compile(r"等(?P<generic>(?:其他)?(?:有关|相关)(?:部门|单位)(?:和单位)?)")
GENERIC_HEAD_RE = re.compile(r"(?:各|其他)?(?:有关|相关)(?:部门|单位)(?:和单位)?")
_ATTRIBUTIVE_RE = re.compile(r"[^，,。；;\n]{0,30}?的")


def _names_before_verb(view: str, text: str, start: int, stop: int) -> list[NameSpan]:
    """Bodies listed from `start` up to the verb after them ("会同自治区财政厅、生态环境厅制定…",
    "会同农业部等有关部门研究…", "会同有关部门…"): named bodies, and a class of bodies after 等 or alone."""
    pieces = split_top(view, start, min(stop, start + 120), "、")
    names: list[NameSpan] = []
    for index, (a, b) in enumerate(pieces):
        last = index == len(pieces) - 1
        generic = GENERIC_HEAD_RE.match(view, a, b)
        if generic is not None and (last or generic.end() == b):
            names.append(NameSpan(text[a : generic.end()], a, generic.end(), generic=True))
            break
        found = None
        for end in range(a + 3, b + 1) if last else (b,):
            name = view[a:end]
            if looks_like_named_body(name) and not _PREFIX_ONLY_RE.fullmatch(name):
                found = NameSpan(text[a:end], a, end)
                break
        if found is None:
            return names if last else []
        names.append(found)
        tail = _ETC_GENERIC_RE.match(view, found.end, b) if last else None
        if tail is not None:
            g0, g1 = tail.start("generic"), tail.end("generic")
            names.append(NameSpan(text[g0:g1], g0, g1, generic=True))
    return names


def _partners_after(view: str, text: str, position: int) -> list[UnitMention]:
    """ "由X牵头完成…，其他相关部门配合": the cooperating units of the clause after the lead's."""
    comma = min((i for i in (view.find("，", position), view.find(",", position)) if i >= 0), default=-1)
    stop = min((i for i in (view.find(ch, position) for ch in "。；;") if i >= 0), default=len(view))
    if comma < 0 or comma > stop:
        return []
    found = _PARTNERS_RE.match(view, comma)
    if found is None:
        return []
    names = read_names(view, text, found.start("names"), found.end("names")) or []
    return [UnitMention(n.name, "cooperating", "written", n.start, n.end, "配合") for n in names]


def body_actors(view: str, text: str, books: list[tuple[int, int]]) -> list[UnitMention]:
    """Bodies the running text makes lead or partner: "由X牵头", "由X会同Y…", "X要牵头推进…", "X会同Y…"."""
    units: list[UnitMention] = []
    for found in _BY_RE.finditer(view):
        if in_spans(found.start(), books) or _ATTRIBUTIVE_RE.match(view, found.end()):
            continue  # "一支由政府牵头、企业支持的队伍" describes a team; it assigns nothing
        names = read_names(view, text, found.start("names"), found.end("names"))
        if not names or not all(looks_like_named_body(n.name) for n in names):
            continue
        units += [
            UnitMention(n.name, "lead", "written", n.start, n.end, f"由…{found.group('word')}") for n in names
        ]
        if found.group("word") == "会同":
            partners = _names_before_verb(view, text, found.end(), len(view))
            units += [UnitMention(n.name, "cooperating", "written", n.start, n.end, "会同") for n in partners]
        else:
            units += _partners_after(view, text, found.end())
    for clause in _CLAUSE_RE.finditer(view):
        head = _ACTOR_RE.match(clause.group(0))
        if head is None or in_spans(clause.start(), books):
            continue
        start = clause.start()
        names = read_names(view, text, start, start + head.end("names"))
        if not names or not all(looks_like_named_body(n.name) for n in names):
            continue
        units += [UnitMention(n.name, "lead", "written", n.start, n.end, head.group("word")) for n in names]
        if head.group("word") == "会同":
            partners = _names_before_verb(view, text, start + head.end(), clause.end())
            units += [UnitMention(n.name, "cooperating", "written", n.start, n.end, "会同") for n in partners]
    return units
