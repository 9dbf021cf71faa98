"""Normalisation: lines, keys, noise, paragraphs and their joins."""

from __future__ import annotations

import pytest

from duban.tasks.chinese import to_simplified
from duban.tasks.parser import ParseError
from duban.tasks.parser.normalize import check_text, clean_line, fold_width, simplified_key, split_lines
from duban.tasks.parser.paragraphs import (
    Noise,
    build_paragraphs,
    classify_noise,
    skip_table_of_contents,
    strip_inline_source,
)


def test_keys_are_simplified_width_folded_and_as_long_as_the_text() -> None:
    lines = split_lines("\u3000\u3000（一）關於環境保護．ＡＢＣ１２\r\n第二行\r第三行", to_simplified)
    assert [line.number for line in lines] == [1, 2, 3]
    first = lines[0]
    assert first.text == "（一）關於環境保護．ＡＢＣ１２"
    assert first.key == "(一)关于环境保护.ABC12"
    assert all(len(line.text) == len(line.key) for line in lines)


def test_simplified_key_falls_back_per_character_when_a_conversion_changes_length() -> None:
    def stretching(text: str) -> str:
        return text.replace("國", "国").replace("乾隆", "乾乾隆")

    assert simplified_key("乾隆國", stretching) == "乾隆国"


def test_bookmarks_invisible_characters_and_edge_spaces_are_removed() -> None:
    assert clean_line(" [bookmark: OLE_LINK1][bookmark: _Toc2]各盟市：\u200b\u3000") == "各盟市："
    assert clean_line("（一）[bookmark: _Toc9]加强领导") == "（一）加强领导"
    assert clean_line("见[附表1]") == "见[附表1]"


def test_fold_width_keeps_length() -> None:
    text = "（１）　ＡＢ，。"
    assert fold_width(text) == "(1) AB,。"
    assert len(fold_width(text)) == len(text)


@pytest.mark.parametrize("text", ["", "   \n\u3000\n", "\t"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        check_text(text)
    assert caught.value.code == "empty_document"


def test_binary_text_is_refused_with_its_line() -> None:
    with pytest.raises(ParseError) as caught:
        check_text("第一行\n第二行\x00\x01")
    assert caught.value.code == "binary_document"
    assert caught.value.line == 2
    with pytest.raises(ParseError):
        check_text("\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f" * 3 + "文字")


def test_a_few_stray_control_characters_are_tolerated() -> None:
    check_text("正文\x07内容" + "字" * 1000)
    assert split_lines("正文\x07内容", to_simplified)[0].text == "正文内容"


@pytest.mark.parametrize(
    ("line", "noise"),
    [
        ("2025年10月28日", Noise.date),
        ("(2018年8月22日)", Noise.date),
        ("二〇一八年八月二十二日", Noise.date),
        ("(本文有删减)", Noise.editorial),
        ("— 5 —", Noise.page),
        ("-12-", Noise.page),
        ("第3页 共20页", Noise.page),
        ("(此件公开发布)", Noise.editorial),
        ("抄送:自治区党委各部门", Noise.trailer),
        ("来源:内蒙古日报", Noise.note),
        ("责任编辑:张三", Noise.note),
        ("(一)加强组织领导", None),
        ("到2020年,全区森林覆盖率达到23%。", None),
    ],
)
def test_noise_lines(line: str, noise: Noise | None) -> None:
    assert classify_noise(line) is noise


def test_source_note_after_the_last_sentence_is_cut() -> None:
    (line,) = split_lines("而不懈奋斗!来源:《内蒙古日报》官方微信", to_simplified)
    assert strip_inline_source(line).text == "而不懈奋斗!"
    (plain,) = split_lines("数据来源:统计局", to_simplified)
    assert strip_inline_source(plain) == plain


def _paragraph_texts(text: str) -> list[str]:
    paragraphs, _ = build_paragraphs(split_lines(text, to_simplified))
    return [p.text for p in paragraphs]


def test_page_breaks_and_hard_wraps_are_joined_inside_sentences() -> None:
    text = (
        "(一)健全工作机制。自治区党委和政府负总体责任，贯彻执行党中央、国务院\n\n"
        "关于生态环境保护的决策部署。\n\n(二)下一项。"
    )
    assert _paragraph_texts(text) == [
        "(一)健全工作机制。自治区党委和政府负总体责任，贯彻执行党中央、国务院关于生态环境保护的决策部署。",
        "(二)下一项。",
    ]
    assert _paragraph_texts("加强大气污染防治，\n推进燃煤锅炉整治。") == [
        "加强大气污染防治，推进燃煤锅炉整治。"
    ]


def test_no_join_after_sentence_ends_headings_or_before_numbered_lines() -> None:
    assert _paragraph_texts("一、健全环境治理领导责任体系\n\n坚持党的领导。") == [
        "一、健全环境治理领导责任体系",
        "坚持党的领导。",
    ]
    assert _paragraph_texts("推进改革。\n深化实施。") == ["推进改革。", "深化实施。"]
    long_open = "推进生态环境保护综合行政执法改革并持续深化各项工作"
    assert _paragraph_texts(f"{long_open}\n(二)下一项。") == [long_open, "(二)下一项。"]
    assert _paragraph_texts(f"{long_open}\n--分项内容。") == [long_open, "--分项内容。"]
    assert _paragraph_texts("全面推进美丽内蒙古建设\n筑牢安全屏障") == [
        "全面推进美丽内蒙古建设",
        "筑牢安全屏障",
    ]


def test_repeated_character_is_dropped_only_across_a_page_break() -> None:
    paragraphs, joins = build_paragraphs(
        split_lines("全面完成机构改革，推进生态环境保护综合行政执法改革，深\n\n深化实施监管。", to_simplified)
    )
    assert [p.text for p in paragraphs] == [
        "全面完成机构改革，推进生态环境保护综合行政执法改革，深化实施监管。"
    ]
    assert joins.repeated_chars == 1
    assert paragraphs[0].line_start == 1 and paragraphs[0].line_end == 3
    assert paragraphs[0].line_at(len("全面完成机构改革，推进生态环境保护综合行政执法改革，深")) == 3
    wrapped = _paragraph_texts("全面完成机构改革，推进生态环境保护综合行政执法改革，人\n人参与监管。")
    assert wrapped == ["全面完成机构改革，推进生态环境保护综合行政执法改革，人人参与监管。"]


def test_table_of_contents_is_dropped_up_to_its_first_entry() -> None:
    paragraphs, _ = build_paragraphs(
        split_lines("目 录\n第一章 总则……1\n第二章 任务……3\n第一章 总则\n正文。", to_simplified)
    )
    assert [p.text for p in skip_table_of_contents(paragraphs)] == ["第一章 总则", "正文。"]
    unmatched, _ = build_paragraphs(split_lines("目录\n第一章 甲\n正文。", to_simplified))
    assert skip_table_of_contents(unmatched) == unmatched
