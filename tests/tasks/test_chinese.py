"""Script conversion, script detection and width folding (duban.tasks.chinese)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from duban.tasks.chinese import detect_script, normalize_width, to_simplified, to_traditional

# Verbatim from seed 004 (a mixed traditional/simplified conversion of a 2018 实施意见).
SEED_004_TITLE = (
    "内蒙古自治區黨委 自治區人民政府\n\n關于全面加強生态環境保護\n\n堅決打好污染防治攻堅戰的實施意見"
)
SEED_004_SENTENCE = "各盟市和自治區有關部門單位落實情況每年向自治區黨委、政府報告。"
SEED_003_SENTENCE = "自治区发展改革委要加强统筹协调和政策支持，自治区生态环境厅要牵头推进相关具体工作。"


def test_to_simplified_converts_traditional_text() -> None:
    assert (
        to_simplified(SEED_004_SENTENCE) == "各盟市和自治区有关部门单位落实情况每年向自治区党委、政府报告。"
    )
    assert (
        to_simplified("巴彥淖爾市、錫林郭勒盟、準格爾旗、紮蘭屯")
        == "巴彦淖尔市、锡林郭勒盟、准格尔旗、扎兰屯"
    )


def test_to_simplified_leaves_simplified_text_alone() -> None:
    assert to_simplified(SEED_003_SENTENCE) == SEED_003_SENTENCE


def test_to_simplified_keeps_the_length_of_every_cjk_ideograph() -> None:
    ranges = [(0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x2A6E0)]
    for low, high in ranges:
        block = "".join(chr(code) for code in range(low, high))
        converted = to_simplified(block)
        assert len(converted) == len(block), hex(low)


def test_to_simplified_keeps_the_length_of_phrases() -> None:
    # Phrase-level entries of OpenCC's TSPhrases dictionary and the seed text.
    for text in ("乾隆年間著書立說", "瞭解情況，著力推進", SEED_004_TITLE, to_traditional(SEED_003_SENTENCE)):
        assert len(to_simplified(text)) == len(text)


def test_conversion_passes_lone_surrogates_and_control_characters_through() -> None:
    text = "漢\ud800字\x00環\udfff"
    assert to_simplified(text) == "汉\ud800字\x00环\udfff"
    assert to_simplified("") == ""


def test_to_traditional_is_the_reverse_direction() -> None:
    assert to_traditional("自治区发展改革委") == "自治區發展改革委"


def test_detect_script() -> None:
    assert detect_script(SEED_003_SENTENCE) == "simplified"
    assert detect_script(SEED_004_TITLE + SEED_004_SENTENCE) == "traditional"
    assert detect_script("") == "simplified"
    assert detect_script("2018 ABC") == "simplified"


def test_detect_script_on_a_mixed_text_follows_the_majority() -> None:
    mostly_simplified = SEED_003_SENTENCE + "關于"
    assert detect_script(mostly_simplified) == "simplified"
    assert detect_script(to_traditional(SEED_003_SENTENCE) + "关于") == "traditional"


def test_normalize_width_folds_letters_digits_and_spaces_only() -> None:
    assert normalize_width("ＰＭ２．５年均浓度下降１２％") == "PM2．5年均浓度下降12％"
    assert normalize_width("自治区\u3000生态环境厅（牵头），ａｂｃ") == "自治区 生态环境厅（牵头），abc"


@given(st.text())
def test_every_function_keeps_the_length(text: str) -> None:
    assert len(to_simplified(text)) == len(text)
    assert len(to_traditional(text)) == len(text)
    assert len(normalize_width(text)) == len(text)
    assert detect_script(text) in ("simplified", "traditional")
