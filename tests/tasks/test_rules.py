"""Responsibility rules: the reviewed table, the proposer, priority at import, defaults, the JSON step."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from duban.core import clock
from duban.tasks.enums import AssignmentRole, DepartmentKind, LeadSource
from duban.tasks.errors import RuleSetInvalid
from duban.tasks.models import Department, Plan, Task, TaskAssignment, TaskUnit
from duban.tasks.parser import parse, to_json_dict
from duban.tasks.plans import import_plan
from duban.tasks.registry import default_registry
from duban.tasks.rules import (
    RuleSet,
    apply_rules_to_json,
    bundled_rules,
    default_deadline,
    load_rule_file,
    merge_rules,
    parse_rules,
    propose,
    resolve,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"
REGISTRY = default_registry()
RULES = bundled_rules()


def lead_of(text: str, title: str = "") -> tuple[str, ...]:
    return propose(text, REGISTRY, RULES, title=title).lead


# --- the table itself --------------------------------------------------------------------------------


def test_every_rule_is_grounded_and_uses_registry_codes() -> None:
    codes = {d.code for d in REGISTRY.departments}
    assert len(RULES.rules) >= 60
    assert len({r.id for r in RULES.rules}) == len(RULES.rules)
    for rule in (*RULES.rules, RULES.fallback):
        assert rule.lead and set(rule.lead) <= codes, rule.id
        assert set(rule.cooperating) <= codes, rule.id
        assert not set(rule.lead) & set(rule.cooperating), rule.id
        # "<body>三定：…" or "<body>：…" — the remit names the body and the duty it cites
        assert len(rule.remit) >= 15 and "：" in rule.remit[:30], rule.id
    assert RULES.fallback.id == "fallback.office_seat" and RULES.fallback.lead == ("sthjt",)


@pytest.mark.parametrize(
    ("title", "lead"),
    [
        ("加强大气污染防治", "sthjt"),
        ("改善水环境质量", "sthjt"),
        ("加强土壤污染防治", "sthjt"),
        ("提升固体废物处置水平", "sthjt"),
        ("加强核与辐射安全监管", "sthjt"),
        ("保护森林资源", "lcj"),
        ("加强草原保护修复", "lcj"),
        ("加强湿地保护", "lcj"),
        ("推进荒漠化防治", "lcj"),
        ("建立自然保护地体系", "lcj"),
        ("强化河湖管理", "slt"),
        ("节约水资源", "slt"),
        ("加强水土保持", "slt"),
        ("优化国土空间开发格局", "zrzyt"),
        ("强化矿山生态修复", "zrzyt"),
        ("健全自然资源资产产权制度", "zrzyt"),
        ("推动煤炭清洁高效利用", "nyj"),
        ("大力发展新能源", "nyj"),
        ("积极稳妥推进碳达峰碳中和", "fgw"),
        ("化解过剩产能", "gxt"),
        ("规范工业园区", "gxt"),
        ("推行清洁生产", "gxt"),
        ("提升城镇污水处理能力", "zjt"),
        ("推进生活垃圾分类", "zjt"),
        ("消除城市黑臭水体", "zjt"),
        ("整治农村牧区人居环境", "nmt"),
        ("加强畜禽养殖污染防治", "nmt"),
        ("治理农业面源污染", "nmt"),
        ("开展柴油货车污染治理", "jtt"),
        ("加强机动车排放监管", "jtt"),
        ("加大资金投入", "czt"),
        ("健全生态保护补偿机制", "czt"),
        ("发展绿色金融", "rmyh"),
        ("加强环境资源审判和司法保障", "gjfy"),
        ("加强生态文明宣传", "dwxcb"),
        ("开展生态文明教育", "jyt"),
        ("强化考核评价", "dwzzb"),
        ("建设生态环境监测网络", "sthjt"),
        ("提升生态环境执法能力", "sthjt"),
        ("深化生态环境保护督察", "sthjt"),
        ("推动科技创新", "kjt"),
        ("完善统计调查制度", "tjj"),
        ("加强人工影响天气能力建设", "qxj"),
        ("促进生态与文旅融合", "wlt"),
        ("加强环境与健康工作", "wjw"),
        ("提升安全生产和防灾减灾能力", "yjt"),
        ("加强产品质量和能效标识监管", "scjgj"),
        ("完善再生资源回收体系和报废汽车管理", "swt"),
        ("推进用能权和排污权有偿使用和交易", "fgw"),
        ("落实党政同责一岗双责", "jwjw"),
    ],
)
def test_the_issue_topics_go_to_the_body_whose_remit_they_are(title: str, lead: str) -> None:
    assert lead_of("", title=title) == (lead,)


def test_diesel_trucks_bring_public_security_as_cooperating_unit() -> None:
    proposal = propose("开展路检路查。", REGISTRY, RULES, title="开展柴油货车污染专项治理")
    assert proposal.lead == ("jtt",) and "gat" in proposal.cooperating


def test_specific_phrases_win_over_the_generic_ones_inside_them() -> None:
    assert lead_of("", title="推进城镇生活污水处理") == ("zjt",)  # 城镇生活污水, not 污水 / 水
    assert lead_of("", title="推进农村牧区生活污水治理") == ("sthjt",)  # not 农村牧区 (农牧厅)
    assert lead_of("", title="强化城市低空面源污染治理") == ("sthjt",)  # not 面源 (农牧厅)


def test_the_heading_outweighs_a_passing_mention_in_the_body() -> None:
    body = "加强水资源管理，节约用水。"
    assert lead_of(body, title="加强草原生态保护") == ("lcj",)


def test_a_cited_document_is_not_the_measure_topic() -> None:
    assert lead_of("贯彻《大气污染防治法》《水污染防治法》，加强天然林保护和森林抚育。") == ("lcj",)


def test_traditional_script_and_full_width_text_match() -> None:
    assert lead_of("", title="加強大氣污染防治，削減ＰＭ２．５") == ("sthjt",)


def test_nothing_matched_gets_the_office_seat_as_a_marked_fallback() -> None:
    proposal = propose("做好相关工作。", REGISTRY, RULES, title="抓好落实")
    assert proposal.fallback and proposal.lead == ("sthjt",)
    assert proposal.rule_ids == ("fallback.office_seat",)
    assert "默认" in proposal.explanation_zh and proposal.score == 0


def test_proposal_explains_itself_with_rule_ids_phrases_and_remit() -> None:
    proposal = propose("开展退耕还林，提高森林覆盖率。", REGISTRY, RULES, title="加强森林保护")
    assert proposal.rule_ids[0] == "forest.forests"
    assert {"森林", "退耕还林", "森林覆盖率"} <= set(proposal.phrases)
    assert "forest.forests" in proposal.explanation_zh and "三定" in proposal.explanation_zh
    evidence = proposal.evidence()
    assert (
        evidence["kind"] == "rule" and evidence["rule_ids"][0] == "forest.forests" and evidence["score"] > 0
    )


def test_proposals_are_deterministic_and_ties_follow_the_file_order() -> None:
    text = "加强大气污染防治，完善城镇污水管网，推进森林保护。"
    assert {propose(text, REGISTRY, RULES) for _ in range(3)} == {propose(text, REGISTRY, RULES)}
    items = [
        {"id": "a.first", "phrases": ["同一主题"], "lead": ["slt"], "remit": "水利厅三定规定的职责（测试）"},
        {"id": "b.second", "phrases": ["同一主题"], "lead": ["lcj"], "remit": "林草局三定规定的职责（测试）"},
    ]
    forward, _ = parse_rules(items, REGISTRY, "office", "test")
    backward, _ = parse_rules(list(reversed(items)), REGISTRY, "office", "test")
    for rules, lead in ((forward, "slt"), (backward, "lcj")):
        merged = merge_rules(RuleSet((), RULES.fallback), rules, [], 1)
        assert propose("同一主题", REGISTRY, merged).lead == (lead,)


def test_excluded_leads_fall_to_the_next_best_rule() -> None:
    proposal = propose("", REGISTRY, RULES, title="加强草原保护和水土保持", exclude_lead=("lcj",))
    assert proposal.lead == ("slt",) and "lcj" not in proposal.cooperating


# --- checking and layering ----------------------------------------------------------------------------


def test_bad_rules_are_refused_with_every_problem_listed() -> None:
    items = [
        {"id": "x.bad", "phrases": ["大气"], "lead": ["nosuch"], "remit": "某职责"},
        {"id": "x.noremit", "phrases": ["水"], "lead": ["slt"]},
        {"id": "x.nophrase", "lead": ["slt"], "remit": "某职责"},
        {"id": "x.bad", "phrases": ["再"], "lead": ["slt"], "remit": "某职责"},
        {"id": "Not An Id", "phrases": ["x"], "lead": ["slt"], "remit": "r"},
    ]
    with pytest.raises(RuleSetInvalid) as caught:
        parse_rules(items, REGISTRY, "office", "test")
    fields = [(e["rule_id"], e["field"]) for e in caught.value.extra["errors"]]
    assert ("x.bad", "lead") in fields and ("x.noremit", "remit") in fields
    assert ("x.nophrase", "phrases") in fields and ("x.bad", "id") in fields and (None, "id") in fields


def test_the_office_layer_overrides_extends_and_disables() -> None:
    layer = [
        {
            "id": "forest.grassland",
            "phrases": ["草原"],
            "lead": ["nmt"],
            "remit": "农牧厅三定规定的职责（测试）",
        },
        {
            "id": "office.fire",
            "phrases": ["草原防火"],
            "lead": ["yjt"],
            "remit": "应急管理厅三定：森林草原防火",
        },
        {"id": "forest.wetland", "disabled": True},
    ]
    rules, disabled = parse_rules(layer, REGISTRY, "office", "test", allow_disabled=True)
    merged = merge_rules(RULES, rules, disabled, 3)
    assert merged.version == 3 and merged.rule("forest.grassland").lead == ("nmt",)
    assert merged.rules[-1].id == "office.fire" and merged.rules[-1].origin == "office"
    assert "forest.wetland" not in merged.order
    assert propose("", REGISTRY, merged, title="加强草原防火").lead == ("yjt",)


def test_a_rules_file_can_be_loaded_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "fallback: {id: fallback.x, lead: [zfbgt], remit: 政府办公厅职责（测试）}\n"
        "rules:\n  - {id: t.one, phrases: [试点], lead: [kjt], remit: 科技厅三定规定的职责（测试）}\n",
        encoding="utf-8",
    )
    loaded = load_rule_file(path)
    assert propose("开展试点", REGISTRY, loaded).lead == ("kjt",)
    assert propose("无关", REGISTRY, loaded).lead == ("zfbgt",)
    path.write_text("rules: [oops", encoding="utf-8")
    with pytest.raises(RuleSetInvalid):
        load_rule_file(path)


# --- deadlines --------------------------------------------------------------------------------------


def test_default_deadlines_are_marked_as_defaults() -> None:
    assert default_deadline(dt.date(2035, 12, 31), dt.date(2025, 10, 28))[0] == dt.date(2035, 12, 31)
    day, note = default_deadline(None, dt.date(2020, 3, 1))
    assert day == dt.date(2021, 12, 31) and "默认" in note and "default" in note
    with clock.frozen("2026-05-01T09:00"):
        day, note = default_deadline(None, None)
    assert day == dt.date(2027, 12, 31) and "导入次年" in note


# --- priority at import: explicit > body > rules --------------------------------------------------------

EXPLICIT = """关于推进生态环境治理的工作方案

