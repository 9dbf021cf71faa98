"""Time expressions of a measure: deadlines, milestones, effective-from dates, relative deadlines, recurrence.

Reading rules (see ../shared/golden/seeds/README.md):
* "到2020年", "2018年(年)底前", "2020年6月底前", "2020年上半年", "力争2016年开工", "2018年，消除…",
  "2017～2018年，…" (both years) are deadlines; the date is the last day of the period named.
* "X年前" / "X年M月前" are read literally as *before* that period: "2027年前" → 2026-12-31 (the year
  2027 still counts in `years`, as the golden reading does). A day-level "6月30日前" is inclusive
  (administrative usage): → 06-30.
* "X年起", "自X年M月D日起", "X年M月D日至M月D日", "从X年开始" are effective-from dates, not deadlines.
* Base years (比/较2015年, 在2010年的基础上), years inside 《…》, plan spans ("（2014-2020年）",
  "2025—2035年美丽…") and status dates before the issue date ("截至2015年底，已…") are not deadlines.
  A bare year adverbial before the issue year still is: a plan issued in 2017 for 2016–2020 plans 2016 too.
* "本意见印发之日起30日内", "印发后3个月内": relative; calendar units are resolved against the issue date,
  working days (工作日) and event anchors are left unresolved (date None) for the workflow calendar.
* "上年年底前", "每年3月底前", "次年…": recurring, no calendar year → `relative_text`.
* A bare year that states what happened or is forecast ("2000年国家已取消…", "2004年预计…") is no by-when.
* A clock time stays in the phrase: "6月20日18：00前" (the date is the day).
* Deadlines without a year, impossible dates and ongoing work: see `timex_months`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterator

from duban.tasks.parser.facts import Frequency, Milestone, Recurrence, TimeExpr, TimeInfo
from duban.tasks.parser.textview import book_title_spans, in_spans, search_view
from duban.tasks.parser.timex_months import (
    CLOCK,
    DAY,
    MD,
    MONTH_GATE,
    MONTH_RE,
    SP,
    XUN_DAY,
    Cand,
    adverbial,
    impossible_dates,
    is_base,
    month_end,
    next_char,
    num,
    ongoing_slot,
    ongoing_text,
    prev_context,
    safe_date,
    scan_month,
)

__all__ = ["extract_times", "impossible_dates", "ongoing_text"]

_SP, _MD, _DAY = SP, MD, DAY
_YEAR = r"(?<!\d)(?P<y>(?:19|20)\d{2})(?!\d)"

_YEAR_RE = re.compile(
    rf"(?![ \t\u3000\u00a0])(?P<pre>截止到|截至|截止|到|至)?{_SP}{_YEAR}{_SP}年"  # not from a space: linear
    rf"(?:{_SP}(?P<half>上半年|下半年|年中)"
    rf"|{_SP}第?(?P<q>[一二三四1-4])季度"
    rf"|{_SP}(?P<m>{_MD}){_SP}月(?:{_SP}(?P<d>{_DAY}){_SP}[日号]{CLOCK})?(?:{_SP}(?P<xun>[上中下])旬)?)?"
    rf"(?P<end>{_SP}(?:年底|年末|底|末|内))?"
    rf"(?P<bef>{_SP}(?:以前|之前|前)(?!后))?"
    rf"(?P<frm>{_SP}(?:起|开始))?"
    rf"(?P<until>{_SP}至{_SP}(?:(?:19|20)\d{{2}}{_SP}年{_SP})?{_MD}{_SP}月{_SP}{_DAY}{_SP}[日号])?"
)
_RANGE_RE = re.compile(
    rf"(?<!\d)(?P<y1>(?:19|20)\d{{2}}){_SP}年?{_SP}(?:[-－—–~～〜至到]|——){_SP}"
    rf"(?P<y2>(?:19|20)\d{{2}}){_SP}年(?P<end>{_SP}(?:年底|年末|底|末))?(?P<bef>{_SP}前)?"
)
_REL_N_RE = re.compile(
    r"(?P<anchor>(?:(?:本|该|此)(?:实施|工作)?(?:意见|方案|通知|办法|规定|细则|规划|决定|计划|文件|纲要|措施)"
    r"(?:[ \t\u3000]*(?:正式)?(?:印发|发布|下发|出台|实施|施行|公布|生效|下达))?"
    r"|(?:印发|发布|下发|出台|施行|公布|生效))(?:之日)?(?:起|后|以后)?)?"
    r"(?P<ev>(?<![本该此])(?:之日起|起|后|以后))?"
    rf"{_SP}(?P<n>\d{{1,3}}|[一二两三四五六七八九十百]{{1,4}}){_SP}"
    r"(?P<u>个工作日|工作日|个自然日|自然日|日|天|个月|月|周|个星期|星期|年)"
    rf"{_SP}(?:以内|之内|内)"
)
_FREQ_RE = re.compile(
    r"(?P<f>每周|每星期|每个月|每月|按月|逐月|每个季度|每季度|每季|按季度|按季|每半年|每年度|每一年|每年|按年度)"
)
_DUTY_RE = re.compile(
    r"报告|报送|上报|公开|公布|发布|通报|评估|考核|调度|检查|督查|督导|监测|开展|召开|组织|会商|更新|核查|抽查"
    r"|巡查|汇总|分析|研判|评价|审计|排查|统计|编制|提交|递交|通告|研究|报|^(?:至少)?\d+[ \t]*次"
)
_RATE_RE = re.compile(
    r"新增|减少|增加|增长|下降|降低|提高|削减|造林|种植|改造|淘汰|治理|完成\d|\d+(?:万|亿|%)"
)
# After a bare year, in the same clause: what happened ("2000年国家已取消…") or is forecast ("2004年预计…").
_STATUS = re.compile(r"[ \t\u3000\u00a0]*(?:预计|预测|估计|[^，,；;。\n]{0,6}?(?:已经|已|曾经))")
_CLAUSE_END = "，,；;。！？!?\n"
_CLAUSE_END_RE = re.compile("[，,；;。！？!?\n]")
_FREQS: dict[str, Frequency] = {
    "周": "weekly",
    "星期": "weekly",
    "月": "monthly",
    "季": "quarterly",
    "半年": "half_yearly",
    "年": "yearly",
}


def extract_times(text: str, issue_date: dt.date | None = None, doc_year: int | None = None) -> TimeInfo:
    """Read every time expression of a measure's text (simplified or traditional script).

    `doc_year` is the document's own year (`header.find_doc_year`): deadlines that name no year
    ("6月底前", "第三季度", "年内") fall in it; without it, in the issue date's year; without both, undated.
    """
    view = search_view(text)
    books = book_title_spans(view)
    year = doc_year if doc_year is not None else (issue_date.year if issue_date is not None else None)
    cands: list[Cand] = []
    for regex, gate, build in _SCANNERS:
        for m in _matches(regex, gate, view, 40):
            cand = build(m, view, text, books, issue_date, year)
            if cand is not None:
                cands.append(cand)
    chosen = _select(cands)
    return _assemble(chosen, view, text)


def _matches(
    regex: re.Pattern[str], gate: re.Pattern[str] | None, view: str, before: int
) -> Iterator[re.Match[str]]:
    """`regex.finditer(view)`, or, for patterns with long optional heads, only around the gate's hits."""
    if gate is None:
        yield from regex.finditer(view)
        return
    done = 0  # matches do not overlap, as with finditer
    for g in gate.finditer(view):
        pos = max(done, g.start() - before)
        while pos <= g.start() and (m := regex.search(view, pos, min(len(view), g.end() + 16))) is not None:
            if m.start() > g.start():
                break
            pos = max(m.end(), m.start() + 1)
            if m.end() > g.start():
                done = m.end()
                yield m
                break


