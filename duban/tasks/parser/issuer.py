"""The issuing organ (发文机关) of a document, as the document names it.

Read, in this order, from the head — `国务院办公厅关于…`, `工业和信息化部等七部门关于…`, a letterhead
`内蒙古自治区人民政府文件`, a line of organs above a `关于…` title — then from a signature (lines of organs
right above a date line: the 印发通知's at the head, or the document's at its foot), then from a byline
under the title (`（内蒙古自治区环境保护厅　2017年6月）`). A region alone (`内蒙古自治区关于…`) is not an
organ. The result is in simplified script, several organs joined by 、.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from duban.tasks.parser.normalize import Line
from duban.tasks.parser.paragraphs import DATE_LINE

# What an organ's name ends with (国务院, 人民政府, 办公厅, 委员会, 生态环境厅, 海事局, 工业和信息化部 …).
_SUFFIX = (
    r"(?:国务院|中央|人民政府|政府|行政公署|公署|办公厅|办公室|常委会|委员会|管委会|党委|党组|领导小组"
    r"|指挥部|委|厅|局|部|署|院|办|中心|总队)"
)
_ORGAN = rf"(?:(?!关于|印发|转发)[\u4e00-\u9fff]){{1,28}}?{_SUFFIX}"
_SEPARATOR = r"(?:\s*[、，,]\s*|\s+)"
_ORGANS = rf"{_ORGAN}(?:{_SEPARATOR}{_ORGAN}){{0,11}}"
_ETC = r"等[一二三四五六七八九十\d]{1,3}个?(?:部门|单位)|等(?:部门|单位)"
_HEAD = re.compile(rf"({_ORGANS})\s*({_ETC})?\s*(?:联合)?(?:关于|印发|转发)")
_LETTERHEAD = re.compile(rf"({_ORGANS})\s*文件")
_ORGAN_LINE = re.compile(_ORGANS)
_BYLINE = re.compile(rf"\(\s*({_ORGANS})\s*(?:{DATE_LINE.pattern})?\s*\)")
_SPLIT = re.compile(_SEPARATOR)
_HEAD_LINES = 12  # the head is short: banner, letterhead, title, 文号, greeting
_FOOT_LINES = 30
_SIGNATURE_LINES = 12
_LINE_CHARS = 80  # longer lines are text, not a head or a signature (and bound the regex work)


@dataclass(frozen=True, slots=True)
class Issuer:
    """The issuing organ(s) and where the document names them: head, letterhead, signature or byline."""

    name: str
    source: str


def _joined(organs: str, etc: str | None = None) -> str:
    return "、".join(part for part in _SPLIT.split(organs.strip()) if part) + (etc or "")


def _keys(lines: Sequence[Line]) -> list[str]:
    return [line.key.strip() for line in lines if line.key.strip()]


def _from_head(keys: Sequence[str]) -> Issuer | None:
    for index, key in enumerate(keys[:_HEAD_LINES]):
        if key.endswith(":"):
            break  # the greeting (各盟行政公署、市人民政府…：) ends the head
        if len(key) > _LINE_CHARS:
            continue
        letterhead = _LETTERHEAD.fullmatch(key)
        if letterhead is not None:
            return Issuer(_joined(letterhead.group(1)), "letterhead")
        candidates = [key]
        if index + 1 < len(keys) and _ORGAN_LINE.fullmatch(key):
            candidates.append(key + keys[index + 1][:_LINE_CHARS])  # 国务院办公厅 / 关于…的函
        for candidate in candidates:
            found = _HEAD.match(candidate)
            if found is not None:
                return Issuer(_joined(found.group(1), found.group(2)), "head")
    return None


def _signature(keys: Sequence[str]) -> str | None:
    """Organ lines right above the last date line of `keys`, joined; None when there are none."""
    for index in range(len(keys) - 1, 0, -1):
        if not DATE_LINE.fullmatch(keys[index]):
            continue
        organs: list[str] = []
        above = index - 1
        while above >= 0 and len(organs) < _SIGNATURE_LINES:
            key = keys[above]
            if len(key) > _LINE_CHARS or not _ORGAN_LINE.fullmatch(key):
                break
            organs.insert(0, _joined(key))
            above -= 1
        if organs:
            return "、".join(organs)
    return None


def _byline(keys: Sequence[str]) -> str | None:
    for key in keys[: _HEAD_LINES * 2]:
        if len(key) <= _LINE_CHARS:
            found = _BYLINE.fullmatch(key)
            if found is not None:
                return _joined(found.group(1))
    return None


def find_issuer(header: Sequence[Line], lines: Sequence[Line]) -> Issuer | None:
    """The organ(s) that issued the document: head, then a signature at the head, a byline, the foot."""
    head = _keys(header)
    found = _from_head(head)
    if found is not None:
        return found
    signed = _signature(head[: _HEAD_LINES * 3])  # the 印发通知's signature, near the top
    if signed is not None:
        return Issuer(signed, "signature")
    byline = _byline(head)
    if byline is not None:
        return Issuer(byline, "byline")
    foot = _signature(_keys(lines[-_FOOT_LINES * 3 :])[-_FOOT_LINES:])
    return Issuer(foot, "signature") if foot is not None else None
