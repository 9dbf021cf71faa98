"""Step definitions for the documents features (imported by tests/bdd/conftest.py)."""

from __future__ import annotations

import io
import textwrap
from typing import Any

import openpyxl
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when

from tests.tasks.parser.test_files_pdf import scanned_pdf, text_pdf
from tests.tasks.parser.test_files_sniff import ole2_file

_LINES_A_PAGE = 24
_PDF = "application/pdf"
_DOC = "application/msword"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@given(parsers.parse('有一份有文字层的 PDF 文件 "{name}"，每行 {width:d} 个字，内容为：'))
def text_layer_pdf(context: dict[str, Any], name: str, width: int, docstring: str) -> None:
    """A PDF whose paragraphs wrap every ``width`` characters, as a 公文 PDF does."""
    lines = [piece for line in docstring.splitlines() for piece in textwrap.wrap(line, width) or [""]]
    pages = [lines[i : i + _LINES_A_PAGE] for i in range(0, len(lines), _LINES_A_PAGE)]
    context["upload"] = (name, text_pdf(pages), _PDF)


@given(parsers.parse('有一份只有图像、没有文字层的扫描件 PDF "{name}"'))
def scanned(context: dict[str, Any], name: str) -> None:
    context["upload"] = (name, scanned_pdf(), _PDF)


@given(parsers.parse('有一份旧版 Word 文件 "{name}"'))
def old_word(context: dict[str, Any], name: str) -> None:
    context["upload"] = (name, ole2_file("WordDocument", "1Table", "\x05SummaryInformation"), _DOC)


@given(parsers.parse('有一份 Excel 分工表 "{name}"，标题为 "{title}"，各行为：'))
def task_table(context: dict[str, Any], name: str, title: str, datatable: list[list[str]]) -> None:
    """A workbook: the title in a row merged across the table, then the header and the rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "分工表"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(datatable[0]))
    for row in datatable:
        sheet.append([int(cell) if cell.isdigit() else (cell.strip() or None) for cell in row])
    buffer = io.BytesIO()
    book.save(buffer)
    context["upload"] = (name, buffer.getvalue(), _XLSX)


@when("我上传该文件导入")
def upload(client: TestClient, office: dict[str, str], context: dict[str, Any]) -> None:
    context["response"] = client.post("/api/v1/plans", files={"file": context["upload"]}, headers=office)


@then(parsers.parse('错误说明中有 "{text}"'))
def detail_mentions(context: dict[str, Any], text: str) -> None:
    assert text in context["response"].json()["detail"], context["response"].text


@then(parsers.parse("导入的规划有 {measures:d} 条措施和 {tasks:d} 条拟办任务"))
def imported_counts(context: dict[str, Any], measures: int, tasks: int) -> None:
    plan = context["response"].json()["plan"]
    assert (plan["measures"], plan["tasks"]) == (measures, tasks)


def _task_by_title(context: dict[str, Any], title: str) -> dict[str, Any]:
    tasks = [t for t in context["response"].json()["plan"]["task_list"] if t["title"] == title]
    assert len(tasks) == 1, context["response"].text
    task: dict[str, Any] = tasks[0]
    return task


@then(parsers.parse('任务 "{title}" 由 "{lead}" 牵头、"{cooperating}" 配合，时限为 "{deadline}"'))
def task_by_title(context: dict[str, Any], title: str, lead: str, cooperating: str, deadline: str) -> None:
    task = _task_by_title(context, title)
    assert [d["name"] for d in task["lead"]] == [lead]
    assert [d["name"] for d in task["cooperating"]] == [cooperating]
    assert task["deadline"] == deadline


@then(parsers.parse('任务 "{title}" 由 "{lead}" 牵头、没有配合单位，时限为 "{deadline}"'))
def task_without_cooperating(context: dict[str, Any], title: str, lead: str, deadline: str) -> None:
    task = _task_by_title(context, title)
    assert [d["name"] for d in task["lead"]] == [lead]
    assert task["cooperating"] == []
    assert task["deadline"] == deadline
