"""Regions a measure names, with the context rules, and a comparison with the golden reading."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban.tasks.parser.regions import extract_regions
from duban.tasks.registry import Registry, default_registry
from duban.tasks.registry.loading import load_departments, load_regions


@pytest.fixture(scope="module")
def registry() -> Registry:
    return default_registry()


@pytest.fixture(scope="module")
def bare_registry() -> Registry:
    """The bundled registry without its region exclude_contexts: the context rules here must hold alone."""
    departments, regions = load_departments(None), load_regions(None)
    return Registry(
        departments.departments,
        regions.regions,
        department_exclusions=departments.exclude_contexts,
        matchable_short=regions.matchable_short,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("支持包头开展“无废城市”建设。", ["包头"]),
        ("推进乌海及周边地区环境综合整治。", ["乌海"]),
        ("通辽北部地区加强治理。", ["通辽"]),
        (
            "鄂尔多斯市准格尔旗、巴彦淖尔市杭锦后旗开展试点。",
            ["鄂尔多斯市", "准格尔旗", "巴彦淖尔市", "杭锦后旗"],
        ),
        ("推进呼包鄂协同发展，包头市率先达标。", ["呼包鄂", "包头市"]),
        ("建设鄂托克经济开发区和林草碳汇（包头）试验区。", ["鄂托克", "包头"]),
        ("呼和浩特大黑河大入黄口、包头市、呼和浩特市断面。", ["呼和浩特", "包头市"]),
        ("赤峰、赤峰市、赤峰红山经济开发区", ["赤峰", "红山"]),
    ],
)
def test_places_as_written_in_first_appearance_order(
    registry: Registry, text: str, expected: list[str]
) -> None:
    assert extract_regions(text, registry) == expected


@pytest.mark.parametrize(
    "text",
    [
        "加强呼伦贝尔草原、锡林郭勒草原保护。",
        "治理呼伦贝尔沙地和科尔沁沙地。",
        "保护呼伦贝尔、科尔沁、阿拉善天然草原。",
        "加强额尔古纳河、额尔古纳湿地保护。",
        "保护额尔古纳、哈拉哈界河生态。",
        "建设大兴安岭生态屏障。",
        "打造赤峰小米、乌海葡萄、锡林郭勒羊、乌兰察布马铃薯等区域公用品牌。",
        "推广磴口模式。",
        "以海勃湾、尼尔基、红山等大中型水库为调蓄结点。",
        "落实《乌兰察布市岱海水生态保护规划》。",
        "推进锡林郭勒浑善达克沙地治理。",
        "各盟市、旗县（市、区）要加强监管。",
        "北京市、深圳市开展试点。",
    ],
)
def test_not_places_of_the_measure(bare_registry: Registry, text: str) -> None:
    assert extract_regions(text, bare_registry) == []


def test_a_grassland_area_of_a_league_stays(registry: Registry) -> None:
    assert extract_regions("锡林郭勒等草原区开展草畜平衡。", registry) == ["锡林郭勒"]


def test_full_names_are_never_features(registry: Registry) -> None:
    assert extract_regions("呼伦贝尔市草原保护修复。", registry) == ["呼伦贝尔市"]


def test_traditional_script_as_written(registry: Registry) -> None:
    text = "呼和浩特、包頭、烏海及周邊地區、鄂爾多斯市準格爾旗和達拉特旗等地區"
    assert extract_regions(text, registry) == [
        "呼和浩特",
        "包頭",
        "烏海",
        "鄂爾多斯市",
        "準格爾旗",
        "達拉特旗",
    ]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_is_read_without_error_and_deterministically(text: str) -> None:
    registry = default_registry()
    assert extract_regions(text, registry) == extract_regions(text, registry)


def test_large_input_with_control_characters(registry: Registry) -> None:
    chunk = "包头市\x00鄂尔多斯草原、\u200b赤峰小米《乌海规划》通辽\x1f"
    text = chunk * (100_000 // len(chunk))
    assert extract_regions(text, registry) == ["包头市", "通辽"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("unit", ["包头、", "呼伦贝尔", "呼伦贝尔、科尔沁、", "《", "赤峰小米"])
def test_repetitive_100_kb_inputs_stay_linear(registry: Registry, unit: str) -> None:
    extract_regions(unit * (100_000 // len(unit)), registry)


# --- golden reading: all 291 measures -----------------------------------------------------------

SHARED = Path(__file__).resolve().parents[4] / "shared"
GOLDEN = sorted((SHARED / "golden" / "seeds").glob("*.truth.json"))


def golden_measures() -> Iterator[tuple[dict[str, Any], str]]:
    """(golden measure, its title + body as located in the seed via first_chars/last_chars)."""
    for path in GOLDEN:
        truth = json.loads(path.read_text(encoding="utf-8"))
        text = (SHARED / "seeds" / truth["file"]).read_text(encoding="utf-8")
        text = re.sub(r"\[bookmark: [^\]]*\]", "", text)
        if truth["file"].startswith("003"):  # page breaks, one repeating a character
            text = re.sub(r"\n+", "", text.replace("深\n\n深化", "深化"))
        pos = 0
        for m in truth["measures"]:
            start = text.find(m["first_chars"], pos)
            end = text.find(m["last_chars"], start) + len(m["last_chars"])
            title = text.rfind(m["title"], 0, start)
            yield m, text[title if title >= 0 else start : end]
            pos = start


def _score(registry: Registry) -> tuple[int, int, int, int, int]:
    found = extra = missed = same_set = same_surfaces = 0
    for m, body in golden_measures():
        regions = extract_regions(body, registry)
        codes = [entry.code for entry in map(registry.match_region, regions) if entry is not None]
        mine, gold = set(registry.canonical_regions(codes)), set(m["regions_canonical"])
        found += len(mine & gold)
        extra += len(mine - gold)
        missed += len(gold - mine)
        same_set += mine == gold
        same_surfaces += regions == m["regions"]
    return found, extra, missed, same_set, same_surfaces


@pytest.mark.skipif(not GOLDEN, reason="shared/golden not present beside the repository")
@pytest.mark.parametrize("which", ["registry", "bare_registry"])
def test_golden_regions_precision_and_recall(which: str, request: pytest.FixtureRequest) -> None:
    found, extra, missed, same_set, same_surfaces = _score(request.getfixturevalue(which))
    precision, recall = found / max(1, found + extra), found / max(1, found + missed)
    print(
        f"regions ({which}): precision {precision:.3f}, recall {recall:.3f} ({found} found, {extra} extra, "
        f"{missed} missed); canonical sets equal on {same_set}/291, surface lists on {same_surfaces}/291"
    )
    assert found + missed == 245
    assert precision == 1.0 and recall == 1.0
    assert same_set == 291 and same_surfaces == 291
