"""Step definitions for 时限的读法.feature: the deadlines the reader gives a document (issue 13)."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, then, when

from duban.tasks.parser import parse, to_json_dict
from duban.tasks.parser.model import join_title_body
from duban.tasks.parser.timex import impossible_dates, ongoing_text
from tests.bdd.conftest import quoted
from tests.bdd.steps_reading import measure_at


@given("委员会办公室收到这样一份文件：")
def deadlines_document(context: dict[str, Any], docstring: str) -> None:
    """The document as the office received it."""
    context["deadline_document"] = docstring


@when("督办读出这份文件的时限")
def deadlines_read(context: dict[str, Any]) -> None:
    """Parse it as `duban plans parse --format json` does."""
    plan = parse(context["deadline_document"])
    context["deadline_plan"] = plan
    context["deadline_reading"] = to_json_dict(plan)


@then(quoted('措施 "{path}" 的时限原文为 "{phrase}"，完成时限为 "{date}"'))
def deadlines_phrase_and_date(context: dict[str, Any], path: str, phrase: str, date: str) -> None:
    """The deadline as written and as a date."""
    measure = measure_at(context["deadline_reading"]["measures"], path)
    assert (measure["deadline_text"], measure["deadline"]) == (phrase, date)


@then(quoted('措施 "{path}" 的时限原文为 "{phrase}"，没有换算成日期'))
def deadlines_phrase_only(context: dict[str, Any], path: str, phrase: str) -> None:
    """The deadline as written, with no date (the document gives no year)."""
    measure = measure_at(context["deadline_reading"]["measures"], path)
    assert (measure["deadline_text"], measure["deadline"]) == (phrase, None)


@then(quoted('措施 "{path}" 的阶段性时限为 "{steps}"'))
def deadlines_milestones(context: dict[str, Any], path: str, steps: str) -> None:
    """The dated steps, "原文：日期" separated by "；"."""
    measure = measure_at(context["deadline_reading"]["measures"], path)
    assert "；".join(f"{m['text']}：{m['date']}" for m in measure["milestones"]) == steps


@then(quoted('措施 "{path}" 没有完成时限'))
def deadlines_none(context: dict[str, Any], path: str) -> None:
    """Neither a date nor a phrase."""
    measure = measure_at(context["deadline_reading"]["measures"], path)
    assert (measure["deadline_text"], measure["deadline"]) == (None, None)


@then(quoted('措施 "{path}" 读作持续性的工作 "{phrase}"'))
def deadlines_ongoing(context: dict[str, Any], path: str, phrase: str) -> None:
    """The phrase that makes the measure ongoing work."""
    plan = context["deadline_plan"]
    measure = next(m for m in plan.measures if "/".join(m.path) == path)
    assert ongoing_text(join_title_body(measure.title, measure.body)) == phrase


@then(quoted('读出文件中不存在的日期 "{dates}"'))
def deadlines_impossible(context: dict[str, Any], dates: str) -> None:
    """The impossible dates, in reading order, separated by "、"."""
    assert "、".join(impossible_dates(context["deadline_document"])) == dates
