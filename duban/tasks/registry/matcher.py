"""Leftmost-longest matching of many literal names at once, via one regex shaped like a trie."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")

_END = ""  # trie key marking that a surface ends at this node (no real character is empty)


@dataclass(frozen=True)
class Match(Generic[V]):
    """A surface found in the scanned text, with the value it was registered under."""

    start: int
    end: int
    surface: str
    value: V


def _trie(surfaces: Iterable[str]) -> dict[str, object]:
    root: dict[str, object] = {}
    for surface in surfaces:
        node = root
        for char in surface:
            child = node.setdefault(char, {})
            assert isinstance(child, dict)
            node = child
        node[_END] = True
    return root


def _pattern(node: dict[str, object]) -> str:
    alternatives = []
    for char in sorted(key for key in node if key != _END):
        child = node[char]
        assert isinstance(child, dict)
        alternatives.append(re.escape(char) + _pattern(child))
    if not alternatives:
        return ""
    body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
    # Children are tried before stopping here: the greedy `?` makes the match the longest surface.
    return f"(?:{body})?" if _END in node else body


class LiteralMatcher(Generic[V]):
    """Finds every registered surface in a text, leftmost first, longest at each start, no overlaps."""

    def __init__(self, surfaces: Mapping[str, V]) -> None:
        """Compile the surfaces (non-empty strings) once; matching is then a single regex scan."""
        self._values = dict(surfaces)
        if any(not surface for surface in self._values):
            raise ValueError("empty surface")
        self._regex = re.compile(_pattern(_trie(self._values))) if self._values else None

    def __contains__(self, surface: str) -> bool:
        """Whether `surface` is registered exactly."""
        return surface in self._values

    def get(self, surface: str) -> V | None:
        """The value of an exactly registered surface."""
        return self._values.get(surface)

    def scan(self, text: str) -> Iterator[Match[V]]:
        """Every match in `text`, in order."""
        if self._regex is None:
            return
        for found in self._regex.finditer(text):
            surface = found.group()
            yield Match(found.start(), found.end(), surface, self._values[surface])