def _select(cands: list[Cand]) -> list[Cand]:
    """Earliest start wins, then the longest; overlapping candidates are dropped."""
    chosen: list[Cand] = []
    last_end = -1
    for cand in sorted(cands, key=lambda c: (c.start, -(c.end - c.start))):
        if cand.start >= last_end:
            chosen.append(cand)
            last_end = cand.end
    return chosen


def _assemble(chosen: list[Cand], view: str, text: str) -> TimeInfo:
    exprs = [c.expr for c in chosen if c.expr is not None]
    dated = [e for e in exprs if e.date is not None and e.kind in ("deadline", "relative")]
    deadline_like = [
        e for e in exprs if e.kind == "deadline" or (e.kind == "relative" and e.date is not None)
    ]
    years = sorted({y for c in chosen if c.expr is not None and c.expr.kind == "deadline" for y in c.years})
    from_exprs = [e for e in exprs if e.kind == "from"]
    from_years = sorted({y for c in chosen if c.expr is not None and c.expr.kind == "from" for y in c.years})
    seen: set[tuple[dt.date, str]] = set()
    milestones: list[Milestone] = []
    for e in sorted(dated, key=lambda e: (e.date or dt.date.min, e.start)):
        assert e.date is not None
        if (e.date, e.text) not in seen:
            seen.add((e.date, e.text))
            milestones.append(Milestone(date=e.date, text=e.text))
    unresolved = [e for e in exprs if e.kind == "relative" and e.date is None]
    ongoing = ongoing_slot(view) is not None  # "完成时限：长期坚持": the measure has no deadline
    return TimeInfo(
        deadline=None if ongoing else max((e.date for e in dated if e.date is not None), default=None),
        deadline_text=deadline_like[0].text if deadline_like and not ongoing else None,
        milestones=tuple(milestones),
        from_dates=tuple(from_exprs),
        recurrence=_recurrence(view, text),
        expressions=tuple(exprs),
        years=tuple(years),
        from_years=tuple(from_years),
        relative_text=unresolved[0].text if unresolved else None,
        ongoing_text=ongoing_text(text) if not deadline_like or ongoing else None,
    )


