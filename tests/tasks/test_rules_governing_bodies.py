"""The rules never propose the region's party committee or government itself as lead or cooperating unit;
a document that writes them keeps them as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from duban.core.config import PROJECT_ROOT
from duban.tasks.errors import RuleSetInvalid
from duban.tasks.parser import decode_bytes, parse, to_json_dict
from duban.tasks.registry import default_registry
from duban.tasks.rules import apply_rules_to_json, bundled_rules, parse_rules
from duban.tasks.rules.loading import is_governing_body

REGISTRY = default_registry()
GOVERNING = ("自治区党委", "自治区人民政府", "自治区政府")


def _rule(lead: list[str], cooperating: list[str]) -> dict[str, object]:
    return {"id": "office.leadership", "phrases": ["组织领导"], "lead": lead, "cooperating": cooperating,
            "remit": "办公室统筹"}  # fmt: skip


@pytest.mark.parametrize(("lead", "cooperating"), [(["dw"], []), (["zf"], []), (["sthjt"], ["dw", "zf"])])
def test_a_rule_naming_the_committee_or_the_government_is_refused(
    lead: list[str], cooperating: list[str]
) -> None:
    with pytest.raises(RuleSetInvalid) as caught:
        parse_rules([_rule(lead, cooperating)], REGISTRY, "office", "test")
    assert any("本身" in problem["message_zh"] for problem in caught.value.extra["errors"])


def test_other_party_and_government_bodies_are_not_governing_bodies() -> None:
    assert all(is_governing_body(name) for name in GOVERNING)
    assert not any(
        is_governing_body(name) for name in ("自治区党委宣传部", "自治区人民政府办公厅", "呼和浩特市人民政府")
    )
    names = {REGISTRY.department(code).name for rule in bundled_rules().rules for code in rule.lead}
    assert names and not any(is_governing_body(name) for name in names)


@pytest.mark.parametrize(
    "file", sorted((PROJECT_ROOT / "examples" / "plans").glob("*.txt")), ids=lambda p: p.stem[:12]
)
def test_no_proposal_over_the_example_plans_names_them(file: Path) -> None:
    text = decode_bytes(file.read_bytes(), file.name)
    document = apply_rules_to_json(to_json_dict(parse(text)), REGISTRY, bundled_rules(), text)
    proposed = [
        name
        for measure in document["measures"]
        if measure["lead_source"] == "rule"
        for name in (*measure["lead"], *measure["cooperating"])
    ]
    assert proposed and not any(is_governing_body(name) for name in proposed)


def test_a_document_that_writes_them_keeps_them() -> None:
    text = "关于加强生态保护的实施意见\n一、加强组织领导\n（一）健全生态环境保护责任体系。（自治区党委、自治区人民政府负责）\n"
    document = apply_rules_to_json(to_json_dict(parse(text)), REGISTRY, bundled_rules(), text)
    (measure,) = document["measures"]
    assert measure["lead_source"] != "rule"
    assert any(is_governing_body(name) for name in measure["lead"])
