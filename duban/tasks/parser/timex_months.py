"""Deadlines that name no year ("6月底前", "第三季度", "年内"), impossible dates, ongoing phrases.

Reading rules (the shared helpers of `timex` live here too):
* A month, quarter, half-year or year-end without a year ("6月底前", "3月底", "9月30日前", "年底前",
  "第三季度", "上半年", "年内", "6月中旬前") is a deadline of the *document's own year* (its issue date, else
  its 文号, else its title's year: see `header.find_doc_year`), never rolled into the next year because
  the month had passed when the document was issued. "明年" is the year after, "今年/本年" the year itself.
  Without any document year the phrase is still the deadline's text, with no date.
* "6月取得明显成效", "9月全面完成": a bare month followed by an achievement is a dated milestone.
* "每年3月底前", "上年年底前", "次年…": recurring, no calendar year (kind "relative", no date).
* An impossible date ("2月30日", "13月底", "2023年0月") is no deadline; `impossible_dates` lists them.
* "持续推进", "长期坚持", "常态化推进" … are ongoing: never a deadline. When the time slot of a measure
  ("完成时限：长期坚持", "（…牵头；持续推进）") says so, the measure has no deadline at all.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from duban.tasks.parser.facts import TimeExpr
from duban.tasks.parser.textview import book_title_spans, cn_int, in_spans, search_view

SP = r"[ \t\u3000\u00a0]*"
MD = r"(?:\d{1,2}|十[一二]?|[一二三四五六七八九])"
DAY = r"(?:\d{1,2}|[二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"
CLOCK = (
    rf"(?:{SP}\d{{1,2}}{SP}[：:]{SP}\d{{2}}|{SP}\d{{1,2}}{SP}[时点](?:{SP}\d{{1,2}}{SP}分)?)?"  # "18：00前"
)
XUN_DAY = {"上": 10, "中": 20}  # 上旬 / 中旬 end on the 10th / 20th; 下旬 at the month's end

_BOUNDARY = set("。；;，,：:！？!?\n\r") | {""}
_LOOSE_BOUNDARY = _BOUNDARY | set("\t（(")  # a table cell or an annotation starts a clause too
_ADVERBS = (
    "力争",
    "争取",
    "确保",
    "力求",
    "计划",
    "预计",
    "要在",
    "在",
    "于",
    "将",
    "拟",
    "并",
    "要",
    "实现",
)
_NOT_AFTER = set("的度间以代份版第相比同基为中初至到后来和与及或前左内末是")
_BASE_BEFORE = ("比", "较", "与", "同", "相比", "对比", "相较", "低于", "高于", "超过", "等于")
_BASE_AFTER = (
    "的基础上",
    "基础上",
    "为基数",
    "为基准",
    "为基期",
    "基准",
    "水平",
    "相比",
    "比较",
    "同期",
    "以来",
    "来",
    "后",
    "以后",
    "左右",
)
_RECURRING_Q = {"当年", "次年", "翌年", "上一年度", "上一年", "上年度", "上年", "每年", "年度"}
_NEXT_Q = {"明年"}


@dataclass(frozen=True, slots=True)
class Cand:
    """A scanned span and its time fact (None: consumed, but no fact: a base year, a plan span…)."""

    start: int
    end: int
    expr: TimeExpr | None
    years: tuple[int, ...] = ()


def num(s: str | None) -> int | None:
    """An Arabic or Chinese numeral's value."""
    if s is None:
        return None
    return int(s) if s.isdigit() else cn_int(s)


def safe_date(y: int, m: int, d: int) -> dt.date | None:
    """The date, or None when there is no such day."""
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def month_end(y: int, m: int) -> dt.date | None:
    """The last day of a month, or None for an impossible month."""
    if not 1 <= m <= 12 or not dt.MINYEAR <= y <= dt.MAXYEAR:
        return None
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def possible_day(y: int | None, m: int, d: int | None) -> bool:
    """Whether month `m` (and day `d`) exist: in year `y`, or in some year when the year is unknown."""
    if not 1 <= m <= 12:
        return False
    if d is None:
        return True
    return safe_date(2000 if y is None or not dt.MINYEAR <= y <= dt.MAXYEAR else y, m, d) is not None


