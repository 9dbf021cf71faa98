"""The ranking: weights read from data (and refused when wrong), scores and ranks computed from the
scorecard figures — ties share a rank, 厅局 and 盟市 ranked apart, nothing due costs nothing."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from duban.tasks.enums import NoticeColour, SupervisionLevel
from duban.workflow.records import DepartmentStats
from duban.workflow.scorecards import (
    WEIGHTS_FILE,
    ScoreWeightsInvalid,
    bundled_weights,
    parse_weights,
    rank_scores,
)


def stats(
    department_id: int, code: str, *, due: int, on_time: int, late_days: int = 0, returns: int = 0
) -> DepartmentStats:
    return DepartmentStats(
        department_id=department_id,
        code=code,
        name=code,
        tasks_led=due,
        completed=on_time,
        completed_on_time=on_time,
        due=due,
        on_time_rate=round(on_time / due, 4) if due else None,
        overdue_now=due - on_time,
        overdue_now_days=0,
        overdue_now_working_days=0,
        late_tasks=1 if late_days else 0,
        days_late_total=late_days,
        days_late_avg=None,
        working_days_late_total=late_days,
        returns=returns,
        extensions_requested=0,
        extensions_granted=0,
        highest_level=SupervisionLevel.none,
    )


def test_the_bundled_weights_are_the_data_file() -> None:
    weights = bundled_weights()
    data: dict[str, Any] = yaml.safe_load(WEIGHTS_FILE.read_text(encoding="utf-8"))
    assert (weights.version, weights.base, weights.per_notice[NoticeColour.red]) == (
        data["version"],
        data["base"],
        data["per_notice"]["red"],
    )
    assert ("督办单", "每份：蓝色 3 分、橙色 5 分、红色 8 分") in weights.rows()


@pytest.mark.parametrize(
    ("change", "message"),
    [({"per_return": -1}, "负"), ({"per_notice": {"blue": 1}}, "缺项"), ({"base": "many"}, "格式")],
)
def test_wrong_weights_are_refused(change: dict[str, Any], message: str) -> None:
    data = {**yaml.safe_load(WEIGHTS_FILE.read_text(encoding="utf-8")), **change}
    with pytest.raises(ScoreWeightsInvalid) as caught:
        parse_weights(data)
    assert message in caught.value.message_zh


def test_scores_rank_within_each_group_and_ties_share_a_rank() -> None:
    weights = bundled_weights()
    figures = [
        stats(1, "a", due=4, on_time=4),
        stats(2, "b", due=4, on_time=2, late_days=10, returns=1),
        stats(3, "c", due=4, on_time=4),
        stats(4, "d", due=0, on_time=0),  # nothing due: no deduction for the rate
        stats(5, "region-x", due=2, on_time=1, late_days=40),
        stats(6, "region-y", due=2, on_time=2),
    ]
    colours = {2: {NoticeColour.red: 1}, 5: {NoticeColour.blue: 2}}
    ranked = rank_scores(figures, colours, {5, 6}, weights)
    places = [(s.stats.code, s.rank, s.score) for s in ranked]
    assert places == [
        ("a", 1, 100.0),
        ("c", 1, 100.0),
        ("d", 3, 100.0),  # same score, but no rate to tie on
        ("b", 4, 100 - 20 - 5 - 2 - 8),
        ("region-y", 1, 100.0),
        ("region-x", 2, 100 - 20 - 15 - 6),  # working days late capped at 30
    ]
    b = next(s for s in ranked if s.stats.code == "b")
    assert b.deductions == {"late_share": 20.0, "working_days_late": 5.0, "returns": 2.0, "notices": 8.0}
    assert b.notices_total == 1 and b.region is False