def _deadline_date(y: int, m: int | None, d: int | None, g: dict[str, str | None]) -> dt.date | None:
    half, quarter, before, end, xun = g["half"], g["q"], g["bef"], g["end"], g["xun"]
    if half:
        return dt.date(y, 12, 31) if "下" in half else dt.date(y, 6, 30)
    if quarter:
        qn = num(quarter) or 4
        return month_end(y, min(max(qn, 1), 4) * 3)
    if m is not None:
        if not 1 <= m <= 12:
            return None
        if d is not None:
            return safe_date(y, m, d)
        if xun in XUN_DAY:
            return safe_date(y, m, XUN_DAY[xun or ""])
        if before and not end and not xun:
            return month_end(y - 1, 12) if m == 1 else month_end(y, m - 1)
        return month_end(y, m)
    if before and not end:
        return dt.date(y - 1, 12, 31)
    return dt.date(y, 12, 31)


def _scan_year(
    m: re.Match[str], view: str, text: str, books: list[tuple[int, int]], issue: dt.date | None, _: int | None
) -> Cand | None:
    g = m.groupdict()
    start, end = m.start(), m.end()
    core_start = m.start("y")
    y = int(g["y"] or "0")
    if in_spans(core_start, books) or is_base(view, core_start, end):
        return Cand(start, end, None)
    month, day = num(g["m"]), num(g["d"])
    if g["frm"] or g["until"]:
        date = safe_date(y, month or 1, day or 1)
        if date is None:  # an impossible date is no fact at all
            return Cand(core_start, end, None)
        expr = TimeExpr(text[core_start:end].strip(), "from", core_start, end, date)
        return Cand(core_start, end, expr, (y,))
    pre = g["pre"]
    marked = bool(pre or g["end"] or g["bef"] or g["half"] or g["q"] or g["xun"])
    if not marked and (not adverbial(view, core_start, end) or _STATUS.match(view, end)):
        return Cand(core_start, end, None)
    date = _deadline_date(y, month, day, g)
    if date is None:  # "2023年13月底前", "2018年2月30日前": impossible, no deadline
        return Cand(start, end, None)
    if pre in ("截至", "截止", "截止到") and issue is not None and date < issue:
        return Cand(start, end, None)  # a status report ("截至2015年底，已完成…"), not a by-when
    t_start = start if pre else core_start
    expr = TimeExpr(text[t_start:end].rstrip(" \t\u3000\u00a0"), "deadline", t_start, end, date)
    return Cand(t_start, end, expr, (y,))


