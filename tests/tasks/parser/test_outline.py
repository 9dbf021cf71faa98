"""Outline segmentation on short documents, one pattern each."""

from __future__ import annotations

from duban.tasks.parser import Exclusion, ParsedPlan, parse


def _paths(plan: ParsedPlan) -> list[list[str]]:
    return [list(measure.path) for measure in plan.measures]


def _titles(plan: ParsedPlan) -> list[str]:
    return [measure.title for measure in plan.measures]


def test_inline_heading_items_under_sections() -> None:
    plan = parse(
        "一、加快绿色发展\n（一）优化空间格局。推进主体功能区建设。\n（二）推动产业升级。淘汰落后产能。\n"
        "二、打好蓝天保卫战\n（一）治理工业污染。全面达标排放。\n"
    )
    assert _paths(plan) == [["一", "(一)"], ["一", "(二)"], ["二", "(一)"]]
    assert _titles(plan) == ["优化空间格局", "推动产业升级", "治理工业污染"]
    assert plan.measures[0].body == "推进主体功能区建设。"
    assert (plan.measures[0].line_start, plan.measures[0].line_end) == (2, 2)


def test_item_starting_mid_line_is_split_only_when_expected() -> None:
    plan = parse(
        "一、保障措施\n"
        "（一）加强组织领导。成立委员会，纳入考核评价体系。（二）加大政策支持。增加投入。"
        "按照（三）的要求办理。（四）不是标题，只是一句话。\n"
    )
    assert _paths(plan) == [["一", "(一)"], ["一", "(二)"]]
    assert plan.measures[0].body == "成立委员会，纳入考核评价体系。"
    assert plan.measures[1].title == "加大政策支持"
    assert plan.measures[1].body.endswith("（四）不是标题，只是一句话。")
    assert plan.measures[1].line_start == 2


def test_numbering_that_restarts_in_each_section() -> None:
    plan = parse(
        "一、甲部分\n（一）甲一。内容。\n（二）甲二。内容。\n二、乙部分\n（一）乙一。内容。\n（二）乙二。内容。\n"
    )
    assert _paths(plan) == [["一", "(一)"], ["一", "(二)"], ["二", "(一)"], ["二", "(二)"]]


def test_numbering_that_runs_on_across_sections() -> None:
    plan = parse(
        "一、健全领导责任体系\n(一)健全工作机制。内容。\n(二)强化考核。内容。\n"
        "二、健全企业责任体系\n(三)实行排污许可。内容。\n(四)推进绿色生产。内容。\n"
    )
    assert _paths(plan) == [["一", "(一)"], ["一", "(二)"], ["二", "(三)"], ["二", "(四)"]]


def test_unexpected_numbers_in_running_text_are_not_headings() -> None:
    plan = parse(
        "一、水源保护\n（一）划定保护区。内容。\n一、二级保护区要设立标志。\n2018.全面完成。\n（五）这是正文。\n"
        "二、其他\n（一）其他工作。内容。\n"
    )
    assert _paths(plan) == [["一", "(一)"], ["二", "(一)"]]
    assert "一、二级保护区要设立标志。" in plan.measures[0].body
    assert "（五）这是正文。" in plan.measures[0].body


def test_unnumbered_continuation_paragraphs_belong_to_the_item_before() -> None:
    plan = parse(
        "一、碧水保卫战\n\n  (一)保障饮用水安全。开展规范化建设。\n\n"
        "  2020年年底前,完成备用水源建设。\n\n  加强全过程管理。\n"
    )
    assert _paths(plan) == [["一", "(一)"]]
    assert plan.measures[0].body == "开展规范化建设。\n2020年年底前,完成备用水源建设。\n加强全过程管理。"
    assert plan.measures[0].line_end == 7


