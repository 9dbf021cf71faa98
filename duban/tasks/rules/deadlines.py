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


def default_deadline(
    horizon: dt.date | None,
    issue_date: dt.date | None,
    *,
    ongoing: str | None = None,
    impossible: str | None = None,
) -> tuple[dt.date, str]:
    """The default deadline and its note (zh / en) for a measure whose document sets none.

    `ongoing` ("长期坚持") and `impossible` ("2月30日") say why there is none: the note then quotes the
    document instead of saying it gave no time at all.
    """
    if horizon is not None:
        date, note = horizon, HORIZON_NOTE
    elif issue_date is not None:
        date, note = dt.date(issue_date.year + 1, 12, 31), ISSUE_NOTE
    else:
        date, note = dt.date(clock.today().year + 1, 12, 31), IMPORT_NOTE
    when_zh, when_en = note.split("暂按", 1)[1].split(" / ", 1)[0], note.rsplit(": ", 1)[1]
    if ongoing:
        return date, (
            f"文件写明“{ongoing}”，是持续性工作，没有完成时限；暂按{when_zh} / "
            f"the document says {ongoing!r}: ongoing work with no deadline; checkpoint: {when_en}"
        )
    if impossible:
        return date, (
            f"文件写的日期“{impossible}”不存在，未作为时限；暂按{when_zh} / "
            f"the date {impossible!r} in the document does not exist; not a deadline: {when_en}"
        )
    return date, note
