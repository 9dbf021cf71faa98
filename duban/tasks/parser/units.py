"""Names of public bodies as documents write them: recognised by their structure, kept whole and verbatim.

A unit's name is a level or place prefix (国家/省/自治区/市/州/盟/县/旗/区, a place name, 各, 有关) and an
organ (部、委、办、厅、局、署、院、会、中心、政府、党委、海关、总局、集团、街道、镇 …). Nothing here needs a
registry: the reader names what the document names, and resolving a name to a department is a later step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from duban.tasks.parser.textview import split_top

# Generic units: classes of bodies a document assigns as one unit ("各区政府", "各有关单位").
GENERIC_RE = re.compile(
    r"(?:各级|各|全市各|全省各|全区各|有关|相关|其他|其余)"
    r"[^\s，,、；;。:：()（）]{0,16}?(?:部门|单位|机构|机关|政府|党委|公署|街镇|街道|乡镇|镇|委办局|委|办|局|厅)"
    r"(?:和单位|和部门|和机构|及单位|、单位)?"
)
# The organ a name ends with. Longest first, so that "委员会办公室" is not read as "办公室".
_ORGAN_SUFFIXES = tuple(
    sorted(
        (
            "部",
            "委",
            "办",
            "厅",
            "局",
            "署",
            "院",
            "会",
            "处",
            "科",
            "所",
            "站",
            "社",
            "室",
            "司",
            "中心",
            "总部",
            "政府",
            "党委",
            "党组",
            "公署",
            "行署",
            "海关",
            "银行",
            "集团",
            "公司",
            "街道",
            "镇",
            "乡",
            "苏木",
            "嘎查",
            "村",
            "社区",
            "平台",
            "区",
            "县",
            "市",
            "旗",
            "盟",
            "州",
            "省",
            "联",
            "协",
            "小组",
            "指挥部",
            "单位",
            "部门",
            "机关",
            "机构",
            "法院",
            "检察院",
            "大学",
            "学院",
            "医院",
            "基金会",
            "研究院",
            "片区",
            "园区",
            "开发区",
            "新区",
            "总队",
            "支队",
            "大队",
            "分局",
            "分社",
            "分行",
            "支行",
            "分中心",
        ),
        key=len,
        reverse=True,
    )
)
# Characters that never stand in a body's name: sentence punctuation, quotes, digits of dates, verbs' marks.
_NOT_IN_NAME = re.compile(r"[。；;！!？?：:“”\"《》\s]|\d{4}|的|了|要|将|把|被|在|从|向|于|为|是")
_NAME_MAX = 30
# "等" tails: "农业农村部等" (nothing more), "…部等有关部门和单位" (the generic unit 有关部门和单位).
_ETC_RE = re.compile(
    r"等(?P<generic>(?:其他|其余)?(?:有关|相关)(?:部门|单位|机构)(?:和单位|和部门|及单位)?)?$"
)
# "等部门", "等省级主管部门（单位）": a tail that names no unit of its own.
_ETC_BARE_RE = re.compile(r"等[^、，,（）()]{0,8}?(?:部门|单位|机构|方面)(?:[（(]单位[）)])?$")
# "A（牵头）" inside a list.
_LEAD_MARK_RE = re.compile(r"[（(]\s*(?:牵头|牵头单位|牵头部门|主责)\s*[）)]$")
_LEVEL_WORD_RE = re.compile(r"(?:县级市|地级市|省|市|州|盟|县|区|旗|乡|镇|乡镇|街道|苏木|嘎查|村|社区)")
_QUALIFIER_RE = re.compile(r"[（(][^（）()]{1,12}[）)]")
# Spaces and invisible format characters a name may be padded with.
_PAD = " \t\u3000\n\r\u200b\ufeff"


@dataclass(frozen=True, slots=True)
class NameSpan:
    """A unit's name as written and its offsets in the searched text."""

    name: str
    start: int
    end: int
    generic: bool = False
    lead_mark: bool = False
    generic_head: bool = False  # "各区": a class of governments that a following "县级市" extends


def looks_like_unit(name: str) -> bool:
    """Whether a piece of text is a body's name by its structure (organ suffix, no sentence marks)."""
    if not 2 <= len(name) <= _NAME_MAX or _NOT_IN_NAME.search(name) or _VERB_RE.match(name):
        return False
    return GENERIC_RE.fullmatch(name) is not None or name.endswith(_ORGAN_SUFFIXES)