def test_chapters_and_sections_without_items() -> None:
    plan = parse(
        "第一章 加强污染防治\n本章导语。\n第一节 大气污染防治\n深入推进大气治理。\n"
        "第二节 水污染防治\n节导语。\n1.保护水源\n保护水源地。\n2.治理黑臭水体\n消除黑臭水体。\n"
        "第二章 实施重点工程，保障规划推进\n建立项目库。\n"
    )
    assert _paths(plan) == [
        ["第一章", "第一节"],
        ["第一章", "第二节", "1."],
        ["第一章", "第二节", "2."],
        ["第二章"],
    ]
    assert _titles(plan) == ["大气污染防治", "保护水源", "治理黑臭水体", "实施重点工程，保障规划推进"]
    assert plan.measures[1].body == "保护水源地。"
    assert plan.measures[3].body == "建立项目库。"


def test_parenthesised_arabic_and_circled_items() -> None:
    plan = parse(
        "一、重点任务\n（一）大气治理\n1.工业源\n（1）钢铁超低排放改造。内容。\n（2）焦化行业治理。内容。\n"
        "2.移动源\n①柴油货车治理。内容。\n②非道路机械治理。内容。\n"
    )
    assert _paths(plan) == [
        ["一", "(一)", "1.", "(1)"],
        ["一", "(一)", "1.", "(2)"],
        ["一", "(一)", "2.", "①"],
        ["一", "(一)", "2.", "②"],
    ]


def test_sub_bullets_and_enumerations_stay_inside_their_item() -> None:
    plan = parse(
        "第一章 达标排放\n第一节 工业源\n1.重点涉气工业治污减排\n--推行清洁化改造。提高洗选比例。\n"
        "--推进重点行业减排。实施综合治理。\n2.扬尘治理\n一是建筑工地扬尘治理。二是道路扬尘治理。\n"
    )
    assert _paths(plan) == [["第一章", "第一节", "1."], ["第一章", "第一节", "2."]]
    assert plan.measures[0].body == "--推行清洁化改造。提高洗选比例。\n--推进重点行业减排。实施综合治理。"
    assert plan.measures[1].body.startswith("一是")


def test_heading_sentence_paragraphs_are_measures_of_a_heading_only_item() -> None:
    plan = parse(
        "二、筑牢生态安全屏障\n坚持系统治理。\n（一）建立国土空间支撑体系\n"
        "构建保护开发新格局。统筹优化空间，到2035年全面形成。\n深化主体功能区战略。优化空间布局。\n"
        "补充说明，属于上一段。\n（二）保护修复草原森林\n全面开展草原保护，实施禁牧休牧和草畜平衡制度等各项措施。\n"
    )
    assert _paths(plan) == [["二", "(一)", "#1"], ["二", "(一)", "#2"], ["二", "(二)"]]
    assert _titles(plan) == ["构建保护开发新格局", "深化主体功能区战略", "保护修复草原森林"]
    assert plan.measures[1].body == "优化空间布局。\n补充说明，属于上一段。"
    assert plan.measures[2].body.startswith("全面开展草原保护")


def test_parts_that_are_not_measures_and_targets_from_goals() -> None:
    plan = parse(
        "一、总体要求\n（一）指导思想。以习近平新时代中国特色社会主义思想为指导。\n"
        "（二）基本原则。坚持生态优先。\n（三）主要目标。到2020年，全区森林覆盖率达到23%。\n"
        "二、面临的形势\n生态环境依然脆弱。\n三、深入贯彻落实习近平生态文明思想\n各地区要提高政治站位。\n"
        "四、重点任务\n（一）加强大气治理。内容。\n五、推动如期实现美丽中国目标\n（一）加强组织领导。内容。\n"
    )
    assert _paths(plan) == [["四", "(一)"], ["五", "(一)"]]
    excluded = {node.label: node.excluded for node in plan.outline}
    assert excluded["二"] is Exclusion.situation
    assert excluded["三"] is Exclusion.ideology
    goals = [child for child in plan.outline[0].children if child.excluded is Exclusion.goals]
    assert [child.title for child in goals] == ["主要目标"]
    assert [t.source_path for t in plan.targets] == [("一", "(三)")] * len(plan.targets)
    assert any("森林覆盖率" in t.target.indicator for t in plan.targets)
    assert plan.horizon is not None and plan.horizon.year == 2020


