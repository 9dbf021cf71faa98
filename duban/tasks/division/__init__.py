"""The 分工方案 round trip: export a plan's tasks as XLSX or CSV, import the edited file back."""

from duban.tasks.division.apply import DivisionImportResult, import_division
from duban.tasks.division.dates import parse_deadline
from duban.tasks.division.reading import read_division
from duban.tasks.division.sheet import HEADERS, DivisionRow, division_rows, to_csv, to_xlsx

__all__ = [
    "HEADERS",
    "DivisionImportResult",
    "DivisionRow",
    "division_rows",
    "import_division",
    "parse_deadline",
    "read_division",
    "to_csv",
    "to_xlsx",
]
