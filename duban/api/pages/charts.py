"""Bar charts as server-rendered SVG: the geometry is computed here, `_charts.html` draws it (escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

LABEL_WIDTH: Final = 220
BAR_WIDTH: Final = 420
ROW_HEIGHT: Final = 22
VALUE_WIDTH: Final = 90


@dataclass(frozen=True)
class Segment:
    """A piece of a bar: its x offset and width in pixels, its CSS class, and what its tooltip names."""

    x: float
    width: float
    css: str
    name: str
    value: str


@dataclass(frozen=True)
class Bar:
    """One labelled bar."""

    label: str
    text: str
    y: int
    segments: list[Segment] = field(default_factory=list)


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart: title, bars, the legend and the drawing's size."""

    title: str
    bars: list[Bar]
    legend: list[tuple[str, str]]
    width: int = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    label_width: int = LABEL_WIDTH
    row_height: int = ROW_HEIGHT

    @property
    def height(self) -> int:
        """Pixels needed for every bar (at least one row)."""
        return max(1, len(self.bars)) * ROW_HEIGHT + 8


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, float | None, str]],
    *,
    maximum: float | None = None,
    css: str = "bar",
) -> Chart:
    """One bar per (label, value, text); values scale to the largest (or `maximum`); None draws no bar."""
    top = maximum or max((v for _, v, _ in rows if v is not None), default=0.0) or 1.0
    bars = []
    for index, (label, value, text) in enumerate(rows):
        segments = []
        if value is not None and value > 0:
            segments.append(
                Segment(LABEL_WIDTH, round(BAR_WIDTH * min(value, top) / top, 1), css, title, text)
            )
        bars.append(Bar(label, text, index * ROW_HEIGHT + 4, segments))
    return Chart(title, bars, [])


def stacked_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[tuple[str, int]]]],
    legend: Sequence[tuple[str, str]],
) -> Chart:
    """One bar per label made of (css class, count) pieces, scaled to the largest total."""
    top = max((sum(n for _, n in parts) for _, parts in rows), default=0) or 1
    names = dict(legend)
    bars = []
    for index, (label, parts) in enumerate(rows):
        x = float(LABEL_WIDTH)
        segments = []
        for css, count in parts:
            if count <= 0:
                continue
            width = round(BAR_WIDTH * count / top, 1)
            segments.append(Segment(x, width, css, names.get(css, css), str(count)))
            x += width
        total = sum(n for _, n in parts)
        bars.append(Bar(label, str(total), index * ROW_HEIGHT + 4, segments))
    return Chart(title, bars, list(legend))
