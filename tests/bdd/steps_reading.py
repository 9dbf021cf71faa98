"""Step definitions for 读取责任分工.feature: what the reader makes of a document (imported by conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_bdd import given, parsers, then, when

from duban.tasks.parser import parse, to_json_dict
from duban.tasks.registry import default_registry
from duban.tasks.rules import apply_rules_to_json, bundled_rules
from tests.bdd.conftest import quoted


def _names(written: str) -> list[str]:
    return [] if written == "无" else written.split("、")


def measure_at(measures: list[dict[str, Any]], path: str) -> dict[str, Any]:
    """The measure of a parse result (JSON shape) whose path is written "一/(一)/#1"."""
    found = [m for m in measures if "/".join(m["path"]) == path]
    assert found, f"no measure {path}: {[m['path'] for m in measures]}"
    return dict(found[0])


@given("有以下文件：")
def a_document(context: dict[str, Any], docstring: str) -> None:
    context["document"] = docstring


@when("督办读取这份文件")
def read_the_document(context: dict[str, Any]) -> None:
    text = context["document"]
    reading = to_json_dict(parse(text))
    context["reading"] = apply_rules_to_json(reading, default_registry(), bundled_rules(), text)


@then(parsers.parse("读出 {count:d} 项措施"))
def measure_count(context: dict[str, Any], count: int) -> None:
    assert len(context["reading"]["measures"]) == count


@then(quoted('读出的措施 "{path}" 由 "{lead}" 牵头，"{cooperating}" 配合'))
def lead_and_cooperating(context: dict[str, Any], path: str, lead: str, cooperating: str) -> None:
    measure = measure_at(context["reading"]["measures"], path)
    assert (measure["lead"], measure["cooperating"]) == (_names(lead), _names(cooperating))


@then(quoted('读出的措施 "{path}" 没有牵头单位，由 "{guidance}" 指导，落实主体为 "{implementer}"'))
def guidance_and_implementer(context: dict[str, Any], path: str, guidance: str, implementer: str) -> None:
    measure = measure_at(context["reading"]["measures"], path)
    assert measure["lead"] == [] and measure["guidance"] == _names(guidance)
    assert [u["name"] for u in measure["units"] if u["role"] == "implementer"] == _names(implementer)


@then(quoted('读出的措施 "{path}" 没有牵头单位，也不提出建议'))
def no_lead_and_no_proposal(context: dict[str, Any], path: str) -> None:
    measure = measure_at(context["reading"]["measures"], path)
    assert measure["lead"] == [] and measure["lead_source"] is None
    assert not context["reading"]["registry"]["applies"]


@then("读出的单位都在原文中")
def every_unit_is_written(context: dict[str, Any]) -> None:
    for measure in context["reading"]["measures"]:
        for unit in measure["units"]:
            assert unit["name"] in context["document"]


@when(quoted('委员会办公室打开措施 "{path}" 的任务页面'))
def open_measure_task_page(pages_clients: Callable[[str], Any], context: dict[str, Any], path: str) -> None:
    plan = context["response"].json()["plan"]
    task = next(t for t in plan["task_list"] if "/".join(t["path"]) == path)
    context["page"] = pages_clients("委员会办公室").get(f"/tasks/{task['id']}")
