"""Excel .xlsx 分工表: rows as tab-separated lines, every column kept, sheets apart, cached formula values."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from duban.tasks.parser import ParseError, decode_bytes, parse
from duban.tasks.parser.files_xlsx import MAX_CELLS

HEADER: list[object] = ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"]


def _book(*sheets: tuple[str, list[list[object]]], merges: tuple[str, ...] = ()) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    for merged in merges:
        book.worksheets[0].merge_cells(merged)
    return book


def _bytes(book: openpyxl.Workbook, cached: dict[str, str] | None = None) -> bytes:
    """The workbook's bytes; ``cached`` gives formula cells the values Excel would have stored."""
    buffer = io.BytesIO()
    book.save(buffer)
    if not cached:
        return buffer.getvalue()
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                for ref, value in cached.items():
                    start = xml.index(f'<c r="{ref}"')
                    empty = xml.index("<v></v>", start)
                    xml = xml[:empty] + f"<v>{value}</v>" + xml[empty + len("<v></v>") :]
                data = xml.encode()
            target.writestr(item, data)
    return out.getvalue()


TASKS: list[list[object]] = [
    ["上海港岸电工作重点任务分工表"],
    ["一、重点任务"],
    HEADER,
    [1, "推进码头岸电设施建设，实现全覆盖", "市交通委", None, dt.datetime(2023, 12, 31)],
    [2.0, "加强船舶岸电使用执法检查，督促船舶使用岸电", "上海海事局", "市交通委执法总队", "持续推进"],
    [3, "健全岸电数据报送制度，按月报送使用情况", "市港航中心", "市交通委\n市发展改革委", None],
]


def test_rows_keep_every_column_and_titles_are_ordinary_lines() -> None:
    text = decode_bytes(_bytes(_book(("分工表", TASKS), merges=("A1:E1", "A2:E2"))), "分工表.xlsx")
    assert text.split("\n") == [
        "上海港岸电工作重点任务分工表",
        "一、重点任务",
        "序号\t重点任务\t牵头单位\t配合单位\t完成时限",
        "1\t推进码头岸电设施建设，实现全覆盖\t市交通委\t\t2023年12月31日",
        "2\t加强船舶岸电使用执法检查，督促船舶使用岸电\t上海海事局\t市交通委执法总队\t持续推进",
        "3\t健全岸电数据报送制度，按月报送使用情况\t市港航中心\t市交通委、市发展改革委\t",
    ]


def test_the_parser_reads_a_measure_a_row() -> None:
    plan = parse(decode_bytes(_bytes(_book(("分工表", TASKS)))))
    assert [m.title for m in plan.measures] == [
        "推进码头岸电设施建设，实现全覆盖",
        "加强船舶岸电使用执法检查，督促船舶使用岸电",
        "健全岸电数据报送制度，按月报送使用情况",
    ]
    assert plan.measures[0].responsibility.lead == ("市交通委",)
    assert plan.measures[2].responsibility.cooperating == ("市交通委", "市发展改革委")


def test_a_range_merged_down_repeats_its_value_and_one_merged_across_gives_it_once() -> None:
    rows: list[list[object]] = [
        HEADER,
        [1, "推进岸电设施建设，实现全覆盖", "市交通委", "市发展改革委", "2023年底前"],
    ]
    rows.append([2, "推进船舶受电设施改造，实现全覆盖", None, None, "2024年底前"])
    book = _book(("表", rows), merges=("C2:C3", "D2:E2"))
    assert decode_bytes(_bytes(book)).split("\n")[1:] == [
        "1\t推进岸电设施建设，实现全覆盖\t市交通委\t市发展改革委\t",
        "2\t推进船舶受电设施改造，实现全覆盖\t市交通委\t\t2024年底前",
    ]


def test_sheets_are_parted_by_a_blank_line_and_empty_rows_left_out() -> None:
    book = _book(
        ("一", [HEADER, [], [1, "甲任务", "市交通委"]]),
        ("空", []),
        ("二", [["附：说明"], ["注", "", "备注"]]),
    )
    assert decode_bytes(_bytes(book)).split("\n") == [
        "序号\t重点任务\t牵头单位\t配合单位\t完成时限",
        "1\t甲任务\t市交通委\t\t",
        "",
        "附：说明",
        "注\t\t备注",
    ]


def test_formulas_read_their_cached_values() -> None:
    book = _book(("表", [["项目", "数量", "合计"], ["岸电泊位", 3, "=B2*2"]]))
    assert decode_bytes(_bytes(book, {"C2": "6"})).split("\n")[1] == "岸电泊位\t3\t6"
    assert decode_bytes(_bytes(book)).split("\n")[1] == "岸电泊位\t3\t"  # never calculated: no value


def test_an_empty_workbook_is_an_empty_document() -> None:
    with pytest.raises(ParseError) as caught:
        decode_bytes(_bytes(_book(("表", []))))
    assert caught.value.code == "empty_document"


def test_a_damaged_workbook_is_a_parse_error() -> None:
    data = _bytes(_book(("表", [HEADER])))
    with pytest.raises(ParseError) as caught:
        decode_bytes(data[: len(data) // 2], "分工表.xlsx")
    assert caught.value.code == "bad_xlsx"
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook>not really</workbook>")
    with pytest.raises(ParseError) as caught:
        decode_bytes(broken.getvalue())
    assert caught.value.code == "bad_xlsx"


def test_a_huge_sheet_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("duban.tasks.parser.files_xlsx.MAX_CELLS", 10)
    with pytest.raises(ParseError) as caught:
        decode_bytes(_bytes(_book(("表", [HEADER, HEADER, HEADER]))))
    assert caught.value.code == "spreadsheet_too_large"
    assert MAX_CELLS > 100_000
