"""Word .docx files: paragraphs a line, tables whose empty and merged cells keep every column in place."""

from __future__ import annotations

import io

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from duban.tasks.parser import ParseError, decode_bytes, parse


def _save(document: object) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


def _table_document() -> bytes:
    """A plan with a 分工表: an empty cell, a cell spanning two columns, a lead spanning two rows."""
    document = docx.Document()
    document.add_paragraph("关于印发港口岸电重点任务分工的通知")
    document.add_paragraph("一、重点任务")
    rows = [
        ("序号", "重点任务", "牵头单位", "配合单位", "完成时限"),
        ("1", "推进码头岸电设施建设，实现全覆盖", "市交通委", "", "2023年底前"),
        ("2", "加强船舶岸电使用执法检查", "上海海事局", "市交通委执法总队", "持续推进"),
        ("3", "健全岸电数据报送制度", "", "市级平台", "2023年6月底前"),
        ("4", "开展岸电技术交流活动", "市港航中心", "", ""),
    ]
    table = document.add_table(rows=len(rows), cols=5)
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            if value:
                cell.text = value
    table.cell(2, 2).merge(table.cell(3, 2))  # vertical: 上海海事局 leads rows 2 and 3
    table.cell(4, 3).merge(table.cell(4, 4))  # horizontal: one empty cell over 配合单位 and 完成时限
    table.cell(4, 3).text = "各区政府"
    document.add_paragraph("二、保障措施")
    return _save(document)


def test_table_rows_keep_empty_cells_in_their_columns_and_repeat_cells_merged_down() -> None:
    lines = decode_bytes(_table_document(), "分工.docx").split("\n")
    assert lines == [
        "关于印发港口岸电重点任务分工的通知",
        "一、重点任务",
        "序号\t重点任务\t牵头单位\t配合单位\t完成时限",
        "1\t推进码头岸电设施建设，实现全覆盖\t市交通委\t\t2023年底前",
        "2\t加强船舶岸电使用执法检查\t上海海事局\t市交通委执法总队\t持续推进",
        "3\t健全岸电数据报送制度\t上海海事局\t市级平台\t2023年6月底前",  # merged down: repeated
        "4\t开展岸电技术交流活动\t市港航中心\t各区政府\t",
        "二、保障措施",
    ]
    assert {line.count("\t") for line in lines if "\t" in line} == {4}


def test_the_parser_reads_the_rows_under_their_header() -> None:
    plan = parse(decode_bytes(_table_document()))
    titles = [m.title for m in plan.measures]
    assert titles[:4] == [
        "推进码头岸电设施建设，实现全覆盖",
        "加强船舶岸电使用执法检查",
        "健全岸电数据报送制度",
        "开展岸电技术交流活动",
    ]
    first, second, _, fourth = plan.measures[:4]
    assert first.responsibility.lead == ("市交通委",) and first.responsibility.cooperating == ()
    assert second.responsibility.cooperating == ("市交通委执法总队",)
    assert fourth.responsibility.cooperating == ("各区政府",)


def test_names_one_a_paragraph_in_a_cell_become_a_list() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    for cell, value in zip(table.rows[0].cells, ("重点任务", "牵头单位", "配合单位"), strict=True):
        cell.text = value
    task, lead, cooperating = table.rows[1].cells
    task.text = "推进岸电设施建设。"
    task.add_paragraph("新建码头同步建设岸电设施。")
    lead.text = "市交通委"
    cooperating.text = "市发展改革委"
    cooperating.add_paragraph("市经济信息化委")
    rows = decode_bytes(_save(document)).split("\n")
    assert rows[1] == "推进岸电设施建设。新建码头同步建设岸电设施。\t市交通委\t市发展改革委、市经济信息化委"


def test_grid_before_and_content_controls() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    for cell, value in zip(table.rows[0].cells, ("重点任务", "牵头单位", "完成时限"), strict=True):
        cell.text = value
    row = table.rows[1]._tr
    row.remove(row.tc_lst[0])  # the first column is skipped (gridBefore) rather than given a cell
    row.get_or_add_trPr().append(parse_xml(f'<w:gridBefore {nsdecls("w")} w:val="1"/>'))
    row.tc_lst[0].clear_content()
    row.tc_lst[0].append(parse_xml(f"<w:p {nsdecls('w')}><w:r><w:t>市交通委</w:t></w:r></w:p>"))
    sdt = parse_xml(
        f"<w:sdt {nsdecls('w')}><w:sdtPr/><w:sdtContent>"
        "<w:p><w:r><w:t>（一）加强组织领导。</w:t></w:r><w:r><w:tab/><w:t>各区要落实责任。</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
    )
    document.element.body.insert(0, sdt)
    lines = decode_bytes(_save(document)).split("\n")
    assert lines == ["（一）加强组织领导。 各区要落实责任。", "重点任务\t牵头单位\t完成时限", "\t市交通委\t"]


def test_tracked_deletions_and_drawings_are_left_out() -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("（一）加强")
    paragraph._p.append(
        parse_xml(
            f'<w:del {nsdecls("w")} w:id="1" w:author="a"><w:r><w:delText>删去的</w:delText></w:r></w:del>'
        )
    )
    paragraph._p.append(
        parse_xml(f'<w:ins {nsdecls("w")} w:id="2" w:author="a"><w:r><w:t>组织领导。</w:t></w:r></w:ins>')
    )
    assert decode_bytes(_save(document)) == "（一）加强组织领导。"


def test_a_docx_without_text_is_empty() -> None:
    with pytest.raises(ParseError) as caught:
        decode_bytes(_save(docx.Document()))
    assert caught.value.code == "empty_document"


def test_a_damaged_docx_is_a_parse_error() -> None:
    data = bytearray(_table_document())
    broken = bytes(data[: len(data) // 2])
    with pytest.raises(ParseError) as caught:
        decode_bytes(broken, "分工.docx")
    assert caught.value.code == "bad_docx"
