"""What the file readers share: the refusal they raise and how a table cell's lines become one cell."""

from __future__ import annotations

import itertools
import re

from duban.tasks.parser.model import ParseError

# A piece that ends (or a next piece that starts) with punctuation is joined to its neighbour as it is.
_PUNCTUATION = "。；;，,、：:！!？?（(）)“”《》"
_SENTENCE = re.compile(r"[。；;，,！!？?]")
_NAME_MAX = 25
_SPACES = re.compile(r"[\t\r\n\f\v\u2028\u2029]+")


# What a 5 MB upload may unpack to (zip members, PDF streams): a bigger one is a decompression bomb.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024


def too_large_unpacked() -> ParseError:
    """The refusal of a file that unpacks to more than MAX_UNPACKED_BYTES."""
    limit = MAX_UNPACKED_BYTES // (1024 * 1024)
    return reject(
        f"文件解压后超过 {limit} MB，不像一份公文，未读取",
        f"the file unpacks to more than {limit} MB; not read",
        "unpacked_too_large",
    )


def reject(message_zh: str, message_en: str, code: str, line: int | None = None) -> ParseError:
    """The ParseError a reader raises: Chinese message, English message, stable code."""
    return ParseError(message_zh, message_en, code=code, line=line)


def _is_cjk(char: str) -> bool:
    return "\u3000" <= char <= "\u9fff" or "\uf900" <= char <= "\uffef"


def join_cell_lines(pieces: list[str], *, soft_wraps: bool = False) -> str:
    """One table cell from its lines: wrapped text joined, short name lines listed with 、, no tabs.

    ``soft_wraps`` is for PDF cells, whose lines are where the text wrapped (never a list): CJK lines join
    without a separator and Latin ones with a space. A Word or Excel cell's lines are paragraphs the author
    typed: short lines without sentence punctuation are names one a line ("市交通委" / "市发展改革委") and
    join with 、 so that the units reader sees a list; longer text joins as it is.
    """
    parts = [_SPACES.sub(" ", piece).strip() for piece in pieces]
    parts = [part for part in parts if part]
    if not parts:
        return ""
    text = parts[0]
    for previous, part in itertools.pairwise(parts):
        if previous[-1] in _PUNCTUATION or part[0] in _PUNCTUATION:
            separator = ""
        elif soft_wraps:
            separator = "" if _is_cjk(previous[-1]) or _is_cjk(part[0]) else " "
        elif (
            len(previous) <= _NAME_MAX
            and len(part) <= _NAME_MAX
            and not _SENTENCE.search(previous)
            and not _SENTENCE.search(part)
        ):
            separator = "、"
        else:
            separator = "" if _is_cjk(previous[-1]) or _is_cjk(part[0]) else " "
        text += separator + part
    return text
