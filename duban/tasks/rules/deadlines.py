"""The deadline a measure gets when its document sets none: always marked as a default, never the document's.

Rule: the plan's horizon (规划期末) when the document states one; otherwise the end of the year after the
plan's issue date (印发次年年底), or, when the issue date is unknown too, the end of the year after the
import (导入次年年底) — long enough for a measure of an open-ended 实施方案, short enough to be reviewed.
"""

from __future__ import annotations

import datetime as dt

from duban.core import clock

HORIZON_NOTE = (
    "文件未写明时限，暂按规划期末（默认时限） / no deadline in the document: the plan's horizon (default)"
)
ISSUE_NOTE = (
    "文件未写明时限且无规划期，暂按印发次年年底（默认时限） / "
    "no deadline and no horizon in the document: end of the year after issue (default)"
)
IMPORT_NOTE = (
    "文件未写明时限、规划期和印发日期，暂按导入次年年底（默认时限） / "
    "no deadline, horizon or issue date in the document: end of the year after import (default)"
)
DEFAULT_SOURCE = "default"


def default_deadline(horizon: dt.date | None, issue_date: dt.date | None) -> tuple[dt.date, str]:
    """The default deadline and its note (zh / en) for a measure whose document sets none."""
    if horizon is not None:
        return horizon, HORIZON_NOTE
    if issue_date is not None:
        return dt.date(issue_date.year + 1, 12, 31), ISSUE_NOTE
    return dt.date(clock.today().year + 1, 12, 31), IMPORT_NOTE