def test_traditional_script_matches_on_a_simplified_copy_and_keeps_the_original() -> None:
    plan = parse(
        "關于全面加強生態環境保護的實施意見\n\n一.總體要求\n  (一)指導思想。堅持綠色發展。\n"
        "二.加快推進綠色發展\n  (一)優化國土空間開發格局。健全國土空間開發保護制度。\n"
    )
    assert plan.script == "traditional"
    assert plan.title == "關于全面加強生態環境保護的實施意見"
    assert _paths(plan) == [["二", "(一)"]]
    assert plan.measures[0].title == "優化國土空間開發格局"


def test_word_bookmark_artifacts_are_removed_even_inside_headings() -> None:
    plan = parse(
        "[bookmark: _Toc1][bookmark: _Toc2]\n"
        "[bookmark: _Toc3][bookmark: OLE_LINK1]一、[bookmark: x]重点任务\n"
        "[bookmark: _Toc4]（一）加强监测\n"
        "[bookmark: OLE_LINK2]构建监测网络。完善站点。\n提升预报水平。加强会商。\n"
    )
    assert _paths(plan) == [["一", "(一)", "#1"], ["一", "(一)", "#2"]]
    assert _titles(plan) == ["构建监测网络", "提升预报水平"]
    assert plan.outline[0].title == "重点任务"


def test_page_break_in_mid_sentence_is_joined_with_a_repeated_character_removed() -> None:
    plan = parse(
        "一、健全监管体系\n\n(一)加强监管体系建设。推进生态环境保护综合行政执法改革，深\n\n"
        "深化实施“双随机、一公开”监管模式。\n\n(二)加强司法保障。健全信息共享、案情通报、案件移送等\n\n"
        "制度，强化行政执法与刑事司法衔接。\n"
    )
    assert _paths(plan) == [["一", "(一)"], ["一", "(二)"]]
    assert plan.measures[0].body == "推进生态环境保护综合行政执法改革，深化实施“双随机、一公开”监管模式。"
    assert plan.measures[1].body == "健全信息共享、案情通报、案件移送等制度，强化行政执法与刑事司法衔接。"
    assert (plan.measures[0].line_start, plan.measures[0].line_end) == (3, 5)
    assert plan.extra["repeated_chars_removed"] == 1


def test_heading_lines_are_not_joined_with_what_follows() -> None:
    plan = parse("一、健全环境治理领导责任体系\n\n(一)健全工作机制。内容。\n")
    assert plan.outline[0].title == "健全环境治理领导责任体系"


def test_header_noise_is_not_taken_for_the_title_or_text() -> None:
    plan = parse(
        "呼和浩特市环境保护产业协会\n\n内蒙古自治区党委 自治区人民政府这个《实施意见》,高度重要!!!\n\n"
        "各盟行政公署、市人民政府，自治区各委、办、厅、局：\n2025年10月28日\n（本文有删减）\n"
        "全面推进美丽内蒙古建设\n筑牢生态安全屏障规划纲要\n（2025—2035年）\n"
        "一、重点任务\n（一）加强组织领导。内容。全文完。来源:《内蒙古日报》官方微信\n\n"
        "抄送：自治区党委各部门，内蒙古军区。\n      自治区人大常委会办公厅。\n"
    )
    assert plan.title == "全面推进美丽内蒙古建设筑牢生态安全屏障规划纲要（2025—2035年）"
    assert not plan.title_inferred
    assert str(plan.issue_date) == "2025-10-28"
    assert str(plan.horizon) == "2035-12-31"
    assert plan.measures[0].body == "内容。全文完。"
    assert [w.code for w in plan.warnings] == ["trailer_ignored"]


def test_title_is_inferred_from_the_preamble_when_the_file_has_none() -> None:
    plan = parse(
        "根据《中共中央、国务院关于加快生态文明建设的意见》精神，结合实际，提出如下实施意见。\n"
        "一、重点任务\n（一）加强治理。内容。\n"
    )
    assert plan.title == "关于加快生态文明建设的实施意见"
    assert plan.title_inferred