def _scan_range(
    m: re.Match[str], view: str, text: str, books: list[tuple[int, int]], issue: dt.date | None, _: int | None
) -> Cand | None:
    start, end = m.start(), m.end()
    y1, y2 = int(m.group("y1")), int(m.group("y2"))
    if in_spans(start, books) or y2 < y1 or prev_context(view, start)[-1:] in ("（", "("):
        return Cand(start, end, None)
    marked = bool(m.group("end") or m.group("bef"))
    if not (marked or (adverbial(view, start, end) and next_char(view, end) in ("，", ","))):
        return Cand(start, end, None)  # a plan span ("2025—2035年美丽内蒙古建设", "2016年至2020年是…")
    date = dt.date(y2 - 1, 12, 31) if m.group("bef") and not m.group("end") else dt.date(y2, 12, 31)
    return Cand(start, end, TimeExpr(text[start:end], "deadline", start, end, date), (y1, y2))


def _add_months(d: dt.date, months: int) -> dt.date | None:
    total = d.month - 1 + months
    y, mo = d.year + total // 12, total % 12 + 1
    if y > dt.MAXYEAR:
        return None
    return dt.date(y, mo, min(d.day, calendar.monthrange(y, mo)[1]))


def _scan_rel_n(
    m: re.Match[str], view: str, text: str, books: list[tuple[int, int]], issue: dt.date | None, _: int | None
) -> Cand | None:
    start, end = m.start(), m.end()
    if in_spans(start, books):
        return Cand(start, end, None)
    n = num(m.group("n"))
    unit = m.group("u")
    date: dt.date | None = None
    if m.group("anchor") and issue is not None and n is not None and "工作日" not in unit:
        try:
            if unit.endswith(("日", "天")):
                date = issue + dt.timedelta(days=n)
            elif unit.endswith(("周", "星期")):
                date = issue + dt.timedelta(weeks=n)
            elif unit.endswith("月"):
                date = _add_months(issue, n)
            else:
                date = _add_months(issue, 12 * n)
        except OverflowError:
            date = None
    t_start = start + len(m.group(0)) - len(m.group(0).lstrip(" \t\u3000\u00a0"))
    if m.group("ev") and not m.group("anchor"):
        t_start = _clause_start(view, t_start)  # "收到通知后15日内": keep the event that anchors it
    return Cand(t_start, end, TimeExpr(text[t_start:end], "relative", t_start, end, date))


def _clause_start(view: str, pos: int, limit: int = 20) -> int:
    """Start of the clause holding `pos`, looking back at most `limit` characters."""
    lo = max(0, pos - limit)
    cut = max(view.rfind(ch, lo, pos) for ch in _CLAUSE_END + "：:、")
    start = cut + 1 if cut >= 0 else lo
    while start < pos and view[start] in " \t\u3000\u00a0":
        start += 1
    return start


def _scan_month(
    m: re.Match[str], view: str, text: str, books: list[tuple[int, int]], _: dt.date | None, year: int | None
) -> Cand | None:
    return scan_month(m, view, text, books, year)


_Scanner = Callable[[re.Match[str], str, str, list[tuple[int, int]], dt.date | None, int | None], Cand | None]
# Gates: the relative patterns start with long optional heads, so they are only tried near their core.
_REL_N_GATE = re.compile(r"(?:工作日|自然日|日|天|月|周|星期|年)[ \t\u3000\u00a0]*(?:以内|之内|内)")
_SCANNERS: tuple[tuple[re.Pattern[str], re.Pattern[str] | None, _Scanner], ...] = (
    (_RANGE_RE, None, _scan_range),
    (_YEAR_RE, None, _scan_year),
    (_REL_N_RE, _REL_N_GATE, _scan_rel_n),
    (MONTH_RE, MONTH_GATE, _scan_month),
)


def _recurrence(view: str, text: str) -> Recurrence | None:
    """The first recurring duty: a frequency word followed, in the same clause, by a reporting/acting verb."""
    for m in _FREQ_RE.finditer(view):
        window = _CLAUSE_END_RE.split(view[m.end() : m.end() + 30], maxsplit=1)[0]
        duty = _DUTY_RE.search(window)
        if duty is None or _RATE_RE.search(window[: duty.start()]):
            continue
        word = m.group("f")
        freq = next(f for key, f in _FREQS.items() if key in word)  # 半年 is listed before 年
        return Recurrence(frequency=freq, text=text[m.start() : m.end() + duty.end()])
    return None