def prev_context(view: str, start: int) -> str:
    """Up to 4 characters before `start`, spaces removed."""
    return re.sub(r"[ \t\u3000\u00a0]", "", view[max(0, start - 8) : start])[-4:]


def next_char(view: str, end: int) -> str:
    """The first character after `end` that is not a space."""
    return view[end : end + 8].lstrip(" \t\u3000\u00a0")[:1]


def is_base(view: str, start: int, end: int) -> bool:
    """A base period ("比2015年", "2015年的基础上"), not a by-when."""
    before = prev_context(view, start)
    after = view[end : end + 6].lstrip(" \t\u3000\u00a0")
    return before.endswith(_BASE_BEFORE) or after.startswith(_BASE_AFTER)


def adverbial(view: str, start: int, end: int, *, loose: bool = False) -> bool:
    """A time phrase used as a by-when adverbial: clause-initial (or after 力争/在…) and predicative.

    `loose`: a phrase without a year may also open a cell or an annotation and close a clause
    ("完成时限：上半年").
    """
    before = prev_context(view, start)
    boundary = _LOOSE_BOUNDARY if loose else _BOUNDARY
    if not (before[-1:] in boundary or before.endswith(_ADVERBS)):
        return False
    nxt = next_char(view, end)
    if nxt in ("，", ",", "、") or (loose and nxt in _LOOSE_BOUNDARY | set("）)")):
        return True
    return bool(nxt) and "\u4e00" <= nxt <= "\u9fff" and nxt not in _NOT_AFTER


# --- deadlines without a year ----------------------------------------------------------------------

MONTH_RE = re.compile(
    r"(?<![\d年])(?P<pre>到|至)?"
    r"(?P<q>今年|本年度|本年|当年|明年|次年|翌年|上一年度|上一年|上年度|上年|每年|年度)?"
    rf"{SP}(?:(?P<m>{MD}){SP}月份?(?:{SP}(?P<d>{DAY}){SP}[日号]{CLOCK})?(?:{SP}(?P<xun>[上中下])旬)?"
    rf"(?P<end>{SP}(?:底|末))?(?P<bef>{SP}(?:以前|之前|前))?"
    r"|第?(?P<qn>[一二三四1-4])季度(?P<qend>末|底)?(?P<qbef>以前|之前|前)?"
    r"|(?P<half>上半年|下半年|年中)(?P<hend>底|末)?(?P<hbef>以前|之前|前)?"
    r"|(?P<ye>年底|年末|年内)(?P<bef2>以前|之前|前)?)"
    r"|(?<![\d年])(?P<pre2>到|至)?(?P<q2>今年|本年|当年|明年|次年|翌年|上年|每年)(?P<ye2>底|末|内)(?:以前|之前|前)?"
)
MONTH_GATE = re.compile(r"月|季度|半年|年中|年[底末内]")
# What a bare month ("6月", "9月30日") must be followed by to be a milestone: an achievement.
_ACHIEVED = re.compile(
    rf"{SP}(?:力争|争取|确保)?(?:基本|全面|初步|全部|如期)?"
    r"(?:取得|完成|实现|建成|见到|见效|初见成效|形成|出台|印发|报送|上报|提交|落实到位|到位)"
)
# What a bare quarter, half-year or "年内" must be followed by, when it is not a cell or a clause of its own.
_ACTING = re.compile(
    rf"{SP}(?:力争|争取|确保|要|将)?(?:基本|全面|初步|全部|如期|陆续|率先|逐步|正式)?"
    r"(?:完成|实现|建成|启动|开展|出台|制定|印发|报送|推开|推广|取得|形成|组织|召开|建立|落实|部署|上报|提交"
    r"|开工|投运|投产|达到|达标|覆盖|见效|验收|通过|编制|修订|发布)"
)
_NUMERAL_BEFORE = set("0123456789一二两三四五六七八九十百几多数半近个每")


