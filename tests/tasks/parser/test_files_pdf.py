"""PDF files: text layers read line by line, ruled tables as rows, scans and damaged files refused."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.pdfencrypt import StandardEncryption  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

from duban.tasks.parser import ParseError, decode_bytes, parse

CORPUS = Path(__file__).parents[3] / ".." / "shared" / "corpus"
FONT = "STSong-Light"  # one of reportlab's built-in CID fonts: no font file needed
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def text_pdf(pages: list[list[str]], *, encrypt: object = None) -> bytes:
    """A 公文-like PDF: 16 pt lines from the top of each A4 page, a "— N —" page number at the foot."""
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer, pagesize=A4, encrypt=encrypt)
    for number, lines in enumerate(pages, 1):
        sheet.setFont(FONT, 16)
        for index, line in enumerate(lines):
            sheet.drawString(72, 770 - 28 * index, line)
        sheet.drawCentredString(A4[0] / 2, 40, f"— {number} —")
        sheet.showPage()
    sheet.save()
    return buffer.getvalue()


def scanned_pdf(pages: int = 2) -> bytes:
    """A PDF of page images only, as a scanner makes it (plus a drawn frame): no text layer."""
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer, pagesize=A4)
    image = Image.new("L", (200, 280), 255)
    image.paste(0, (20, 20, 180, 40))  # a dark bar where a title would be
    for _ in range(pages):
        sheet.drawImage(ImageReader(image), 50, 100, width=495, height=693)
        sheet.rect(40, 90, 515, 713)
        sheet.showPage()
    sheet.save()
    return buffer.getvalue()


def table_pdf(rows: list[list[str]], spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> bytes:
    """A PDF with a heading, a ruled table (cells may span) and a closing paragraph."""
    style = ParagraphStyle("zh", fontName=FONT, fontSize=11, leading=16)
    table = Table(
        [[Paragraph(cell, style) for cell in row] for row in rows], colWidths=[30, 170, 80, 100, 80]
    )
    commands: list[tuple[object, ...]] = [("GRID", (0, 0), (-1, -1), 0.5, colors.black)]
    commands += [("SPAN", start, end) for start, end in spans]
    table.setStyle(TableStyle(commands))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4)
    document.build(
        [
            Paragraph("关于印发港口岸电工作方案的通知", style),
            Paragraph("一、重点任务", style),
            table,
            Paragraph("二、保障措施", style),
            Paragraph("（一）加强组织领导。各单位要落实责任。", style),
        ]
    )
    return buffer.getvalue()


PAGES = [
    [
        "关于推进港口岸电使用的实施方案",
        "一、主要任务",
        "（一）完善码头岸电设施。2025年年底前实现港口码",
        "头岸电设施全覆盖，新建码头同步建设岸电设施。（牵头",
        "单位：市交通委；配合单位：市发展改革委）",
    ],
    [
        "（二）推进船舶受电设施改造。推进本市籍船舶开展受电",
        "设施改造。（牵头单位：上海海事局）",
    ],
]


def test_text_layer_is_read_line_by_line_with_pages_apart() -> None:
    text = decode_bytes(text_pdf(PAGES), "方案.pdf")
    first, second = text.split("\f")
    assert first.split("\n") == [*PAGES[0], "— 1 —", ""]
    assert second.split("\n") == [*PAGES[1], "— 2 —"]


def test_the_parser_reads_the_pdf_text_as_it_reads_the_same_text() -> None:
    plan = parse(decode_bytes(text_pdf(PAGES)))
    assert plan.title == "关于推进港口岸电使用的实施方案"
    assert [list(m.path) for m in plan.measures] == [["一", "(一)"], ["一", "(二)"]]
    first, second = plan.measures
    assert first.title == "完善码头岸电设施"
    assert "— 1 —" not in second.body and "全覆盖" in first.body
    assert first.responsibility.lead == ("市交通委",)
    assert first.responsibility.cooperating == ("市发展改革委",)
    assert second.responsibility.lead == ("上海海事局",)


def test_ruled_table_rows_keep_their_columns() -> None:
    rows = [
        ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"],
        ["1", "推进岸电设施建设", "市交通委", "", "2023年底前"],
        ["2", "加强执法检查，督促船舶使用岸电", "上海海事局", "市交通委执法总队", "持续推进"],
        ["3", "完善岸电价格政策", "", "市交通委<br/>市水务局", "2023年6月底前"],
    ]
    # The lead of row 2 spans rows 2 and 3 (a vertical merge): row 3 has an empty lead cell.
    text = decode_bytes(table_pdf(rows, [((2, 2), (2, 3))]))
    lines = [line for line in text.split("\n") if line]
    start = lines.index("序号\t重点任务\t牵头单位\t配合单位\t完成时限")
    assert lines[start - 1] == "一、重点任务"
    assert lines[start + 1 : start + 4] == [
        "1\t推进岸电设施建设\t市交通委\t\t2023年底前",
        "2\t加强执法检查，督促船舶使用岸电\t上海海事局\t市交通委执法总队\t持续推进",
        "3\t完善岸电价格政策\t\t市交通委、市水务局\t2023年6月底前",
    ]
    assert lines[start + 4] == "二、保障措施"
    plan = parse(text)
    assert [m.title for m in plan.measures][:3] == [
        "推进岸电设施建设",
        "加强执法检查，督促船舶使用岸电",
        "完善岸电价格政策",
    ]
    assert plan.measures[1].responsibility.cooperating == ("市交通委执法总队",)
    assert plan.measures[2].responsibility.cooperating == ("市交通委", "市水务局")


def test_a_scan_without_text_layer_is_refused() -> None:
    with pytest.raises(ParseError) as caught:
        decode_bytes(scanned_pdf(), "扫描件.pdf")
    assert caught.value.code == "no_text_layer"
    assert caught.value.message_zh == "PDF 没有文字层：扫描件需要先做文字识别（OCR）"
    assert caught.value.message_en == "no text layer: a scanned PDF needs OCR first"


def test_a_password_protected_pdf_is_refused() -> None:
    with pytest.raises(ParseError) as caught:
        decode_bytes(text_pdf(PAGES, encrypt=StandardEncryption("secret", ownerPassword="owner")))
    assert caught.value.code == "bad_pdf"
    assert "密码" in caught.value.message_zh and "password" in caught.value.message_en


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7 whatever",
        text_pdf(PAGES)[:600],
        text_pdf(PAGES)[: len(text_pdf(PAGES)) // 2],
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        b"%PDF-1.4\n" + bytes(range(256)) * 40,
    ],
    ids=["header-only", "cut-short", "half", "no-pages", "garbage"],
)
def test_a_damaged_pdf_is_a_parse_error_not_a_crash(data: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        decode_bytes(data, "坏文件.pdf")
    assert caught.value.code in {"bad_pdf", "no_text_layer"}
    assert caught.value.message_zh and caught.value.message_en


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"—\s*\d+\s*—", "", text))


def test_corpus_pdf_reads_like_its_text_edition() -> None:
    pdf = CORPUS / "25_shanghai_port_shore_power_2023.pdf"
    if not pdf.exists() and not os.environ.get("CI"):
        pytest.skip("the shared corpus is not beside the checkout")
    text = decode_bytes(pdf.read_bytes(), pdf.name)
    edition = (CORPUS / "23_shanghai_port_shore_power_2023.txt").read_text(encoding="utf-8")
    # The same characters in the same order (the .txt adds a title line of its own at the top).
    assert len(_squash(text)) > 2000 and _squash(edition).endswith(_squash(text))
    plan = parse(text)
    assert len(plan.measures) >= 10
    assert [m.title for m in plan.measures] == [m.title for m in parse(edition).measures]
