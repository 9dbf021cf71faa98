"""What every spreadsheet export shares: text from documents and reports never runs as a formula, and
CSV is written so that spreadsheet programs read the Chinese."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, Final

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell: Any) -> None:
    """Keep an openpyxl cell whose text starts with `=` a string instead of a formula."""
    if cell.data_type == "f":
        cell.data_type = "s"


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 CSV with a byte-order mark and CRLF lines; text a spreadsheet would run as a formula is
    quoted with an apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for cells in rows:
        writer.writerow(
            [f"'{c}" if isinstance(c, str) and c.startswith(FORMULA_STARTS) else c for c in cells]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _quoted(cell: object) -> object:
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell
