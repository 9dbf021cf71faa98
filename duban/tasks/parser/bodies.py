"""Names of responsible bodies in a measure: registry matches, unknown bodies, generic units, ellipsis.

Used by responsibility.py. Works on a same-length search view (simplified script) and reports names as
the registry spells them when matched, else as written in the original text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from duban.tasks.enums import DepartmentKind
from duban.tasks.parser.textview import split_top
from duban.tasks.registry import Registry

GENERIC_RE = re.compile(
    r"各级党委(?:和|、|及)政府|各级党委|各级人民政府|各级政府|各级各(?:有关)?部门"
    r"|各盟市(?:行政公署|人民政府|政府)?(?:（行政公署）|\(行政公署\))?"
    r"|各旗县(?:（市、区）|\(市、区\))?(?:人民政府|政府)?"
    r"|各地区各(?:有关)?部门|各地区|各地|各(?:有关|相关)?部门(?:和单位|单位)?|各有关单位|各相关单位"
    r"|(?:自治区)?(?:有关|相关)部门(?:和单位|单位)?|(?:有关|相关)单位"
)
# A name is a body when it ends like one (厅/委/局/办/院/部/政府/公署/中心/银行/监管局 …).
_BODY_SUFFIX = (
    "委员会办公室",
    "领导小组办公室",
    "委员会",
    "领导小组",
    "办公室",
    "办公厅",
    "人民政府",
    "政府",
    "行政公署",
    "公署",
    "党委",
    "厅",
    "委",
    "局",
    "办",
    "院",
    "部",
    "中心",
    "银行",
    "分行",
    "支行",
    "海关",
    "指挥部",
    "监管局",
    "公司",
    "集团",
)
# An unknown autonomous-region body in running text ("自治区大数据中心"); function words stop it.
_UNKNOWN_RE = re.compile(
    r"(?:内蒙古)?自治区[^\s\W的要将在对把被从向于由与及或是了着也都并等和每年月日\d]{2,12}?"
    r"(?:委员会办公室|领导小组办公室|委员会|领导小组|指挥部|办公室|中心|厅|局)"
)
_PREFIX_RE = re.compile(r"^(?:内蒙古自治区|自治区|内蒙古|[\u4e00-\u9fff]{2,6}?[市盟旗县])")
# In a list, "各…" is always a class of units, and so is a bare "市人民政府" after "各盟市行政公署、".
_GENERIC_PIECE_RE = re.compile(r"^各|^[盟市旗县区](?:人民政府|政府|行政公署)$")
_GOVERNMENT_RE = re.compile(r"(?:政府|公署|行署)$")
_COORD = "、和及与"
_LEAD_MARK_RE = re.compile(r"[（(]牵头[）)][ \t\u3000]*$")
_ETC_RE = re.compile(r"等(?:有关|相关)?(?:部门|单位|机构)?(?:和单位)?[ \t\u3000]*$")
_SPACES = " \t\u3000"
_NAME_MAX = 40  # no body's name is longer; longer pieces are prose


def _blank(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf")


@dataclass(frozen=True, slots=True)
class Mention:
    """A body or generic unit found in the text; `name` is official when the registry knows it."""

    start: int
    end: int
    name: str
    generic: bool
    lead_mark: bool = False  # written "A（牵头）" in a list


class NameReader:
    """Reads body names with a registry (or without one, as written)."""

    def __init__(self, registry: Registry | None) -> None:
        """`registry` None: names are kept as written (document rules are read before a registry exists)."""
        self._registry = registry

    def _official(self, name: str) -> str | None:
        if self._registry is None:
            return None
        entry = self._registry.match_department(name)
        return entry.name if entry is not None else None

    def _single(
        self, view: str, text: str, a: int, b: int, prefix: str, joined: bool = False
    ) -> Mention | None:
        """One name: a generic unit, a registry body (also with the list's prefix), or an unknown body."""
        piece = view[a:b]
        if not piece or len(piece) > _NAME_MAX:
            return None
        if GENERIC_RE.fullmatch(piece) or _GENERIC_PIECE_RE.match(piece):
            return Mention(a, b, text[a:b], True)
        for candidate in (piece, prefix + piece) if prefix and not piece.startswith(prefix) else (piece,):
            official = self._official(candidate)
            if official is not None:
                return Mention(a, b, official, False)
        if piece.endswith(_BODY_SUFFIX) and (joined or not any(ch in _COORD for ch in piece)):
            if piece in ("政府", "人民政府", "党委") and prefix:
                return Mention(a, b, self._official(prefix + piece) or prefix + piece, False)
            return Mention(a, b, text[a:b], False)
        return None

    def _resolve(self, view: str, text: str, a: int, b: int, prefix: str) -> list[Mention] | None:
        """One listed piece: a name, or names joined by 和/及/与 ("自治区党委和政府" → 党委 + 人民政府)."""
        whole = self._single(view, text, a, b, prefix)
        if whole is not None:
            return [whole]
        if b - a > _NAME_MAX:
            return None
        found = _PREFIX_RE.match(view, a, b)
        inner = found.group(0) if found else prefix
        out: list[Mention] = []
        k = a
        for i in range(a + 1, b - 1):  # split at the first join after which the left part is a name
            if view[i] in _COORD and (left := self._single(view, text, k, i, inner)) is not None:
                out.append(left)
                k = i + 1
        last = self._single(view, text, k, b, inner) if out else None
        if last is not None:
            return [*out, last]
        unknown = self._single(view, text, a, b, prefix, joined=True)  # "自治区大数据和信息中心"
        return [unknown] if unknown is not None else None

    def names(self, view: str, text: str, start: int, end: int) -> list[Mention] | None:
        """A list of names ("自治区发展改革委、工业和信息化厅"); None unless every piece is a body or unit."""
        mentions: list[Mention] = []
        prefix = ""
        for a, b in split_top(view, start, end, "、，,"):
            while a < b and _blank(view[a]):
                a += 1
            while b > a and _blank(view[b - 1]):
                b -= 1
            marker = _LEAD_MARK_RE.search(view, a, b)
            if marker is not None:
                b = marker.start()
            etc = _ETC_RE.search(view, a, b)
            if etc is not None and etc.start() > a:
                b = etc.start()
            if a == b:
                continue
            if not prefix:
                found = _PREFIX_RE.match(view[a:b])
                prefix = found.group(0) if found and found.end() < b - a else ""
            resolved = self._resolve(view, text, a, b, prefix)
            if resolved is None:
                return None
            if marker is not None:
                resolved = [Mention(r.start, r.end, r.name, r.generic, True) for r in resolved]
            mentions.extend(resolved)
        return mentions or None

    def groups(self, view: str, text: str) -> list[list[Mention]]:
        """Body and generic mentions in running text, coordinated ones ("A、B和C") grouped together."""
        mentions = self._mentions(view, text)
        groups: list[list[Mention]] = []
        for m in mentions:
            if groups and all(ch in _COORD + _SPACES for ch in view[groups[-1][-1].end : m.start]):
                groups[-1].append(m)
            else:
                groups.append([m])
        return groups

    def _mentions(self, view: str, text: str) -> list[Mention]:
        found: list[Mention] = []
        if self._registry is not None:
            for hit in self._registry.find_departments(text):
                entry = self._registry.department(hit.code)
                if entry.kind is DepartmentKind.league_city and not _GOVERNMENT_RE.search(
                    view[hit.start : hit.end]
                ):
                    continue  # a bare 盟市 name in running text is a place (regions.py), not its government
                found.append(Mention(hit.start, hit.end, entry.name, False))
        taken = bytearray(len(view))  # 1 where a mention already stands
        for f in found:
            taken[f.start : f.end] = b"\x01" * (f.end - f.start)
        for regex, generic in ((GENERIC_RE, True), (_UNKNOWN_RE, False)):
            for m in regex.finditer(view):
                if any(taken[m.start() : m.end()]):
                    continue
                written = text[m.start() : m.end()]
                name = written if generic else self._official(written) or written
                found.append(Mention(m.start(), m.end(), name, generic))
                taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
        found.sort(key=lambda m: m.start)
        return self._expand_ellipsis(view, found)

    def _expand_ellipsis(self, view: str, mentions: list[Mention]) -> list[Mention]:
        """Expand ellipsis: in "自治区党委、政府" the bare 政府 borrows the prefix (→ 自治区人民政府)."""
        out: list[Mention] = []
        for i, m in enumerate(mentions):
            out.append(m)
            prefix = _PREFIX_RE.match(view[m.start : m.end])
            if m.generic or prefix is None or self._registry is None:
                continue
            limit = mentions[i + 1].start if i + 1 < len(mentions) else len(view)
            pos = m.end
            while pos < limit and view[pos] in _COORD:
                nxt = self._bare_name(view, pos + 1, min(limit, pos + 13), prefix.group(0))
                if nxt is None:
                    break
                out.append(nxt)
                pos = nxt.end
        return out

    def _bare_name(self, view: str, start: int, stop: int, prefix: str) -> Mention | None:
        for end in range(stop, start + 1, -1):
            official = self._official(prefix + view[start:end])
            if official is not None:
                return Mention(start, end, official, False)
        return None

    def sub_office(self, view: str, body: Mention) -> Mention | None:
        """ "X下设办公室，负责…": the office of X, a body set up and tasked by the measure."""
        after = view[body.end : body.end + 8]
        if body.generic or not re.match(r"^[ \t\u3000]*下设(?:的)?办公室", after):
            return None
        name = body.name + "办公室"
        return Mention(body.end, body.end, self._official(name) or name, False)

    def standing_units(self, view: str, text: str) -> list[str]:
        """Units a standing rule names ("以下均需各盟市、各有关部门落实，不再列出")."""
        units: list[str] = []
        for m in GENERIC_RE.finditer(view):
            if text[m.start() : m.end()] not in units:
                units.append(text[m.start() : m.end()])
        for m in _UNKNOWN_RE.finditer(view):
            if text[m.start() : m.end()] not in units:
                units.append(text[m.start() : m.end()])
        return units
