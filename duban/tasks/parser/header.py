"""The document's head: title (as written, or inferred from the preamble), issue date and plan horizon."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from duban.tasks.chinese import to_simplified, to_traditional
from duban.tasks.parser.normalize import Line
from duban.tasks.parser.numbering import cn_to_int
from duban.tasks.parser.paragraphs import classify_noise

_DOC_TYPE = (
    r"(?:规划纲要|规划|纲要|实施意见|指导意见|意见|实施方案|工作方案|行动方案|方案|行动计划|计划|通知|办法|决定"
    r"|规定|细则|要点|条例|措施|指南|通告|公告|报告|清单)"
)
_TITLE_END = re.compile(rf"{_DOC_TYPE}(?:\([^()]{{1,20}}\))?$")
_TITLE_SUFFIX = re.compile(
    r"\((?:\d{4}\s?[—–\-－~～至到]\s?\d{4}\s?年?|试行|暂行|征求意见稿|草案|送审稿|修订稿?)\)"
)
_BANNER = re.compile(
    r".{0,30}(?:协会|学会|商会|联合会|研究会|促进会|基金会|公众号|官方微信|微信|网站|网|报社|杂志社|日报)"
)
# Red-header banners (…人民政府文件), document numbers (内政发〔2018〕17号), classification marks.
_LETTERHEAD = re.compile(
    r".{2,30}文件|.{0,20}[〔\[(]\s?\d{4}\s?[〕\])]\s?\d{1,4}\s?号"
    r"|(?:特急|加急|平急|密级|机密|秘密).{0,10}"
)
_TITLE_STOP = re.compile(r"[。，,；;：:！!？?]")
_COVER_LETTER = re.compile(r"现将《([^《》]{4,80})》(?:印发|转发|发)")
_CITED = re.compile(r"《[^《》]{0,40}?关于(印发)?([^《》]{2,60}?)的(?:指导|实施)?(?:意见|通知)》")
_BECAUSE = re.compile(
    r"(?:提出|制定|制订|出台)(?:如下|以下|本)(实施意见|指导意见|意见|实施方案|工作方案|行动方案|方案|行动计划|计划|办法|措施)"
)
_FULL_DATE = re.compile(
    r"((?:\d{4}|[〇零一二三四五六七八九]{4}))\s?年\s?(\d{1,2}|[一二三四五六七八九十]{1,3})\s?月"
    r"(?:\s?(\d{1,2}|[一二三四五六七八九十]{1,3})\s?日)?"
)
_NOTICE = re.compile(r"关于(?:印发|转发|下发|发布)\s?(《?.{4,80}?》?)的通知")
_YEAR_RANGE = re.compile(r"(\d{4})\s?[—–\-－~～至到]\s?(\d{4})")
_FIVE_YEAR = re.compile(r"十([一二三四五六七八九])五")
_BY_YEAR = re.compile(r"到\s?(\d{4})\s?年")
# 文号 on a line of its own: 沪府办发〔2025〕11号, 国办发〔2018〕128号, 内政发[2018]17号 (brackets vary).
_DOC_NUMBER = re.compile(
    r"[\u4e00-\u9fff]{1,12}(?:[〔\[［【(（]\s?((?:19|20)\d{2})\s?[〕\]］】)）])\s?第?\s?\d{1,4}\s?号"
)
# The plan's own year in its title: 2024年工作要点, 松江区城市更新2025年度实施计划, 实施方案（2023年）.
_TITLE_YEAR = re.compile(r"(?<![\d到至—–\-－~～])((?:19|20)\d{2})\s?年(?!\s?[—–\-－~～至到]|[底末前起])")
_NUMBER_LINES = 40  # the 文号 stands at the head, under the title


@dataclass(frozen=True, slots=True)
class Title:
    """The document title and whether the parser inferred it rather than read it."""

    text: str | None
    inferred: bool
    line: int | None
    last_line: int | None = None


def _titleish(key: str) -> bool:
    if not key or len(key) > 50 or _TITLE_STOP.search(key):
        return False
    if _BANNER.fullmatch(key) or _LETTERHEAD.fullmatch(key):
        return False
    return classify_noise(key) is None


def _title_block(lines: Sequence[Line]) -> Title | None:
    content = [line for line in lines if line.text]
    for index, line in enumerate(content):
        if not _titleish(line.key):
            continue
        suffix = index + 1 < len(content) and bool(_TITLE_SUFFIX.fullmatch(content[index + 1].key))
        if not suffix and _TITLE_END.search(line.key) is None:
            continue
        first = index
        while first > 0 and index - first < 3 and _titleish(content[first - 1].key):
            if _TITLE_END.search(content[first - 1].key) is not None:
                break
            first -= 1
        block = content[first : index + 1]
        if suffix:
            block.append(content[index + 1])
        return Title("".join(part.text for part in block), False, block[0].number, block[-1].number)
    return None


def _squeeze(text: str) -> str:
    return re.sub(r"\s", "", text)


def _lines_spelling(lines: Sequence[Line], named: str) -> Title | None:
    """One to three consecutive lines that spell the name a notice gives its plan."""
    content = [line for line in lines if line.text]
    wanted = _squeeze(named)
    for first in range(len(content)):
        joined = ""
        for last in range(first, min(first + 3, len(content))):
            joined += _squeeze(content[last].text)
            if joined == wanted:
                text = "".join(line.text for line in content[first : last + 1])
                return Title(text, False, content[first].number, content[last].number)
            if not wanted.startswith(joined):
                break
    return None


def find_title(header: Sequence[Line], preamble_text: str, preamble_key: str) -> Title:
    """The title at the head of the document, else from its cover letter, else inferred from the preamble."""
    block = _title_block(header)
    if block is not None and block.text is not None:
        notice = _NOTICE.search(to_simplified(block.text))
        if notice is None:
            return block
        # "关于印发《X》的通知": the plan's own title follows the cover letter, or is X.
        after = [line for line in header if line.number > (block.last_line or 0)]
        start, end = notice.span(1)
        named = block.text[start:end].strip("《》 ")
        inner = _title_block(after) or _lines_spelling(after, named)
        if inner is not None:
            return inner
        return Title(named, False, block.line, block.last_line)
    if block is not None:
        return block
    cover = _COVER_LETTER.search(preamble_key)
    if cover is not None:
        return Title(preamble_text[cover.start(1) : cover.end(1)], True, None)
    because = _BECAUSE.search(preamble_key)
    if because is not None:
        cited = [found for found in _CITED.finditer(preamble_key, 0, because.start())]
        if cited:
            subject = preamble_text[cited[-1].start(2) : cited[-1].end(2)]
            if cited[-1].group(1):  # 《国务院关于印发X的通知》: the plan carries X out
                subject = f"贯彻落实{subject}"
            kind = because.group(1)
            kind = {"意见": "实施意见", "方案": "实施方案", "计划": "实施计划"}.get(kind, kind)
            title = f"关于{subject}的{kind}"
            if to_simplified(subject) != subject:  # keep the document's script
                title = to_traditional(title)
            return Title(title, True, None)
    return Title(None, False, None)


def _date_of(found: re.Match[str]) -> dt.date | None:
    year_text = found.group(1)
    year = (
        int(year_text) if year_text.isdigit() else int("".join(str(cn_to_int(ch) or 0) for ch in year_text))
    )
    month = cn_to_int(found.group(2)) or 0
    day = cn_to_int(found.group(3)) if found.group(3) else 1
    try:
        return dt.date(year, month, day or 1)
    except ValueError:
        return None


def find_issue_date(date_lines: Sequence[Line], header: Sequence[Line]) -> dt.date | None:
    """The issue date: a date line at the head or the foot, else a year and month in a short head line."""
    for line in date_lines:
        found = _FULL_DATE.search(line.key)
        if found is not None and found.group(3):
            date = _date_of(found)
            if date is not None:
                return date
    for line in header:
        if len(line.key) <= 40:
            found = _FULL_DATE.search(line.key)
            if found is not None and not _YEAR_RANGE.search(line.key):
                date = _date_of(found)
                if date is not None:
                    return date
    return None


def find_horizon(title: str | None, title_key: str | None, goals_texts: Sequence[str]) -> dt.date | None:
    """The end of the plan period: the title's range or five-year plan, else the first goals year."""
    key = title_key or title or ""
    years = [int(found.group(2)) for found in _YEAR_RANGE.finditer(key)]
    if years:
        return dt.date(max(years), 12, 31)
    plan = _FIVE_YEAR.search(key)
    if plan is not None:
        ordinal = 10 + (cn_to_int(plan.group(1)) or 0)
        return dt.date(1955 + 5 * ordinal, 12, 31)
    for text in goals_texts:
        found = _BY_YEAR.search(text)
        if found is not None:
            return dt.date(int(found.group(1)), 12, 31)
    return None


