"""The sweep's workflow side: per-date thresholds, one SELECT per rule of the notices due, ladder moves.

The notifications side (``duban.notifications.outbox``) inserts those SELECTs into the outbox and hands
the claimed rows back to ``raise_levels``, all in one transaction.
"""

from __future__ import annotations

from duban.workflow.sweep.ladder import LadderOutcome, LadderTarget, apply_ladder_action, raise_levels
from duban.workflow.sweep.periods import Period, period_containing, period_label, periods_of
from duban.workflow.sweep.rules import (
    NOTICE_COLUMNS,
    NoticeQuery,
    RuleContext,
    frequencies_in_use,
    notice_queries,
)
from duban.workflow.sweep.thresholds import Thresholds, day_start

__all__ = [
    "NOTICE_COLUMNS",
    "LadderOutcome",
    "LadderTarget",
    "NoticeQuery",
    "Period",
    "RuleContext",
    "Thresholds",
    "apply_ladder_action",
    "day_start",
    "frequencies_in_use",
    "notice_queries",
    "period_containing",
    "period_label",
    "periods_of",
    "raise_levels",
]