def _month_date(year: int, g: dict[str, str | None], month: int, day: int | None) -> dt.date | None:
    if day is not None:
        return safe_date(year, month, day)
    if g["xun"] in XUN_DAY:
        return safe_date(year, month, XUN_DAY[g["xun"] or ""])
    if g["bef"] and not g["end"] and not g["xun"]:  # "6月前": before June, read literally
        return month_end(year - 1, 12) if month == 1 else month_end(year, month - 1)
    return month_end(year, month)


def _period_date(year: int, g: dict[str, str | None]) -> dt.date | None:
    """The last day of the quarter, half-year or year named without a year."""
    if g["qn"]:
        quarter = min(max(num(g["qn"]) or 4, 1), 4)
        return month_end(year, quarter * 3)
    if g["half"]:
        return safe_date(year, 12, 31) if "下" in (g["half"] or "") else safe_date(year, 6, 30)
    return safe_date(year, 12, 31)


def _accepted(m: re.Match[str], view: str, start: int) -> bool:
    """Whether the phrase is a by-when: marked (底/末/前, 到, 今年…), or an adverbial the reading allows."""
    g = m.groupdict()
    end = m.end()
    if g["m"] is not None:
        if g["end"] or g["bef"] or g["xun"] or g["pre"]:
            return True
        return adverbial(view, start, end, loose=True) and _ACHIEVED.match(view, end) is not None
    if g["qn"] or g["half"]:
        if g["qend"] or g["qbef"] or g["hend"] or g["hbef"] or g["pre"] or g["q"]:
            return True
        return _bare_period(view, start, end)
    if (g["ye"] or "").endswith("内") and not g["q"]:  # "年内": not "三年内", "近年内", "半年内"
        return prev_context(view, start)[-1:] not in _NUMERAL_BEFORE and _bare_period(view, start, end)
    return True


def _bare_period(view: str, start: int, end: int) -> bool:
    """ "上半年完成…", "完成时限：第三季度", "力争年内建成": not "上半年全市空气质量…" (a status)."""
    if not adverbial(view, start, end, loose=True):
        return False
    return next_char(view, end) in _LOOSE_BOUNDARY | set("）)、") or _ACTING.match(view, end) is not None


def scan_month(
    m: re.Match[str], view: str, text: str, books: list[tuple[int, int]], year: int | None
) -> Cand | None:
    """A deadline without a year, resolved against the document's year (None: unknown)."""
    g = m.groupdict()
    start, end = m.start(), m.end()
    t_start = start + len(m.group(0)) - len(m.group(0).lstrip(" \t\u3000\u00a0"))
    if in_spans(start, books) or is_base(view, t_start, end):
        return Cand(t_start, end, None)
    month, day = num(g["m"]), num(g["d"])
    q = g["q"] or g["q2"]
    year = None if year is None or q in _RECURRING_Q else year + (1 if q in _NEXT_Q else 0)
    if month is not None and not possible_day(year, month, day):
        return Cand(t_start, end, None)  # an impossible date: no deadline (`impossible_dates` reports it)
    if not _accepted(m, view, t_start):
        return None
    phrase = text[t_start:end]
    if q in _RECURRING_Q:
        return Cand(t_start, end, TimeExpr(phrase, "relative", t_start, end, None))
    date: dt.date | None = None
    if year is not None and dt.MINYEAR <= year <= dt.MAXYEAR:
        date = _month_date(year, g, month, day) if month is not None else _period_date(year, g)
    return Cand(t_start, end, TimeExpr(phrase, "deadline", t_start, end, date))


# --- impossible dates ---------------------------------------------------------------------------

_ANY_DATE_RE = re.compile(
    rf"(?:(?<!\d)(?P<y>(?:19|20)\d{{2}}){SP}年{SP})?(?<![\d.])"
    rf"(?P<m>\d{{1,2}}|十[一二三四五六七八九]?|[〇零一二三四五六七八九]){SP}月(?!份?[ \t]*[度刊])"
    rf"(?:{SP}(?P<d>\d{{1,2}}|[二三]?十[一二三四五六七八九]?|[一二三四五六七八九]){SP}[日号])?"
    rf"(?P<tail>{SP}(?:底|末|[上中下]旬))?"
)


