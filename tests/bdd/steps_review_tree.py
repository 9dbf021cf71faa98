"""Steps of 规划审定按文件提纲逐级显示: the review page as the document's outline, its counts and filters, the
basis of a proposal in Chinese, department pickers with full names, no bulk panel once issued (issue 15)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pytest_bdd import given, parsers, then, when
from sqlmodel import Session, select

from duban.core.config import PROJECT_ROOT
from duban.tasks.models import Measure, MeasureKind
from duban.tasks.parser import decode_bytes, parse
from duban.tasks.plans import import_plan
from duban.workflow.issuing import issue_plan
from duban.workflow.service import office_actor
from tests.api.pages.helpers import PageClient, text_of
from tests.bdd.conftest import quoted
from tests.bdd.steps_pages import OFFICE, _show

_RULE_ID = re.compile(r"\b(?:env|party|forest|water|industry|land|transport|finance|agri)\.[a-z_]+\b")


def _plan(context: dict[str, Any]) -> int:
    plan_id: int = context["review_plan"]
    return plan_id


@given(quoted('已导入示例规划 "{name}"'))
def tree_example_plan(session: Session, context: dict[str, Any], name: str) -> None:
    file = next(f for f in (PROJECT_ROOT / "examples" / "plans").glob("*.txt") if name in f.name)
    text = decode_bytes(file.read_bytes(), file.name)
    context["review_plan"] = import_plan(session, text, parse(text), file.name).plan_id
    session.flush()


@when("委员会办公室打开该规划的审定页面")
def tree_open_review(pages_clients: Callable[[str], PageClient], context: dict[str, Any]) -> None:
    context["page"] = pages_clients(OFFICE).get(f"/plans/{_plan(context)}")
    assert context["page"].status_code == 200


@then(parsers.re(r"各章按文件顺序排列，前三章为 (?P<names>.+)$"))
def tree_chapters_in_order(context: dict[str, Any], names: str) -> None:
    chapters = re.findall(
        r'<details class="part depth-0"[^>]*>\s*<summary><span class="label">([^<]+)</span>',
        context["page"].text,
    )
    assert chapters[:3] == re.findall(r'"([^"]+)"', names), chapters


@then("每一部分和措施都排在它所属的章节之后，顺序与原文一致")
def tree_document_order(
    pages_clients: Callable[[str], PageClient], session: Session, context: dict[str, Any]
) -> None:
    page = pages_clients(OFFICE).get(f"/plans/{_plan(context)}", expand="all").text
    outline = page[page.index('id="outline"') :]
    shown = [int(i) for i in re.findall(r'id="(?:part|measure)-(\d+)"', outline)]
    lines = dict(
        session.exec(select(Measure.id, Measure.line_start).where(Measure.plan_id == _plan(context))).all()
    )
    order = [lines[i] or 0 for i in shown]
    assert len(shown) == len(set(shown)) > 100 and order == sorted(order)


@then(quoted('"{chapter}" 显示措施数和需要处理的数量'))
def tree_chapter_counts(session: Session, context: dict[str, Any], chapter: str) -> None:
    measures = [
        path
        for path in session.exec(
            select(Measure.path).where(Measure.plan_id == _plan(context), Measure.kind == MeasureKind.measure)
        ).all()
        if path and path[0] == chapter
    ]
    page = context["page"].text
    start = page.index(f'<span class="label">{chapter}</span>')
    summary = text_of(page[start : page.index("</summary>", start)])
    assert f"措施 {len(measures)}" in summary, summary
    assert re.search(r"(缺牵头单位|默认时限|责任规则建议|单位未对应) \d+", summary), summary


@when("委员会办公室在审定页面上只看需要处理的任务")
def tree_only_attention(pages_clients: Callable[[str], PageClient], context: dict[str, Any]) -> None:
    context["page"] = pages_clients(OFFICE).get(f"/plans/{_plan(context)}", show="attention")


@then("页面只列出需要处理的任务，数量与筛选标签上的数字一致")
def tree_attention_listed(context: dict[str, Any]) -> None:
    page = context["page"].text
    tab = re.search(r'id="filter-attention" class="tab here">[^<]*<span class="count">(\d+)</span>', page)
    assert tab, "the filter is not marked as chosen"
    articles = re.findall(r'<article id="task-\d+" class="task([^"]*)"', page)
    assert len(articles) == int(tab.group(1)) > 0
    assert all(" flag-" in classes for classes in articles)


@then(quoted('责任规则建议的依据以 "{start}" 开头，页面上没有规则编号'))
def tree_basis_in_chinese(context: dict[str, Any], start: str) -> None:
    page = context["page"].text
    basis = re.findall(r'<details class="basis proposal">.*?<p class="small">([^<]*)</p>', page, re.S)
    assert basis and all(text.startswith(start) or text.startswith("措施没有写明单位") for text in basis)
    assert _RULE_ID.search(text_of(page)) is None


@when("委员会办公室切换到英文后打开该规划的审定页面")
def tree_open_review_english(pages_clients: Callable[[str], PageClient], context: dict[str, Any]) -> None:
    client = pages_clients(OFFICE)
    client.get("/lang/en")
    context["page"] = client.get(f"/plans/{_plan(context)}")


@then("页面上显示规则编号")
def tree_rule_ids_shown(context: dict[str, Any]) -> None:
    assert 'class="muted small rule-ids"' in context["page"].text
    assert _RULE_ID.search(text_of(context["page"].text)) is not None


@when("委员会办公室打开该规划第一项拟办任务的修改表单")
def tree_open_edit(pages_clients: Callable[[str], PageClient], context: dict[str, Any]) -> None:
    client = pages_clients(OFFICE)
    page = client.get(f"/plans/{_plan(context)}", expand="all").text
    found = re.search(r'id="edit-link-(\d+)"', page)
    assert found
    context["edit_task"] = int(found.group(1))
    context["page"] = client.get(f"/plans/{_plan(context)}", edit=found.group(1))


def _edit_form(context: dict[str, Any]) -> str:
    page: str = context["page"].text
    form = page[page.index(f'id="edit-{context["edit_task"]}"') :]
    return form[: form.index("</form>")]


@then(quoted('牵头单位可从 "{name}" 等完整名称中选择'))
def tree_full_names(context: dict[str, Any], name: str) -> None:
    form = _edit_form(context)
    picker = form[form.index('<select name="lead"') :]
    assert f'<option value="{name}">{name}</option>' in picker[: picker.index("</select>")]


@when(quoted('委员会办公室选择 "{name}" 为牵头单位、不设配合单位并保存'))
def tree_save_edit(pages_clients: Callable[[str], PageClient], context: dict[str, Any], name: str) -> None:
    form = _edit_form(context)
    version = re.search(r'name="version" value="(\d+)"', form)
    deadline = re.search(r'name="deadline" value="([^"]*)"', form)
    assert version and deadline
    client = pages_clients(OFFICE)
    task_id = context["edit_task"]
    data = {
        "form": "edit",
        "task_id": task_id,
        "version": version.group(1),
        "lead": [name, ""],
        "cooperating": [""],
        "deadline": deadline.group(1),
    }
    _show(context, client, client.post(f"/plans/{_plan(context)}/tasks/{task_id}", data))


@then(quoted('该任务的牵头单位为 "{name}"'))
def tree_lead_is(context: dict[str, Any], name: str) -> None:
    page = context["page"].text
    card = page[page.index(f'<article id="task-{context["edit_task"]}"') :]
    assigned = text_of(card[: card.index("</dl>")])
    assert f"牵头单位 {name}" in assigned, assigned


@given("该规划的拟办任务都已交办")
def tree_all_issued(session: Session, context: dict[str, Any]) -> None:
    issue_plan(session, _plan(context), office_actor())
    session.flush()


@then("页面上没有批量修改")
def tree_no_bulk_panel(context: dict[str, Any]) -> None:
    page = context["page"].text
    assert 'id="bulk"' not in page and "批量修改" not in text_of(page)
    assert 'id="issue-plan"' not in page