def test_closing_exhortation_and_signature_are_not_part_of_the_last_measure() -> None:
    plan = parse(
        "一、保障\n（一）强化考核。严格问责、终身追责。生态环境保护，事关长远发展。"
        "让我们紧密团结，为建设亮丽内蒙古而不懈奋斗！\n\n内蒙古自治区人民政府\n2018年8月22日\n"
    )
    assert plan.measures[0].body == "严格问责、终身追责。"
    assert str(plan.issue_date) == "2018-08-22"


def test_annex_ends_the_outline() -> None:
    plan = parse("一、任务\n（一）加强治理。内容。\n附件\n一、重点工程\n（一）工程甲。内容。\n")
    assert _paths(plan) == [["一", "(一)"]]
    assert [w.code for w in plan.warnings] == ["annex_ignored"]


def test_table_of_contents_is_skipped() -> None:
    plan = parse(
        "目录\n第一章 总体安排……1\n第二章 保障措施……5\n"
        "第一章 总体安排\n第一节 推进治理\n加强治理。\n第二章 保障措施\n加强领导。\n"
    )
    assert _paths(plan) == [["第一章", "第一节"], ["第二章"]]


def test_document_without_outline_gives_no_measures_and_a_warning() -> None:
    plan = parse("这是一段没有编号的文字。\n又一段文字。\n")
    assert plan.measures == ()
    assert [w.code for w in plan.warnings] == ["no_outline"]


def test_notice_title_gives_way_to_the_plan_title() -> None:
    plan = parse(
        "关于印发《生态环境保护规划》的通知\n各盟市：\n现将《生态环境保护规划》印发给你们，请认真贯彻落实。\n"
        "生态环境保护规划\n一、任务\n（一）加强治理。内容。\n"
    )
    assert plan.title == "生态环境保护规划"
    only_notice = parse("关于印发《大气污染防治实施方案》的通知\n一、任务\n（一）加强治理。内容。\n")
    assert only_notice.title == "大气污染防治实施方案"


def test_separator_after_a_bracketed_number_is_not_part_of_the_title() -> None:
    plan = parse("一、任务\n（一）、加强治理。内容。\n")
    assert plan.measures[0].title == "加强治理"


def test_a_bracketed_number_inside_an_arabic_item_does_not_open_a_level_above_it() -> None:
    plan = parse(
        "一、任务\n1.治理扬尘。内容如下：\n（一）施工工地要做到六个百分之百，并按照要求实施在线监测和视频监控管理\n"
        "2.治理燃煤。内容。\n"
    )
    assert _paths(plan) == [["一", "1."], ["一", "2."]]
    assert "（一）施工工地" in plan.measures[0].body


def test_a_heading_only_last_item_is_not_taken_for_a_signature() -> None:
    plan = parse("一、任务\n（一）加强治理。内容。\n（二）做好示范推广\n")
    assert _titles(plan) == ["加强治理", "做好示范推广"]


def test_letterhead_and_document_number_are_not_part_of_the_title() -> None:
    plan = parse(
        "内蒙古自治区人民政府文件\n内政发〔2018〕17号\n内蒙古自治区人民政府关于加强环境保护的意见\n"
        "一、任务\n（一）加强治理。内容。\n"
    )
    assert plan.title == "内蒙古自治区人民政府关于加强环境保护的意见"


def test_notice_without_book_title_marks_finds_the_plan_title_spelled_over_lines() -> None:
    plan = parse(
        "市政府办公厅关于印发应急体系建设规划责任分解的通知\n各县人民政府：\n现将责任分解印发给你们。\n"
        "市政府办公厅\n2017年4月13日\n应急体系建设\n规划责任分解\n一、任务\n（一）完善预案。内容。\n"
    )
    assert plan.title == "应急体系建设规划责任分解"
    assert str(plan.issue_date) == "2017-04-13"