def impossible_dates(text: str, doc_year: int | None = None) -> list[str]:
    """Dates as written that no calendar has ("2月30日", "13月底", "2023年0月"), in reading order."""
    view = search_view(text)
    books = book_title_spans(view)
    found: list[str] = []
    for m in _ANY_DATE_RE.finditer(view):
        if in_spans(m.start(), books):
            continue
        month, day = num(m.group("m")), num(m.group("d"))
        year = int(m.group("y")) if m.group("y") else doc_year
        if month is not None and not possible_day(year, month, day):
            found.append(text[m.start() : m.end()].strip(" \t\u3000\u00a0"))
    return found


# --- ongoing work -------------------------------------------------------------------------------

_ONGOING = (
    r"(?:长期坚持|长期推进|长期开展|长期执行|长期|持续推进|持续开展|持续实施|持续|按进度推进|按计划推进"
    r"|常态化推进|常态化开展|常态化实施|常态化|逐年推进|每年持续推进)"
)
_ONGOING_WORD_RE = re.compile(_ONGOING)
_TIME_LABEL_RE = re.compile(
    r"(?:(?:完成|办结|工作|实施)?(?:时限|时间|期限)(?:要求|安排|节点|进度)?|进度安排|时间进度)"
    r"(?=[ \t\u3000]*[:：])"
)
_SLOT_END = "\n\t；;。）)"
_SLOT_LEN = 60  # a time slot's value is short
_SEGMENT_STOP = "，,；;。、：:！？!?\n\t（）()"
_BRACKET_RE = re.compile(r"[（(][^（）()\n]{0,120}[）)]")
_DATED_RE = re.compile(r"\d{4}[ \t]*年|[月季]|年[底末内]|半年|\d+[ \t]*(?:个)?(?:工作日|日|天|月|周)[ \t]*内")


def _slot_values(view: str) -> list[tuple[int, str]]:
    """(offset, value) of every labelled time slot ("完成时限：…") and every bracketed annotation."""
    slots: list[tuple[int, str]] = []
    for m in _TIME_LABEL_RE.finditer(view):
        colon = view.find("：", m.end(), m.end() + 4)
        colon = colon if colon >= 0 else view.find(":", m.end(), m.end() + 4)
        if colon < 0:
            continue
        value = view[colon + 1 : colon + 1 + _SLOT_LEN]
        stop = min((i for i in (value.find(ch) for ch in _SLOT_END) if i >= 0), default=len(value))
        slots.append((colon + 1, value[:stop]))
    slots += [(m.start() + 1, view[m.start() + 1 : m.end() - 1]) for m in _BRACKET_RE.finditer(view)]
    return sorted(slots)


def _ongoing_in(value: str, offset: int) -> tuple[int, int] | None:
    """The span of a segment of `value` that is wholly an ongoing phrase."""
    pos = 0
    for i, ch in enumerate(value + "，"):
        if ch in _SEGMENT_STOP:
            segment = value[pos:i]
            core = segment.strip(" \t\u3000\u00a0")
            if core and _ONGOING_WORD_RE.fullmatch(core):
                lead = len(segment) - len(segment.lstrip(" \t\u3000\u00a0"))
                return offset + pos + lead, offset + pos + lead + len(core)
            pos = i + 1
    return None


def ongoing_slot(view: str) -> tuple[int, int] | None:
    """The span of an ongoing phrase that fills a time slot holding no date ("完成时限：长期坚持")."""
    for offset, value in _slot_values(view):
        span = _ongoing_in(value, offset)
        if span is not None and _DATED_RE.search(value) is None:
            return span
    return None


def ongoing_text(text: str) -> str | None:
    """The phrase ("长期坚持", "持续推进") that says a measure is ongoing, as written, or None."""
    view = search_view(text)
    span = ongoing_slot(view)
    if span is None:
        span = _ongoing_in(view, 0)  # a clause of its own: "…，持续推进。"
    return text[span[0] : span[1]] if span is not None else None