def find_doc_number_year(header: Sequence[Line]) -> int | None:
    """The year of the document number (文号) on a head line of its own: 国办发〔2018〕128号 → 2018."""
    for line in [line for line in header if line.key][:_NUMBER_LINES]:
        key = re.sub(r"\s", "", line.key)
        found = _DOC_NUMBER.match(key)
        if found is not None and len(key) - found.end() <= 12 and not _TITLE_STOP.search(key[: found.end()]):
            return int(found.group(1))
    return None


_NUMBER_BRACKETS = str.maketrans("[［【(（]］】)）", "〔〔〔〔〔〕〕〕〕〕")


def find_doc_number(header: Sequence[Line]) -> str | None:
    """The document number (文号) on a head line of its own, in one spelling: simplified, no spaces, 〔〕
    brackets, no 第 — 内政发[2016] 1号 and （內政發〔2016〕第1號） both read 内政发〔2016〕1号."""
    for line in [line for line in header if line.key][:_NUMBER_LINES]:
        key = re.sub(r"\s", "", line.key)
        if key.startswith("(") and key.endswith(")"):
            key = key[1:-1]
        found = _DOC_NUMBER.match(key)
        if found is not None and len(key) - found.end() <= 12 and not _TITLE_STOP.search(key[: found.end()]):
            number = found.group(0).translate(_NUMBER_BRACKETS)
            return re.sub(r"〕第", "〕", number)
    return None


def find_title_year(title: str | None) -> int | None:
    """The one year a plan's title gives as its own (2024年工作要点), not a span (2021-2023年) or a target."""
    return _title_year(title) if title else None


@lru_cache(maxsize=64)
def _title_year(title: str) -> int | None:
    key = to_simplified(title)
    if _YEAR_RANGE.search(key) or _BY_YEAR.search(key):
        return None
    years = {int(found.group(1)) for found in _TITLE_YEAR.finditer(key)}
    return years.pop() if len(years) == 1 else None


def find_doc_year(issue_date: dt.date | None, header: Sequence[Line], title: Title | None) -> int | None:
    """The document's own year, for deadlines that name no year: issue date, else 文号, else the title's year.

    A plan for the next year issued in the year before ("2025年工作要点" dated 2024-12-20, or numbered
    〔2024〕) speaks of its own year: the title's year wins when it is the year after the issue's.
    """
    titled = find_title_year(title.text if title is not None else None)
    issued = issue_date.year if issue_date is not None else find_doc_number_year(header)
    if issued is None:
        return titled
    return titled if titled == issued + 1 else issued
