"""The PDF writer: the document model as HTML and CSS in the 公文 layout (GB/T 9704-2012: A4, 版心
156 × 225 mm, 3号仿宋 body on 28.95 pt lines, red 版头 and line), laid out by WeasyPrint — which shapes and
breaks Chinese lines through pango, finds the fonts through fontconfig and embeds subsets of them, so the file
is sent unchanged and its text stays extractable (docs/operations.md says why this renderer)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from html import escape
from typing import Any

from duban.workflow.paperwork.fonts import FontSet, PaperworkUnavailable, font_set
from duban.workflow.paperwork.model import RED, Block, Heading, Paper, Paragraph, Table, chinese_date

# WeasyPrint reports every CSS property it skips at WARNING; the stylesheet is ours and fixed.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def _css(fonts: FontSet) -> str:
    body, heading, title, kai = (f'"{name}"' for name in (fonts.body, fonts.heading, fonts.title, fonts.kai))
    return f"""
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm;
  @bottom-center {{ content: "— " counter(page) " —"; font-family: {body}; font-size: 14pt; }} }}
@page wide {{ size: A4 landscape; margin: 28mm 37mm 26mm 35mm; }}
html {{ lang: zh-CN; }}
body {{ font-family: {body}; font-size: 16pt; line-height: 28.95pt; margin: 0; }}
section.paper {{ page-break-after: always; }}
section.paper:last-child {{ page-break-after: auto; }}
section.wide {{ page: wide; }}
.issuer {{ color: {RED}; font-family: {title}; font-weight: {fonts.title_weight}; font-size: 26pt;
  line-height: 36pt; text-align: center; margin: 0 0 6pt 0; letter-spacing: 2pt; }}
.serial {{ text-align: center; margin: 0; }}
.rule {{ border-top: 2pt solid {RED}; margin: 4pt 0 14pt 0; }}
h1 {{ font-family: {title}; font-weight: {fonts.title_weight}; font-size: 22pt; line-height: 36pt;
  text-align: center; margin: 0 0 14pt 0; }}
h2 {{ font-family: {heading}; font-weight: normal; font-size: 16pt; margin: 0; text-indent: 2em; }}
h3 {{ font-family: {kai}; font-weight: normal; font-size: 16pt; margin: 0; text-indent: 2em; }}
p {{ margin: 0; text-align: justify; }}
p.indent {{ text-indent: 2em; }}
table {{ border-collapse: collapse; table-layout: fixed; width: 100%; font-size: 12pt; line-height: 18pt;
  margin: 8pt 0 14pt 0; }}
table.small {{ font-size: 10.5pt; line-height: 15pt; }}
thead {{ display: table-header-group; }}
th, td {{ border: 0.75pt solid #000; padding: 3pt 4pt; vertical-align: top; }}
th {{ font-family: {heading}; font-weight: normal; text-align: center; }}
td.num {{ text-align: center; }}
caption {{ font-family: {heading}; font-size: 14pt; padding-bottom: 4pt; text-align: center; }}
td.key {{ font-family: {heading}; white-space: nowrap; }}
.signature {{ margin-top: 28.95pt; text-align: right; padding-right: 4em; }}
.note {{ font-size: 12pt; line-height: 18pt; margin-top: 14pt; }}
"""


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        tag = "h2" if block.level <= 1 else "h3"
        return f"<{tag}>{escape(block.text)}</{tag}>"
    if isinstance(block, Paragraph):
        css = ' class="indent"' if block.indent else ""
        return f"<p{css}>{escape(block.text)}</p>"
    return _table(block)


def _cell_class(table: Table, index: int) -> str:
    names = [name for name, on in (("num", index in table.numeric), ("key", index in table.keys)) if on]
    return f' class="{" ".join(names)}"' if names else ""


def _table(table: Table) -> str:
    total = sum(table.widths) or 1.0
    cols = "".join(f'<col style="width:{100 * w / total:.1f}%">' for w in table.widths)
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    rows = "".join(
        "<tr>" + "".join(f"<td{_cell_class(table, i)}>{escape(c)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in table.rows
    )
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    body = (f"<thead><tr>{head}</tr></thead>" if table.headers else "") + f"<tbody>{rows}</tbody>"
    css = ' class="small"' if table.small else ""
    return f"<table{css}>{caption}<colgroup>{cols}</colgroup>{body}</table>"


def to_html(papers: Sequence[Paper], fonts: FontSet) -> str:
    """The papers as one HTML document (each paper a section starting on a new page)."""
    sections = []
    for paper in papers:
        parts = [f'<div class="issuer">{escape(paper.issuer)}</div>']
        if paper.serial:
            parts.append(f'<p class="serial">{escape(paper.serial)}</p>')
        parts.append('<div class="rule"></div>')
        parts.append(f'<h1 style="color:{escape(paper.title_colour)}">{escape(paper.title)}</h1>')
        if paper.addressee:
            parts.append(f"<p>{escape(paper.addressee)}：</p>")
        parts += [_block(block) for block in paper.blocks]
        if paper.signature:
            parts.append(
                f'<p class="signature">{escape(paper.signature)}<br>{escape(chinese_date(paper.date))}</p>'
            )
        parts += [f'<p class="note">{escape(note)}</p>' for note in paper.notes]
        css = "paper wide" if paper.landscape else "paper"
        sections.append(f'<section class="{css}">{"".join(parts)}</section>')
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(papers[0].title if papers else '')}</title>"
        f"<style>{_css(fonts)}</style></head><body>{''.join(sections)}</body></html>"
    )


def to_pdf(papers: Sequence[Paper]) -> bytes:
    """The papers as one PDF (A4, fonts embedded); PaperworkUnavailable without fonts or renderer."""
    fonts = font_set()
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]  # imported here: 1 s, PDFs only
    except (ImportError, OSError) as exc:  # OSError: the pango library is missing
        raise PaperworkUnavailable(
            f"PDF 渲染组件不可用：{exc}",
            f"The PDF renderer is unavailable: {exc}",
            code="paperwork_renderer_missing",
        ) from exc
    document: Any = HTML(string=to_html(papers, fonts))
    pdf: bytes = document.write_pdf()
    return pdf
