"""Chinese script helpers: OpenCC simplification, script detection and width folding, all pure.

Every function here keeps the length of its input (one code point in, one code point out), so a span
found on the converted text is the same span on the original. OpenCC's t2s dictionaries (TSPhrases,
TSCharacters, CJK_Compatibility_Ideographs) map every key to a value of the same length; the checks in
tests/tasks/test_chinese.py hold this for every CJK ideograph, and `_convert` falls back to a
character-by-character conversion should a future dictionary ever break the rule.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

import opencc

Script = Literal["simplified", "traditional"]

# OpenCC's C library takes UTF-8, which cannot carry lone surrogates; they pass through unchanged.
_SURROGATES = re.compile("([\ud800-\udfff]+)")

# A regex finds the few characters to fold; str.translate with a dict is several times slower on CJK text.
_FULL_WIDTH_ALNUM = re.compile("[０-９Ａ-Ｚａ-ｚ\u3000]")


def _half_width(match: re.Match[str]) -> str:
    char = match.group()
    return " " if char == "\u3000" else chr(ord(char) - 0xFEE0)


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def _convert(config: str, text: str) -> str:
    if not text:
        return text
    if _SURROGATES.search(text):
        parts = _SURROGATES.split(text)
        return "".join(part if index % 2 else _convert(config, part) for index, part in enumerate(parts))
    converted: str = _converter(config).convert(text)
    if len(converted) == len(text):
        return converted
    # A phrase mapped to a different length: convert one character at a time so offsets hold.
    singles = [_converter(config).convert(char) for char in text]
    return "".join(single if len(single) == 1 else char for single, char in zip(singles, text, strict=True))


def to_simplified(text: str) -> str:
    """Simplified-script copy of `text` (OpenCC t2s), same length as the input."""
    return _convert("t2s", text)


def to_traditional(text: str) -> str:
    """Traditional-script copy of `text` (OpenCC s2t), same length as the input."""
    return _convert("s2t", text)


def _changed(original: str, converted: str) -> int:
    return sum(1 for a, b in zip(original, converted, strict=True) if a != b)


def detect_script(text: str) -> Script:
    """ "traditional" when more characters are traditional-only than simplified-only, else "simplified"."""
    traditional_only = _changed(text, to_simplified(text))
    if traditional_only == 0:
        # Nothing is traditional-only, so the answer is "simplified" whatever s2t finds; skipping it also
        # skips loading OpenCC's s2t dictionaries (~0.1 s on first use).
        return "simplified"
    simplified_only = _changed(text, to_traditional(text))
    return "traditional" if traditional_only > simplified_only else "simplified"


def normalize_width(text: str) -> str:
    """Full-width ASCII letters, digits and the ideographic space folded to half-width; punctuation kept."""
    return _FULL_WIDTH_ALNUM.sub(_half_width, text)
