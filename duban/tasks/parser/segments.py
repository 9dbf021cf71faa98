"""Annotated segments: a numbered item that carries several responsibility annotations is several tasks.

"（一）强化顶层设计引领。建立指标体系……（生态环境部牵头，……参与）\n优化管理体制……（生态环境部指导，……）"
holds two measures, one per annotated sentence group, so that no unit changes role by merging. A segment
runs from the end of the previous one to the end of its annotation (and the 。 after it); its heading is its
first sentence. Text after the last annotation stays with the last segment.
"""

from __future__ import annotations

from dataclasses import dataclass

from duban.tasks.parser.responsibility import find_annotations

_CLOSERS = "。；;"
_MAX_SEGMENT_TITLE = 80


@dataclass(frozen=True, slots=True)
class Segment:
    """One annotated part of a measure's body: its heading sentence, body and offset in the body."""

    title: str
    body: str
    offset: int


def _closes(body: str, end: int) -> int | None:
    """Where a segment ends if an annotation ending at `end` closes its sentence or paragraph."""
    position = end
    while position < len(body) and body[position] in " \t\u3000":
        position += 1
    if position < len(body) and body[position] in _CLOSERS:
        position += 1
    while position < len(body) and body[position] in " \t\u3000":
        position += 1
    if position >= len(body) or body[position] == "\n":
        return position
    if body[position - 1] in _CLOSERS or body[end - 1] in "）)":
        return position
    return None


def _heading(text: str) -> tuple[str, str]:
    stop = text.find("。")
    if 0 < stop <= _MAX_SEGMENT_TITLE and stop < len(text) - 1:
        return text[:stop].strip(), text[stop + 1 :].lstrip()
    return "", text


def split_segments(body: str) -> list[Segment] | None:
    """The annotated segments of a measure's body, or None when it has fewer than two."""
    if body.count("（") + body.count("(") < 2:
        return None
    cuts: list[int] = []
    for annotation in find_annotations(body):
        if not annotation.groups:
            continue
        close = _closes(body, annotation.end + 1)
        if close is not None and (not cuts or close > cuts[-1]):
            cuts.append(close)
    if len(cuts) < 2:
        return None
    if body[cuts[-1] :].strip():
        cuts[-1] = len(body)
    segments: list[Segment] = []
    start = 0
    for cut in cuts:
        piece = body[start:cut]
        lead = len(piece) - len(piece.lstrip(" \t\u3000\n"))
        title, rest = _heading(piece.strip(" \t\u3000\n"))
        segments.append(Segment(title, rest.rstrip(), start + lead))
        start = cut
    return segments
