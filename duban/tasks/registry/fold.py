"""Folding a text for matching: width, script and dashes unified, whitespace dropped, offsets kept."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from duban.tasks.chinese import normalize_width, to_simplified

# Word exports and page breaks put spaces, line breaks and zero-width characters inside names.
_KEPT_RUNS = re.compile("[^\\s\u200b-\u200d\u2060\ufeff]+")
_DASHES = re.compile("[‐‑‒–—―－]")


def fold_chars(text: str) -> str:
    """Same-length folded copy: half-width alphanumerics, simplified script, ASCII dashes."""
    return _DASHES.sub("-", to_simplified(normalize_width(text)))


def fold_key(text: str) -> str:
    """Folded copy without whitespace, for looking a whole name up."""
    return "".join(_KEPT_RUNS.findall(fold_chars(text)))


@dataclass(frozen=True)
class FoldedText:
    """A folded copy of a text without whitespace, and the way back to the original offsets."""

    text: str
    run_starts: tuple[int, ...]  # offset of each kept run in `text`
    run_origins: tuple[int, ...]  # offset of the same run in the original

    def original(self, index: int) -> int:
        """Original offset of the folded character at `index`."""
        run = bisect_right(self.run_starts, index) - 1
        return self.run_origins[run] + index - self.run_starts[run]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original span of the folded span [start, end) (end > start)."""
        return self.original(start), self.original(end - 1) + 1


def fold_text(text: str) -> FoldedText:
    """Fold `text` for scanning; spans found on the result map back with `FoldedText.span`."""
    folded = fold_chars(text)
    pieces: list[str] = []
    starts: list[int] = []
    origins: list[int] = []
    length = 0
    for match in _KEPT_RUNS.finditer(folded):
        piece = match.group()
        pieces.append(piece)
        starts.append(length)
        origins.append(match.start())
        length += len(piece)
    return FoldedText("".join(pieces), tuple(starts), tuple(origins))