一、重点任务
（一）加强大气污染防治。全面淘汰燃煤小锅炉。（自治区林业和草原局牵头，自治区水利厅配合）
（二）开展森林资源保护。加强天然林保护。（自治区生态环境厅负责）
（三）推进城镇污水处理。由自治区交通运输厅会同自治区财政厅推进城镇污水管网建设。
（四）加强草原生态保护。落实草畜平衡制度。
（五）做好相关工作。认真抓好落实。
"""


def _parts(session: Session, plan_id: int) -> dict[str, dict[str, list[tuple[str, str]]]]:
    rows = session.exec(
        select(Task.title, TaskAssignment.role, TaskAssignment.source, Department.code)
        .join(TaskAssignment, col(TaskAssignment.task_id) == col(Task.id))
        .join(Department, col(Department.id) == col(TaskAssignment.department_id))
        .where(Task.plan_id == plan_id)
        .order_by(col(TaskAssignment.position))
    ).all()
    out: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for title, role, source, code in rows:
        out.setdefault(title, {}).setdefault(str(role), []).append((code, str(source)))
    return out


def test_explicit_beats_body_beats_rules_at_import(departments: Session) -> None:
    result = import_plan(departments, EXPLICIT, parse(EXPLICIT), "方案.txt")
    parts = _parts(departments, result.plan_id)
    assert parts["加强大气污染防治"]["lead"] == [("lcj", "explicit")]
    assert parts["加强大气污染防治"]["cooperating"] == [("slt", "explicit")]
    assert parts["开展森林资源保护"]["lead"] == [("sthjt", "explicit")]
    assert "cooperating" not in parts["开展森林资源保护"]  # the document named no one: rules add nobody
    assert parts["推进城镇污水处理"]["lead"] == [("jtt", "body")]
    assert parts["加强草原生态保护"]["lead"] == [("lcj", "rule")]
    assert ("nmt", "rule") in parts["加强草原生态保护"]["cooperating"]
    assert parts["做好相关工作"]["lead"] == [("sthjt", "rule")]
    rule_rows = departments.exec(
        select(TaskAssignment).where(
            TaskAssignment.source == LeadSource.rule, TaskAssignment.role == AssignmentRole.lead
        )
    ).all()
    evidence = {row.evidence[0]["rule_ids"][0] for row in rule_rows}
    assert evidence == {"forest.grassland", "fallback.office_seat"}


_TOPICS = [(r.id, r.lead[0], r.phrases[0]) for r in RULES.rules if r.phrases]
_BODIES = [d for d in REGISTRY.departments if d.kind in (DepartmentKind.government, DepartmentKind.party)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    topic=st.sampled_from(_TOPICS),
    lead=st.sampled_from(_BODIES),
    cooperating=st.sampled_from(_BODIES),
    form=st.sampled_from(
        ["（{l}牵头，{c}配合）", "（牵头单位：{l}；配合单位：{c}）", "（{l}、{c}按职责分工负责）"]
    ),
)
def test_explicit_annotations_win_every_time(
    topic: tuple[str, str, str], lead: object, cooperating: object, form: str
) -> None:
    lead_name, coop_name = lead.name, cooperating.name  # type: ignore[attr-defined]
    annotation = form.format(l=lead_name, c=coop_name)
    text = f"工作方案\n\n一、重点任务\n（一）推进{topic[2]}工作。加强{topic[2]}管理。{annotation}\n"
    (measure,) = parse(text).measures
    resolution = resolve(measure.responsibility, measure.title, measure.body, REGISTRY, RULES)
    assert resolution.lead_source is LeadSource.explicit
    assert resolution.codes(AssignmentRole.lead)[0] == lead.code  # type: ignore[attr-defined]
    assert all(p.source is LeadSource.explicit for p in resolution.parts)
    assert resolution.proposal is None


# --- the JSON step of `duban plans parse --format json` ---------------------------------------------------


def test_json_output_gets_rule_leads_only_where_the_text_has_none() -> None:
    document = to_json_dict(parse(EXPLICIT))
    filled = apply_rules_to_json(document, REGISTRY, RULES)
    by_title = {m["title"]: m for m in filled["measures"]}
    assert by_title["加强大气污染防治"]["lead_source"] == "explicit"
    assert by_title["加强大气污染防治"]["lead"] == ["自治区林业和草原局"]
    grass = by_title["加强草原生态保护"]
    assert grass["lead_source"] == "rule" and grass["lead"] == ["自治区林业和草原局"]
    assert (
        "自治区农牧厅" in grass["cooperating"] and grass["rule_evidence"]["rule_ids"][0] == "forest.grassland"
    )
    assert document["measures"][3]["lead"] == []  # the parser's own output is left untouched


# --- the five seeds -------------------------------------------------------------------------------------


@pytest.mark.skipif(not EXAMPLES.exists(), reason="examples missing")
def test_every_seed_measure_gets_a_lead_and_a_deadline(departments: Session) -> None:
    with clock.frozen("2026-11-22T09:00"):
        for file in sorted(EXAMPLES.glob("*.txt")):
            text = file.read_text(encoding="utf-8")
            import_plan(departments, text, parse(text), file.name)
    tasks = departments.exec(select(Task)).all()
    assert len(tasks) == 291
    assert all(t.deadline is not None and t.deadline_source in ("document", "default") for t in tasks)
    assert all("默认" in (t.deadline_note or "") for t in tasks if t.deadline_source == "default")
    leads = departments.exec(select(TaskAssignment).where(TaskAssignment.role == AssignmentRole.lead)).all()
    first: dict[int, LeadSource] = {}
    for row in sorted(leads, key=lambda r: r.position):
        first.setdefault(row.task_id, row.source)
    assert set(first) == {t.id for t in tasks}
    sources = Counter(source.value for source in first.values())
    assert sources["rule"] >= 280 and sum(sources.values()) == 291
    # Written leads are the document's (never a rule's); the rules propose only where nobody is named.
    written = set(departments.exec(select(TaskUnit.task_id)).all())
    assert written and all(first[task_id] is not LeadSource.rule for task_id in written)
    assert all(source is LeadSource.rule for task_id, source in first.items() if task_id not in written)
    no_horizon = departments.exec(select(Plan).where(col(Plan.horizon).is_(None))).all()
    for plan in no_horizon:
        dates = {t.deadline for t in tasks if t.plan_id == plan.id and t.deadline_source == "default"}
        assert dates == {dt.date((plan.issue_date or dt.date(2026, 1, 1)).year + 1, 12, 31)}


def test_a_default_deadline_quotes_why_the_document_gives_none() -> None:
    import datetime as dt

    from duban.tasks.rules.deadlines import HORIZON_NOTE, default_deadline

    horizon = dt.date(2025, 12, 31)
    assert default_deadline(horizon, None) == (horizon, HORIZON_NOTE)
    date, note = default_deadline(horizon, None, ongoing="长期坚持")
    assert (
        date == horizon and note.startswith("文件写明“长期坚持”，是持续性工作") and "未写明时限" not in note
    )
    date, note = default_deadline(None, dt.date(2024, 3, 1), impossible="2月30日")
    assert date == dt.date(2025, 12, 31) and note.startswith("文件写的日期“2月30日”不存在")