# A named body (not a class of bodies): a level or place prefix, or a central organ's short name (财政部).
_NAMED_PREFIX_RE = re.compile(
    r"^(?:国务院|国家|中央|中共|全国|省(?!级)|自治区|内蒙古|市(?!场|级)|州|盟|县|旗|区(?!域)"
    r"|[\u4e00-\u9fff]{2,7}?(?:省|市|自治区|自治州|特别行政区|地区|盟|县|旗|区|新区))"
)
_CENTRAL_ORGAN_RE = re.compile(
    r"^[\u4e00-\u9fff]{1,10}(?:部|委|总局|署|局|办|厅|院|银行|总社|委员会|管委会|监会|协会|联合会|学会|商会)$"
)
_VERB_RE = re.compile(
    r"制定|建立|推进|开展|加强|加快|组织(?!部)|负责|实施|落实|研究|完善|做好|进行|提出|印发|出台"
    r"|强化|提升|优化|健全|深化|推动|鼓励|引导|规范"
)
_CLASS_START = ("各", "有关", "相关", "其他", "其余", "全")


def looks_like_named_body(name: str) -> bool:
    """A specific body by its structure (自治区生态环境厅, 上海市财政局, 财政部), not a class (有关部门)."""
    if not looks_like_unit(name) or name.startswith(_CLASS_START) or _VERB_RE.search(name):
        return False
    return _NAMED_PREFIX_RE.match(name) is not None or _CENTRAL_ORGAN_RE.match(name) is not None


def extends_class(previous: NameSpan, piece: str) -> bool:
    """ "各区、县级市", "各市（州）、县（市、区）": a level word after "各区" extends that class."""
    return previous.generic_head and _LEVEL_WORD_RE.fullmatch(_QUALIFIER_RE.sub("", piece)) is not None


def joined(previous: NameSpan, text: str, end: int) -> NameSpan:
    """The class of governments `previous` names, extended to `end` (its 各 shared by the list)."""
    return NameSpan(text[previous.start : end], previous.start, end, True, previous.lead_mark, True)


def _trim(view: str, a: int, b: int) -> tuple[int, int]:
    while a < b and view[a] in _PAD:
        a += 1
    while b > a and view[b - 1] in _PAD:
        b -= 1
    return a, b


_JOIN_RE = re.compile(r"[及和与](?=各|有关|相关)")


def _pieces(view: str, start: int, end: int) -> list[tuple[int, int]]:
    """List pieces, split also at 及/和/与 before a class of bodies ("市级各有关部门及各县市区政府")."""
    pieces: list[tuple[int, int]] = []
    for a, b in split_top(view, start, end, "、，,/／"):
        for join in _JOIN_RE.finditer(view, a, b):
            if looks_like_unit(_QUALIFIER_RE.sub("", view[a : join.start()]).strip(_PAD)):
                pieces.append((a, join.start()))
                a = join.end()
        pieces.append((a, b))
    return pieces


def read_names(view: str, text: str, start: int, end: int, *, lenient: bool = False) -> list[NameSpan] | None:
    """The names listed in view[start:end] ("A、B，C等有关部门"); None unless every piece is a unit.

    `lenient` (a labelled list such as "责任单位：…") accepts any short piece without sentence marks.
    """
    found: list[NameSpan] = []
    for a, b in _pieces(view, start, end):
        a, b = _trim(view, a, b)
        if a == b:
            continue
        lead_mark = False
        marker = _LEAD_MARK_RE.search(view, a, b)
        if marker is not None:
            lead_mark = True
            a, b = _trim(view, a, marker.start())
        generic_tail: NameSpan | None = None
        etc = _ETC_RE.search(view, a, b)
        if etc is not None and etc.start() > a:
            if etc.group("generic"):
                g0, g1 = etc.start("generic"), etc.end("generic")
                generic_tail = NameSpan(text[g0:g1], g0, g1, generic=True)
            a, b = _trim(view, a, etc.start())
        elif (bare := _ETC_BARE_RE.search(view, a, b)) is not None and bare.start() > a:
            a, b = _trim(view, a, bare.start())
        if view.count("（", a, b) + view.count("(", a, b) != view.count("）", a, b) + view.count(")", a, b):
            return None  # half a bracket: not a name
        piece = _QUALIFIER_RE.sub("", view[a:b])  # 各盟市人民政府（行政公署）, 各旗县（市、区）人民政府
        if not piece:
            return None
        generic = GENERIC_RE.fullmatch(piece) is not None
        strict_fail = not (generic or looks_like_unit(piece))
        if strict_fail and (not lenient or len(piece) > _NAME_MAX or _NOT_IN_NAME.search(piece)):
            return None
        if found and extends_class(found[-1], piece):
            found[-1] = joined(found[-1], text, b)
            continue
        head = piece.startswith("各") and _LEVEL_WORD_RE.fullmatch(piece[1:].removeprefix("有关")) is not None
        found.append(NameSpan(text[a:b], a, b, generic or head, lead_mark, head))
        if generic_tail is not None:
            found.append(generic_tail)
    return found or None
