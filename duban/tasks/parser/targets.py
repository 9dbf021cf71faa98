"""Numeric targets of a goals section ("森林覆盖率达到23%", "PM2.5年均浓度下降12%", "控制在77.66万吨以内").

`value` is written as the document writes it, keeping what the number alone would lose: change verbs
("下降12%"), state verbs ("稳定在45%以上", "不低于9000万亩"), base years ("比2015年下降12%以上"),
"平均/总体" and the bound words 以上/以下/以内/左右; a plain "达到/提高到" is dropped ("23%"), as is
"控制在" when a bound word follows ("1.6%以内"). "A和B均达到90%以上" yields two targets; "A、B和C排放总量
分别控制在x、y和z以内" yields one per indicator with the shared head ("排放总量") attached.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from duban.tasks.parser.facts import Target
from duban.tasks.parser.textview import search_view
from duban.tasks.parser.timex import extract_times

_NUM = r"(?<![\d.A-Za-z])\d+(?:\.\d+)?"
_UNIT = (
    r"(?:个百分点|%|‰|[万亿千百]*(?:平方公里|平方千米|平方米|立方米|公顷|亩|吨标准煤|吨|千瓦时|千瓦|公里|千米"
    r"|个|座|家|处|台|辆|户|人|元|倍|项|条|天|小时|株|头|只|千克|公斤|毫克|微克|克)"
    r"(?:/(?:立方米|升|平方公里|人|年|天|万元))?)"
)
_VERBS = (
    "提高到|提升到|增加到|增长到|上升到|下降到|降低到|降至|降到|减少到|达到|达|控制在|稳定在|保持在|维持在"
    "|不低于|不少于|不高于|不超过|不大于|低于|高于|超过|下降|降低|减少|削减|提高|增长|增加|提升|为"
)
_SEP = r"[ \t\u3000]*[、和及与][ \t\u3000]*"
_VALUE_RE = re.compile(
    rf"(?P<base>(?:比|较)[ \t\u3000]*(?:19|20)\d{{2}}[ \t\u3000]*年底?)?"
    r"(?P<adv>平均|总体|分别|均|都|累计|年均)?"
    rf"(?P<verb>{_VERBS})?[ \t\u3000]*"
    rf"(?P<vals>{_NUM}[ \t\u3000]*(?:{_UNIT})?(?:{_SEP}{_NUM}[ \t\u3000]*(?:{_UNIT})?)*)"
    r"(?P<qual>以上|以下|以内|之内|左右)?"
)
_ONE_VALUE_RE = re.compile(rf"(?P<num>{_NUM})[ \t\u3000]*(?P<unit>{_UNIT})?")
_DROP_VERBS = {
    "达到",
    "达",
    "提高到",
    "提升到",
    "增加到",
    "增长到",
    "上升到",
    "下降到",
    "降低到",
    "降至",
    "降到",
}
_DROP_VERBS |= {"减少到", "为"}
_HEADS = (
    "排放总量",
    "排放量",
    "年均浓度",
    "平均浓度",
    "浓度",
    "总量",
    "利用率",
    "达标率",
    "覆盖率",
    "处理率",
    "比例",
    "面积",
    "强度",
    "用量",
    "指数",
    "系数",
    "盖度",
    "蓄积量",
    "保有量",
)
_LEAD_NOISE_RE = re.compile(
    r"^(?:[ \t\u3000、,，和及并且其中]|--|—|力争|确保"
    r"|(?:到|至)?[ \t\u3000]*(?:19|20)\d{2}[ \t\u3000]*年(?:底|末)?(?:前)?)+"
)
_INDICATOR_MAX = 60  # an indicator is a noun phrase, never a paragraph
_YEAR_IN_RE = re.compile(r"(?:19|20)\d{2}")
_CLAUSE_MARKS_RE = re.compile(r"[（(【\[）)】\]\n，,；;。：:！？!?]")


@dataclass(frozen=True, slots=True)
class _Clause:
    start: int
    end: int


def extract_targets(text: str, default_year: int | None = None) -> list[Target]:
    """Numeric targets stated in a goals text, in reading order."""
    view = search_view(text)
    year_marks = _year_marks(text)
    targets: list[Target] = []
    previous: list[int] = []  # indexes (in targets) of the previous clause's targets
    positions = [pos for pos, _ in year_marks]
    for clause in _clauses(view):
        k = bisect_right(positions, clause.start) - 1
        year = year_marks[k][1] if k >= 0 else default_year
        found = _read_clause(view, text, clause, year, targets, previous)
        previous = found
    return targets


def _year_marks(text: str) -> list[tuple[int, int]]:
    """(position, year) of every by-when expression, for the "到2020年，…" context of later targets."""
    marks: list[tuple[int, int]] = []
    for expr in extract_times(text).expressions:
        if expr.kind == "deadline":
            years = _YEAR_IN_RE.findall(search_view(expr.text))
            if years:
                marks.append((expr.start, int(years[-1])))
    return marks


def _clauses(view: str) -> list[_Clause]:
    """Clauses split at ，；。：and line ends, never inside brackets."""
    out: list[_Clause] = []
    depth, start = 0, 0
    for m in _CLAUSE_MARKS_RE.finditer(view):
        ch, i = m.group(0), m.start()
        if ch in "（(【[":
            depth += 1
        elif ch in "）)】]" and depth:
            depth -= 1
        elif ch == "\n" or (depth == 0 and ch in "，,；;。：:！？!?"):
            if i > start:
                out.append(_Clause(start, i))
            start, depth = i + 1, 0
    if start < len(view):
        out.append(_Clause(start, len(view)))
    return out


def _read_clause(
    view: str, text: str, clause: _Clause, year: int | None, targets: list[Target], previous: list[int]
) -> list[int]:
    found: list[int] = []
    cursor = clause.start
    for m in _VALUE_RE.finditer(view, clause.start, clause.end):
        values = list(_ONE_VALUE_RE.finditer(view, m.start("vals"), m.end("vals")))
        window = max(cursor, m.start() - _INDICATOR_MAX)
        raw_indicator = text[window : m.start()]
        indicator = _clean_indicator(raw_indicator)
        verb = m.group("verb")
        if not verb and not (values[0].group("unit") and search_view(indicator).endswith(_HEADS)):
            continue  # a number without a verb ("12个盟市") is no target
        cursor = m.end()
        if not indicator or search_view(indicator).startswith(("比", "较")):
            _attach_base(indicator, text, m, values, targets, previous)
            continue
        names = _indicators(indicator, len(values), m.group("adv"))
        if not names:
            continue
        sentence = text[window : m.end()].strip(" \t\u3000").lstrip("、,，-—")
        for i, name in enumerate(names):
            value_m = values[i] if len(values) == len(names) else values[0]
            found.append(len(targets))
            targets.append(
                Target(
                    indicator=name,
                    value=_value_text(text, m, value_m),
                    unit=(value_m.group("unit") and text[value_m.start("unit") : value_m.end("unit")])
                    or None,
                    year=year,
                    text=_LEAD_NOISE_RE.sub("", sentence) or sentence,
                )
            )
    return found


def _clean_indicator(raw: str) -> str:
    ind = _LEAD_NOISE_RE.sub("", raw.strip(" \t\u3000")).strip(" \t\u3000")
    ind = re.split(r"且|同时", ind)[-1]
    return ind.strip(" \t\u3000、,，")


def _indicators(indicator: str, n_values: int, adv: str | None) -> list[str]:
    """One indicator per value: "A、B和C排放总量" with 3 values → A排放总量, B排放总量, C排放总量."""
    parts = [p for p in re.split(r"[、和及与]", indicator) if p]
    view_parts = [search_view(p) for p in parts]
    if n_values > 1 and len(parts) == n_values:
        head = next((h for h in _HEADS if view_parts[-1].endswith(h) and len(view_parts[-1]) > len(h)), None)
        if head is not None and not any(v.endswith(_HEADS) for v in view_parts[:-1]):
            tail = parts[-1][len(parts[-1]) - len(head) :]
            return [p + tail for p in parts[:-1]] + [parts[-1]]
        return parts
    if (
        n_values == 1
        and adv in ("均", "都")
        and len(parts) > 1
        and all(v.endswith(_HEADS) for v in view_parts)
    ):
        return parts
    return [indicator]


def _value_text(text: str, m: re.Match[str], value_m: re.Match[str]) -> str:
    """The value as written, keeping the words the number alone would lose."""
    verb, adv, qual = m.group("verb"), m.group("adv"), m.group("qual")
    parts: list[str] = []
    if m.group("base"):
        parts.append(text[m.start("base") : m.end("base")].replace(" ", ""))
    if adv in ("平均", "总体", "累计", "年均") and verb:
        parts.append(text[m.start("adv") : m.end("adv")])
    keep_verb = verb not in _DROP_VERBS or adv in ("平均", "总体", "累计", "年均")
    if verb and keep_verb and not (verb == "控制在" and qual):
        parts.append(text[m.start("verb") : m.end("verb")])
    parts.append(text[value_m.start() : value_m.end()].strip(" \t\u3000"))
    if qual:
        parts.append(text[m.start("qual") : m.end("qual")])
    return "".join(parts)


def _attach_base(
    indicator: str,
    text: str,
    m: re.Match[str],
    values: list[re.Match[str]],
    targets: list[Target],
    previous: list[int],
) -> None:
    """ "…控制在x、y以内，比2015年…分别减少a、b": add "（比2015年减少a）" to each previous target."""
    if not previous or len(values) not in (1, len(previous)):
        return
    base = re.search(r"(?:比|较)[ \t\u3000]*(?:19|20)\d{2}[ \t\u3000]*年底?", search_view(indicator))
    base_text = indicator[base.start() : base.end()].replace(" ", "") if base else ""
    if m.group("base"):
        base_text = text[m.start("base") : m.end("base")].replace(" ", "")
    verb = m.group("verb") or ""
    for k, index in enumerate(previous):
        value_m = values[k] if len(values) == len(previous) else values[0]
        note = f"（{base_text}{verb}{text[value_m.start() : value_m.end()].strip()}{m.group('qual') or ''}）"
        old = targets[index]
        targets[index] = Target(old.indicator, old.value + note, old.unit, old.year, old.text)
