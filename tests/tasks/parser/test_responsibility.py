"""The responsibility grammar: labels, role words, document-wide rules, body phrases; units verbatim."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban.tasks.parser.facts import NO_RULES, DocRules, Responsibility
from duban.tasks.parser.responsibility import doc_rule_updates, extract_responsibility, find_annotations

FIRST_IS_LEAD = DocRules(first_listed_is_lead=True, standing_units=(), standing_text=None)


def _read(text: str, rules: DocRules = NO_RULES) -> Responsibility:
    return extract_responsibility(text, rules)


def _roles(r: Responsibility) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return r.lead, r.cooperating


@pytest.mark.parametrize(
    ("text", "lead", "cooperating"),
    [
        (
            "加快淘汰落后产能。（自治区生态环境厅牵头，自治区发展改革委、工业和信息化厅配合）",
            ("自治区生态环境厅",),
            ("自治区发展改革委", "工业和信息化厅"),
        ),
        (
            "建立指标体系。（生态环境部牵头，国家发展改革委、工业和信息化部参与）",
            ("生态环境部",),
            ("国家发展改革委", "工业和信息化部"),
        ),
        (
            "严格燃气经营许可。（市住房城乡建设管理委牵头负责，市交通委、各区政府组织落实）",
            ("市住房城乡建设管理委",),
            ("市交通委", "各区政府"),
        ),
        (
            "开展隐患排查。（市消防救援总队牵头负责、市公安局、各区政府组织落实）",
            ("市消防救援总队",),
            ("市公安局", "各区政府"),
        ),
    ],
)
def test_role_words_after_a_list(text: str, lead: tuple[str, ...], cooperating: tuple[str, ...]) -> None:
    r = _read(text)
    assert _roles(r) == (lead, cooperating)
    assert r.source == "explicit"
    assert all(text[u.start : u.end] == u.name for u in r.units if u.start is not None)


@pytest.mark.parametrize(
    ("text", "lead", "cooperating"),
    [
        (
            "完善码头岸电设施。（牵头部门：市交通委科技信息处、港务监管处；实施部门：市港航中心、各区交通主管部门）",
            ("市交通委科技信息处", "港务监管处"),
            ("市港航中心", "各区交通主管部门"),
        ),
        (
            "推进美丽街区建设。（牵头单位：区绿化市容局，支撑单位：相关街镇）",
            ("区绿化市容局",),
            ("相关街镇",),
        ),
        (
            "开展柴油货车治理。\n牵头单位：自治区交通运输厅；配合单位：自治区公安厅、生态环境厅\n完成时限：2020年底前",
            ("自治区交通运输厅",),
            ("自治区公安厅", "生态环境厅"),
        ),
    ],
)
def test_labels(text: str, lead: tuple[str, ...], cooperating: tuple[str, ...]) -> None:
    assert _roles(_read(text)) == (lead, cooperating)


def test_a_responsible_list_without_a_rule_makes_every_unit_lead() -> None:
    shanghai = _read("推动医工交叉。（责任单位：市科委、市教委、市卫生健康委、申康医院发展中心）")
    assert _roles(shanghai) == (("市科委", "市教委", "市卫生健康委", "申康医院发展中心"), ())
    council = _read("加强监管。（市场监管总局、工业和信息化部负责）")
    assert _roles(council) == (("市场监管总局", "工业和信息化部"), ())


def test_the_first_listed_rule_in_the_annotation_and_from_the_document() -> None:
    stated = _read("拓展两个市场。（税务总局、财政部、海关总署负责，排在第一位的部门为牵头部门，下同）")
    assert _roles(stated) == (("税务总局",), ("财政部", "海关总署"))
    assert stated.source == "explicit"
    rules = doc_rule_updates("（工业和信息化部、发展改革委等负责。列第一位者为牵头单位，下同）", NO_RULES)
    assert rules.first_listed_is_lead
    later = _read("（农业农村部、发展改革委、财政部等负责）", rules)
    assert _roles(later) == (("农业农村部",), ("发展改革委", "财政部"))
    assert later.source == "convention"


def test_etc_tails() -> None:
    r = _read("（人力资源社会保障部、财政部、教育部等有关部门和单位负责）", FIRST_IS_LEAD)
    assert _roles(r) == (("人力资源社会保障部",), ("财政部", "教育部", "有关部门和单位"))
    plain = _read("（农业农村部、工业和信息化部等负责）", FIRST_IS_LEAD)
    assert _roles(plain) == (("农业农村部",), ("工业和信息化部",))
    generic = _read("（海关总署、商务部等有关部门负责）", FIRST_IS_LEAD)
    assert _roles(generic) == (("海关总署",), ("商务部", "有关部门"))


def test_those_who_answer_lead_and_those_who_carry_out_cooperate() -> None:
    r = _read("（市市场监管局、市商务委、市公安局按职责分工负责落实、各区政府组织落实）")
    assert _roles(r) == (("市市场监管局", "市商务委", "市公安局"), ("各区政府",))
    alone = _read("（市应急局、市市场监管局、各区政府组织落实）")
    assert _roles(alone) == (("市应急局", "市市场监管局", "各区政府"), ())


def test_guidance_and_implementer() -> None:
    r = _read("优化管理体制。（生态环境部指导，试点城市政府负责落实。以下均需试点城市政府落实，不再列出）")
    assert _roles(r) == ((), ())
    assert r.guidance == ("生态环境部",)
    assert [u.name for u in r.units if u.role == "implementer"] == ["试点城市政府"]
    rules = doc_rule_updates("以下均需试点城市政府落实，不再列出", NO_RULES)
    later = _read("推广绿色设计。（工业和信息化部指导）", rules)
    assert later.guidance == ("工业和信息化部",) and later.lead == ()
    implementer = [u for u in later.units if u.role == "implementer"]
    assert [(u.name, u.source, u.start) for u in implementer] == [("试点城市政府", "convention", None)]


def test_lead_marker_inside_a_list() -> None:
    r = _read("（责任单位：自治区生态环境厅（牵头）、自治区发展改革委）")
    assert _roles(r) == (("自治区生态环境厅",), ("自治区发展改革委",))


def test_by_whom_in_the_body_picks_the_lead_out_of_a_list() -> None:
    text = "建立推进机制，由市科委牵头，统筹推进各项工作。（责任单位：市科委、各区政府、各相关单位）"
    assert _roles(_read(text)) == (("市科委",), ("各区政府", "各相关单位"))


def test_body_phrases_name_a_lead_when_there_is_no_annotation() -> None:
    r = _read("自治区发展改革委要加强统筹，自治区生态环境厅要牵头推进相关具体工作。")
    assert (r.lead, r.source) == (("自治区生态环境厅",), "body")
    by = _read("由自治区发展改革委会同自治区财政厅、生态环境厅制定补偿办法。")
    assert _roles(by) == (("自治区发展改革委",), ("自治区财政厅", "生态环境厅"))


@pytest.mark.parametrize(
    "text",
    [
        "建立一支由政府牵头、企业支持、专业权威的专家队伍。",
        "全区用水总量（不包括黑河水量）控制在211.57亿立方米以内。",
        "100个乡镇（苏木）、4个村（嘎查）获得国家级命名。",
        "推进船舶受电设施改造（液货船除外）。",
        "严格实施《自治区党委、政府及有关部门环境保护工作职责》。",
        "各盟市要落实属地责任，各有关部门要密切配合。",
        "建立生态环境部门会同有关职能部门的协作机制。",
    ],
)
def test_no_unit_is_made_responsible(text: str) -> None:
    assert _read(text).units == ()


def test_a_bare_unit_list_after_a_finished_sentence() -> None:
    r = _read("健全工作推进机制。（各有关单位）")
    assert _roles(r) == (("各有关单位",), ())


def test_traditional_script_is_kept_as_written() -> None:
    r = _read("（農業農村部、發展改革委、財政部等負責）", FIRST_IS_LEAD)
    assert _roles(r) == (("農業農村部",), ("發展改革委", "財政部"))


def test_find_annotations_reports_each_one() -> None:
    text = "甲。（市科委负责）乙。（市教委、市科委负责）"
    assert [len(a.groups) for a in find_annotations(text)] == [1, 1]


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_any_text_is_read_without_error_and_deterministically(text: str) -> None:
    rules = doc_rule_updates(text, NO_RULES)
    assert rules == doc_rule_updates(text, NO_RULES)
    assert extract_responsibility(text, rules) == extract_responsibility(text, rules)


@settings(max_examples=80, deadline=None)
@given(
    st.text(
        alphabet="自治区生态环境厅发展改革委牵头配合负责指导、，（）()：单位责任各盟市党委政府会同由向报告《》和及等落实",
        max_size=200,
    )
)
def test_responsibility_vocabulary_soup_never_raises_and_names_only_what_is_written(text: str) -> None:
    r = extract_responsibility(text, doc_rule_updates(text, NO_RULES))
    assert all(u.name in text for u in r.units)


def test_large_input_with_control_characters() -> None:
    chunk = "（自治区生态环境厅牵头，\x00自治区公安厅配合）\x1f自治区党委、政府\u200b要加强领导。"
    text = chunk * (100_000 // len(chunk))
    r = extract_responsibility(text, NO_RULES)
    assert r.lead == ("自治区生态环境厅",)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "unit",
    [
        "各盟市",
        "自治区生态环境厅",
        "自治区党委、",
        "责任单位：",
        "（各盟市负责）",
        "（",
        "《",
        "包头、",
        "由市科委会同",
    ],
)
def test_repetitive_100_kb_inputs_stay_linear(unit: str) -> None:
    text = unit * (100_000 // len(unit))
    extract_responsibility(text, doc_rule_updates(text, NO_RULES))


def test_a_class_of_bodies_after_ji_is_its_own_unit() -> None:
    text = (
        "(市政府辦公室、市行政審批制度改革工作領導小組辦公室牽頭,市級各有關部門及各縣市區政府按職責分工負責)"
    )
    r = _read(text)
    assert _roles(r) == (
        ("市政府辦公室", "市行政審批制度改革工作領導小組辦公室"),
        ("市級各有關部門", "各縣市區政府"),
    )
    assert _read("（工业和信息化部、住房和城乡建设部负责）").lead == ("工业和信息化部", "住房和城乡建设部")


def test_label_lines_of_one_measure_are_read_together() -> None:
    text = "努力实现地区生产总值增长6.2%左右。\n牵头单位:区发改局\n责任单位:立山经济开发区,全区经济运行各专班"
    assert _roles(_read(text)) == (("区发改局",), ("立山经济开发区", "全区经济运行各专班"))


def test_a_label_list_may_carry_its_own_role_word_and_the_first_listed_rule() -> None:
    both = _read("推进城乡融合。责任单位:市人社局、市农业农村局分别牵头")
    assert _roles(both) == (("市人社局", "市农业农村局"), ())
    ruled = _read("扩大有效投资。责任单位:市发改委、市经信局、市财政局(列第一位为牵头单位,下同)")
    assert _roles(ruled) == (("市发改委",), ("市经信局", "市财政局"))
    later = doc_rule_updates("责任单位:市发改委、市经信局(列第一位为牵头单位,下同)", NO_RULES)
    assert later.first_listed_is_lead


def test_by_whom_with_its_partners_in_the_next_clause() -> None:
    county = _read("开展排查整治。由县住建局牵头，各乡镇人民政府配合，2024年底前完成。")
    assert _roles(county) == (("县住建局",), ("各乡镇人民政府",))
    province = _read(
        "由所涉及的省发展改革委、财政厅等省级主管部门（单位）牵头完成自查，其他相关部门（单位）配合。"
    )
    assert _roles(province) == (("省发展改革委", "财政厅"), ("其他相关部门（单位）",))
