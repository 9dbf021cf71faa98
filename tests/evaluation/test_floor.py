"""The parser's figures on the evaluation corpus never fall below those recorded in evaluation/floor.json."""

from __future__ import annotations

import json
import os

import pytest

from evaluation.run import FLOOR_FILE, SHARED, below_floor, documents, groups, score_all
from evaluation.score import score_document
from evaluation.truth import TruthDocument, TruthMeasure


def test_the_corpus_figures_hold_the_recorded_floor() -> None:
    if not (SHARED / "corpus").is_dir() and os.environ.get("CI") != "true":
        pytest.skip("../shared/corpus is not beside the repository")
    floor = json.loads(FLOOR_FILE.read_text(encoding="utf-8"))
    scores = score_all(documents())
    assert below_floor(scores, floor) == [], {name: group.figures() for name, group in groups(scores).items()}


def test_the_seeds_are_read_in_full() -> None:
    if not (SHARED / "golden").is_dir() and os.environ.get("CI") != "true":
        pytest.skip("../shared/golden is not beside the repository")
    seeds = [document for document in documents() if document.collection == "seeds"]
    scores = score_all(seeds)
    assert sum(s.matched for s in scores) == sum(s.truth for s in scores) == 291
    assert sum(s.deadline_invented for s in scores) == 0


def test_scoring_counts_what_is_wrong() -> None:
    truth = TruthDocument(
        "sample",
        FLOOR_FILE,
        "project",
        (
            TruthMeasure("1", ("开展排查整治",), ("区生态环境局",), ("各街道",), None),
            TruthMeasure("2", ("建立长效机制",), ("区城管局",), (), "2024年底前"),
            TruthMeasure("3", ("加强宣传引导",), (), (), None),
        ),
    )
    parsed = {
        "measures": [
            {
                "title": "开展排查整治",
                "body": "",
                "lead": ["区生态环境局"],
                "cooperating": [],
                "deadline_text": None,
            },
            {
                "title": "建立长效机制",
                "body": "",
                "lead": ["区住建局"],
                "cooperating": [],
                "deadline_text": "2025年",
            },
            {"title": "其他", "body": "", "lead": [], "cooperating": [], "deadline_text": "2024年底前"},
        ]
    }
    score = score_document(truth, parsed, "开展排查整治区生态环境局各街道建立长效机制区城管局", None)
    assert (score.matched, score.lead_exact, score.coop_fn, score.deadline_exact) == (2, 1, 1, 1)
    assert score.units_not_in_text == ["区住建局"]
    assert score.recall == pytest.approx(2 / 3) and score.precision == pytest.approx(2 / 3)
