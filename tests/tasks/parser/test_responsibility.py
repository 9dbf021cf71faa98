"""Explicit responsibilities, document rules and acting phrases, and the golden `departments` lists."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban.tasks.parser.facts import NO_RULES, DocRules, Responsibility
from duban.tasks.parser.responsibility import detect_doc_rules, extract_responsibility
from duban.tasks.registry import Registry, default_registry

FIRST_IS_LEAD = DocRules(first_listed_is_lead=True, standing_units=(), standing_text=None)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return default_registry()


def _read(text: str, registry: Registry, rules: DocRules = NO_RULES) -> Responsibility:
    return extract_responsibility(text, rules, registry)


def test_lead_and_cooperating_in_brackets(registry: Registry) -> None:
    text = "加快淘汰落后产能。（自治区生态环境厅牵头，自治区发展改革委、工业和信息化厅配合）"
    r = _read(text, registry)
    assert r.lead == ("自治区生态环境厅",)
    assert r.cooperating == ("自治区发展改革委", "自治区工业和信息化厅")
    assert r.source == "explicit"
    assert r.evidence == ("（自治区生态环境厅牵头，自治区发展改革委、工业和信息化厅配合）",)


def test_label_lines(registry: Registry) -> None:
    text = (
        "开展柴油货车治理。\n牵头单位：自治区交通运输厅；配合单位：自治区公安厅、生态环境厅\n"
        "完成时限：2020年底前"
    )
    r = _read(text, registry)
    assert (r.lead, r.cooperating, r.source) == (
        ("自治区交通运输厅",),
        ("自治区公安厅", "自治区生态环境厅"),
        "explicit",
    )


def test_responsible_units_label_without_and_with_the_first_listed_rule(registry: Registry) -> None:
    text = "责任单位：自治区水利厅、自然资源厅、生态环境厅；完成时限：持续推进"
    assert _read(text, registry).lead == ("自治区水利厅", "自治区自然资源厅", "自治区生态环境厅")
    ruled = _read(text, registry, FIRST_IS_LEAD)
    assert ruled.lead == ("自治区水利厅",)
    assert ruled.cooperating == ("自治区自然资源厅", "自治区生态环境厅")


def test_lead_marker_inside_a_list(registry: Registry) -> None:
    r = _read("责任单位：自治区生态环境厅（牵头）、自治区发展改革委", registry)
    assert (r.lead, r.cooperating) == (("自治区生态环境厅",), ("自治区发展改革委",))


@pytest.mark.parametrize(
    "document",
    [
        "一、加快产业转型（自治区发展改革委、生态环境厅、工业和信息化厅负责，列第一位者为牵头单位，下同）",
        "说明：各项任务中排在第一位的部门为牵头部门，其他部门为配合部門。",
        "說明：各項任務中排在第一位的部門為牽頭部門。",
    ],
)
def test_both_first_listed_rules_are_detected(document: str) -> None:
    assert detect_doc_rules(document).first_listed_is_lead


def test_first_listed_rule_applies_to_an_annotation(registry: Registry) -> None:
    text = "加快产业转型。（自治区发展改革委、生态环境厅、工业和信息化厅负责，列第一位者为牵头单位，下同）"
    rules = detect_doc_rules(text)
    r = _read(text, registry, rules)
    assert r.lead == ("自治区发展改革委",)
    assert r.cooperating == ("自治区生态环境厅", "自治区工业和信息化厅")
    without = _read("（自治区发展改革委、生态环境厅负责）", registry)
    assert without.lead == ("自治区发展改革委", "自治区生态环境厅")  # no rule: every listed unit leads


def test_no_rule_in_an_ordinary_document() -> None:
    rules = detect_doc_rules("到2020年，全区森林覆盖率达到23%。各盟市要落实主体责任，确保第一时间处置。")
    assert rules == NO_RULES


def test_two_leads(registry: Registry) -> None:
    r = _read("推进能源结构调整（自治区发展改革委、自治区能源局牵头负责，自治区生态环境厅配合）", registry)
    assert r.lead == ("自治区发展改革委", "自治区能源局")
    assert r.cooperating == ("自治区生态环境厅",)


def test_by_division_of_duties_is_the_generic_lead(registry: Registry) -> None:
    r = _read("加强宣传教育。（各有关部门按职责分工负责）", registry)
    assert r.lead == ("各有关部门",) and r.generic == ("各有关部门",)
    named = _read("（自治区生态环境厅牵头，自治区发展改革委、公安厅等按职责分工负责）", registry)
    assert named.lead == ("自治区生态环境厅",)
    assert named.cooperating == ("自治区发展改革委", "自治区公安厅")


def test_a_list_split_by_commas_with_nested_brackets(registry: Registry) -> None:
    text = (
        "（自治区生态环境厅、发展改革委，各盟市人民政府（行政公署）、各旗县（市、区）人民政府按职责分工负责）"
    )
    r = _read(text, registry)
    assert r.lead == (
        "自治区生态环境厅",
        "自治区发展改革委",
        "各盟市人民政府（行政公署）",
        "各旗县（市、区）人民政府",
    )
    assert r.generic == ("各盟市人民政府（行政公署）", "各旗县（市、区）人民政府")


def test_guidance_and_implementing_units(registry: Registry) -> None:
    r = _read("（自治区林草局牵头，自治区自然资源厅指导，各盟市落实）", registry)
    assert r.lead == ("自治区林业和草原局",)
    assert r.guidance == ("自治区自然资源厅",)
    assert r.cooperating == ("各盟市",) and r.generic == ("各盟市",)


def test_annotation_with_a_time_segment(registry: Registry) -> None:
    r = _read("完成整治（自治区生态环境厅牵头，2020年底前完成）", registry)
    assert r.lead == ("自治区生态环境厅",)


def test_standing_rule(registry: Registry) -> None:
    document = (
        "以下各项任务均需各盟市人民政府（行政公署）落实，不再列出。\n一、加强监管（自治区生态环境厅牵头）"
    )
    rules = detect_doc_rules(document)
    assert rules.standing_units == ("各盟市人民政府（行政公署）",)
    assert rules.standing_text == "以下各项任务均需各盟市人民政府（行政公署）落实，不再列出"
    r = _read("一、加强监管（自治区生态环境厅牵头）", registry, rules)
    assert r.lead == ("自治区生态环境厅",)
    assert r.cooperating == ("各盟市人民政府（行政公署）",)
    assert rules.standing_text in r.evidence


def test_standing_rule_naming_responsible_units() -> None:
    rules = detect_doc_rules("各盟市、各有关部门均为责任单位，不再一一列出。")
    assert rules.standing_units == ("各盟市", "各有关部门")


def test_acting_phrases_in_the_body(registry: Registry) -> None:
    text = (
        "自治区发展改革委要加强统筹协调和政策支持，"
        "自治区生态环境厅要牵头推进相关具体工作，有关部门要各负其责。"
    )
    r = _read(text, registry)
    assert r.source == "body"
    assert r.lead == ("自治区生态环境厅",)
    assert r.cooperating == ("自治区发展改革委",)
    assert "有关部门" in r.generic
    assert "自治区生态环境厅要牵头推进相关具体工作" in r.evidence


def test_by_whom_together_with(registry: Registry) -> None:
    r = _read("由自治区发展改革委会同自治区财政厅、生态环境厅制定补偿办法。", registry)
    assert (r.lead, r.cooperating, r.source) == (
        ("自治区发展改革委",),
        ("自治区财政厅", "自治区生态环境厅"),
        "body",
    )


def test_coordinated_ellipsis_and_bodies_set_up(registry: Registry) -> None:
    text = (
        "自治区党委、政府成立生态文明建设委员会，统筹全区工作。自治区生态文明建设委员会下设办公室，负责日常工作。"
        "年度计划于上年年底前报自治区生态文明建设委员会。"
    )
    r = _read(text, registry)
    assert r.lead == ("自治区党委", "自治区人民政府")
    assert set(r.cooperating) == {"自治区生态文明建设委员会", "自治区生态文明建设委员会办公室"}


@pytest.mark.parametrize(
    "text",
    [
        "重大事项及时向自治区党委和政府报告。",
        "严格实施《自治区党委、政府及有关部门环境保护工作职责》。",
        "评估考核结果向环境保护部和自治区政府报告。",
        "贯彻落实自治区党委、政府的决策部署。",
        "包头市要加快建设“无废城市”，呼和浩特市率先建成垃圾分类处理系统。",
        "设立自治区生态环境保护督察机构。",
        "全区用水总量（不包括黑河水量）控制在211.57亿立方米以内（由企业负责）。",
        "各盟市要落实属地责任，各有关部门要密切配合。",
    ],
)
def test_no_named_body_is_made_responsible(registry: Registry, text: str) -> None:
    r = _read(text, registry)
    assert (r.lead, r.cooperating, r.guidance) == ((), (), ())


def test_generic_actors_are_listed_apart(registry: Registry) -> None:
    r = _read("各盟市要落实属地责任，各有关部门要密切配合。", registry)
    assert r.generic == ("各盟市", "各有关部门") and r.source is None


def test_explicit_annotation_wins_over_body_phrases(registry: Registry) -> None:
    text = "自治区发展改革委要加强统筹。（自治区生态环境厅牵头，自治区财政厅配合）"
    r = _read(text, registry)
    assert (r.lead, r.cooperating, r.source) == (("自治区生态环境厅",), ("自治区财政厅",), "explicit")


def test_traditional_script_maps_to_official_names(registry: Registry) -> None:
    r = _read("（自治區生態環境廳牽頭，自治區公安廳、交通運輸廳配合）", registry)
    assert r.lead == ("自治区生态环境厅",)
    assert r.cooperating == ("自治区公安厅", "自治区交通运输厅")


def test_unknown_bodies_are_kept_as_written(registry: Registry) -> None:
    r = _read("（自治区大数据中心牵头，内蒙古电力公司配合）", registry)
    assert (r.lead, r.cooperating) == (("自治区大数据中心",), ("内蒙古电力公司",))


def test_names_joined_by_and(registry: Registry) -> None:
    r = _read("（自治区住房和城乡建设厅、工业和信息化厅及自治区林业和草原局负责）", registry)
    assert r.lead == ("自治区住房城乡建设厅", "自治区工业和信息化厅", "自治区林业和草原局")
    assert _read("（自治区党委和政府负责）", registry).lead == ("自治区党委", "自治区人民政府")
    assert _read("（自治区大数据和信息中心负责）", registry).lead == ("自治区大数据和信息中心",)


def test_a_league_government_in_an_annotation(registry: Registry) -> None:
    assert _read("（包头市人民政府负责）", registry).lead == ("包头市人民政府",)


def test_office_hosted_by_a_department(registry: Registry) -> None:
    text = "自治区生态环境保护委员会办公室（设在自治区生态环境厅）强化本纲要实施的组织协调。"
    r = _read(text, registry)
    assert r.lead == ("自治区生态环境保护委员会办公室",)
    assert r.cooperating == ("自治区生态环境厅",)


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_any_text_is_read_without_error_and_deterministically(text: str) -> None:
    registry = default_registry()
    rules = detect_doc_rules(text)
    assert rules == detect_doc_rules(text)
    assert extract_responsibility(text, rules, registry) == extract_responsibility(text, rules, registry)


@settings(max_examples=50, deadline=None)
@given(
    st.text(
        alphabet="自治区生态环境厅发展改革委牵头配合负责指导、，（）()：单位责任各盟市党委政府会同由向报告《》和及",
        max_size=200,
    )
)
def test_responsibility_vocabulary_soup_never_raises(text: str) -> None:
    registry = default_registry()
    extract_responsibility(text, detect_doc_rules(text), registry)


def test_large_input_with_control_characters(registry: Registry) -> None:
    chunk = "（自治区生态环境厅牵头，\x00自治区公安厅配合）\x1f自治区党委、政府\u200b要加强领导。"
    text = chunk * (100_000 // len(chunk))
    r = extract_responsibility(text, detect_doc_rules(text), registry)
    assert r.lead == ("自治区生态环境厅",) and r.cooperating == ("自治区公安厅",)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "unit",
    ["各盟市", "自治区生态环境厅", "自治区党委、", "责任单位：", "（各盟市负责）", "（", "《", "包头、"],
)
def test_repetitive_100_kb_inputs_stay_linear(registry: Registry, unit: str) -> None:
    text = unit * (100_000 // len(unit))
    extract_responsibility(text, detect_doc_rules(text), registry)


# --- golden reading: the strict `departments` lists of all 291 measures -------------------------

SHARED = Path(__file__).resolve().parents[4] / "shared"
GOLDEN = sorted((SHARED / "golden" / "seeds").glob("*.truth.json"))


def golden_measures() -> Iterator[tuple[str, dict[str, Any], str]]:
    """(whole document, golden measure, its title + body located via first_chars/last_chars)."""
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
            yield text, m, text[title if title >= 0 else start : end]
            pos = start


@pytest.mark.skipif(not GOLDEN, reason="shared/golden not present beside the repository")
def test_golden_departments_precision_and_recall(registry: Registry) -> None:
    found = extra = missed = same = 0
    rules: dict[str, DocRules] = {}
    for document, m, body in golden_measures():
        if document not in rules:
            rules[document] = detect_doc_rules(document)
        doc_rules = rules[document]
        r = extract_responsibility(body, doc_rules, registry)
        mine = set(r.lead) | set(r.cooperating) | set(r.guidance)
        gold = {(registry.match_department(name) or _Named(name)).name for name in m["departments"]}
        found += len(mine & gold)
        extra += len(mine - gold)
        missed += len(gold - mine)
        same += mine == gold
    precision, recall = found / max(1, found + extra), found / max(1, found + missed)
    print(
        f"departments: precision {precision:.3f}, recall {recall:.3f} "
        f"({found} found, {extra} extra, {missed} missed);"
    )
    print(f"  same set as the golden reading on {same}/291 measures")
    assert found + missed == 12
    assert precision == 1.0 and recall == 1.0 and same == 291


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name
