"""Properties: any text or bytes either parses or raises ParseError, deterministically, in linear-ish time."""

from __future__ import annotations

import contextlib
import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duban.tasks.parser import ParseError, parse, parse_bytes, to_json_dict

FRAGMENTS = [
    "一、",
    "二、",
    "三.",
    "（一）",
    "(二)",
    "（三）",
    "1.",
    "2、",
    "3.",
    "（1）",
    "(2)",
    "①",
    "②",
    "第一章",
    "第二章 ",
    "第一节",
    "第二节",
    "第一条",
    "加强组织领导",
    "指导思想",
    "基本原则",
    "主要目标",
    "面临的形势",
    "到2020年",
    "2018年年底前",
    "森林覆盖率达到23%",
    "自治区生态环境厅牵头",
    "包头市",
    "。",
    "，",
    "；",
    "：",
    "\n",
    "\n\n",
    "\u3000\u3000",
    " ",
    "--",
    "一是",
    "目录",
    "附件",
    "抄送：",
    "来源：",
    "（本文有删减）",
    "2025年10月28日",
    "让我们",
    "\t",
    "序号\t重点任务\t牵头单位\t完成时限\n",
    "1\t治理扬尘\t自治区生态环境厅\t2020年底前\n",
    "（责任单位：自治区水利厅）",
    "— 5 —",
    "[bookmark: _Toc1]",
    "深",
    "關於環境保護",
    "\x07",
    "\ud800",
    "\r\n",
    "\u2028",
    "ＡＢ１",
]
documents = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=60).map("".join)


def _parse_or_refuse(text: str, *, twice: bool = True) -> None:
    try:
        first = parse(text)
    except ParseError as error:
        assert error.code in {"empty_document", "binary_document"}
        return
    if twice:
        assert parse(text) == first
    json.dumps(to_json_dict(first), ensure_ascii=True)
    paths = [measure.path for measure in first.measures]
    assert len(paths) == len(set(paths)), "measure paths must be unique (they key the stored measures)"
    for measure in first.measures:
        assert 1 <= measure.line_start <= measure.line_end
        assert measure.title or measure.body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_structured_text_parses_or_raises_parse_error(text: str) -> None:
    _parse_or_refuse(text)


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_arbitrary_text_parses_or_raises_parse_error(text: str) -> None:
    _parse_or_refuse(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_parse_or_raise_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_bytes(data)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=20, max_size=80).map("".join))
def test_megabyte_inputs_parse_in_bounded_time(unit: str) -> None:
    text = unit * (1_000_000 // max(1, len(unit)) + 1)
    started = time.perf_counter()
    _parse_or_refuse(text, twice=False)
    assert time.perf_counter() - started < 60


def test_many_numbered_lines_and_deep_nesting_stay_fast() -> None:
    numbered = "一、总则\n" + "".join(f"{n}.加强第{n}项工作。内容。\n" for n in range(1, 20_001))
    nested = "".join(
        f"第{n}章 标题\n第一节 小节\n一、甲\n（一）乙\n1.丙\n（1）丁\n①戊。内容。\n" for n in range(1, 500)
    )
    for text in (numbered, nested):
        started = time.perf_counter()
        plan = parse(text)
        assert time.perf_counter() - started < 30
        assert plan.measures
    assert len(parse(numbered).measures) == 9999  # a 4-digit counter is the limit of an outline number