def test_responsibility_line_after_a_group_of_sub_items_applies_to_all_of_them() -> None:
    plan = parse(
        "一、任务\n1.完善预案体系\n（1）加强预案管理。内容。\n（2）推进预案精编化。内容。\n"
        "（责任单位：自治区生态环境厅）\n2.健全体制\n（1）推进机构建设。内容。\n（责任单位：自治区水利厅）\n"
        "二、分工\n1.治理扬尘。内容。\n牵头单位：自治区住房和城乡建设厅\n2.治理燃煤。内容。\n"
    )
    leads = {measure.path: measure.responsibility.lead for measure in plan.measures}
    assert leads[("一", "1.", "(1)")] == ("自治区生态环境厅",)
    assert leads[("一", "1.", "(2)")] == ("自治区生态环境厅",)
    assert leads[("一", "2.", "(1)")] == ("自治区水利厅",)
    assert plan.measures[1].body == "内容。"
    assert leads[("二", "1.")] and "住房" in leads[("二", "1.")][0]
    assert leads[("二", "2.")] == ()


def test_hard_wrapped_lines_are_read_as_one_paragraph() -> None:
    plan = parse(
        "一、重点任务\n（一）加强大气污染防治。推进工业企业全面达标排放，2020\n年底前完成钢铁行业超低排放改造，加快淘汰燃煤小锅\n炉。\n"
        "（二）加强水污染防治。保障饮用水安全。\n"
    )
    assert (
        plan.measures[0].body
        == "推进工业企业全面达标排放，2020年底前完成钢铁行业超低排放改造，加快淘汰燃煤小锅炉。"
    )
    assert (plan.measures[0].line_start, plan.measures[0].line_end) == (2, 4)
    assert plan.measures[0].time.deadline_text is not None


def test_inferred_title_keeps_a_traditional_document_in_its_script() -> None:
    plan = parse(
        "為貫徹落實《國務院關於印發大氣污染防治行動計劃的通知》,結合我省實際,提出如下實施意見。\n"
        "一、具體措施\n(一)調整能源結構。控制煤炭消費總量。\n"
    )
    assert plan.title == "關於貫徹落實大氣污染防治行動計劃的實施意見"
    assert plan.title_inferred


def test_a_heading_run_into_its_text_after_a_space_is_still_classified() -> None:
    plan = parse(
        "一、指导思想 以习近平新时代中国特色社会主义思想为指导，推进生态文明建设。\n二、重点任务\n（一）加强治理。内容。\n"
    )
    assert _paths(plan) == [["二", "(一)"]]
    assert plan.outline[0].excluded is Exclusion.ideology


def test_page_numbers_between_the_halves_of_a_sentence_are_dropped() -> None:
    plan = parse(
        "一、任务\n（一）加强监管。推进生态环境保护综合行政执法改革，全面实施双随机\n\n— 5 —\n\n"
        "一公开监管。\n（二）加强保障。内容。\n"
    )
    assert plan.measures[0].body == "推进生态环境保护综合行政执法改革，全面实施双随机一公开监管。"


def test_task_table_rows_are_measures_with_their_cells_as_labelled_lines() -> None:
    plan = parse(
        "一、重点任务分工\n序号\t重点任务\t牵头单位\t配合单位\t完成时限\n"
        "1\t治理工业扬尘\t自治区生态环境厅\t自治区水利厅\t2020年底前\n"
        "2\t淘汰燃煤小锅炉\t自治区发展改革委\t\t2019年底前\n"
        "二、保障措施\n（一）加强组织领导。内容。\n"
    )
    assert _paths(plan) == [["一", "1"], ["一", "2"], ["二", "(一)"]]
    first = plan.measures[0]
    assert first.title == "治理工业扬尘"
    assert first.body == "牵头单位：自治区生态环境厅\n配合单位：自治区水利厅\n完成时限：2020年底前"
    assert first.responsibility.lead == ("自治区生态环境厅",)
    assert first.time.deadline_text is not None
    assert plan.measures[1].body == "牵头单位：自治区发展改革委\n完成时限：2019年底前"
