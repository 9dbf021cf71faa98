"""Layouts of real documents: PDF running heads, numbering that restarts per part, very long lists."""

from __future__ import annotations

from duban.tasks.parser import parse


def test_running_heads_beside_page_numbers_are_not_text() -> None:
    pages = "".join(
        f"（{n}）加强第{i}项工作。推进相关工作，落实各项要求，确保取得成效。\n— {i} —\n上海市人民政府办公厅文件\n"
        for i, n in enumerate("一二三四五", 1)
    )
    plan = parse("一、主要任务\n" + pages)
    assert len(plan.measures) == 5
    assert all("办公厅文件" not in m.body for m in plan.measures)


def test_a_line_that_only_repeats_in_the_text_is_kept() -> None:
    plan = parse(
        "一、主要任务\n（一）加强统筹。\n各区政府\n（二）加强保障。\n各区政府\n（三）加强督查。\n各区政府\n各单位要按期报送进展情况。\n"
    )
    assert [m.body for m in plan.measures][:2] == ["各区政府", "各区政府"]


def test_numbering_restarts_in_every_part() -> None:
    plan = parse(
        "一、大气\n1.治理扬尘。内容。\n2.淘汰锅炉。内容。\n二、水\n1.整治黑臭水体。内容。\n2.保护水源。内容。\n"
    )
    assert [list(m.path) for m in plan.measures] == [["一", "1."], ["一", "2."], ["二", "1."], ["二", "2."]]


def test_more_than_999_items() -> None:
    items = "".join(
        f"{n}.开展第{n}项整改。按期完成整改。（责任单位：区生态环境局）\n" for n in range(1, 1206)
    )
    plan = parse("一、问题清单\n" + items)
    assert len(plan.measures) == 1205
    assert plan.measures[-1].path == ("一", "1205.")
    assert plan.measures[-1].responsibility.lead == ("区生态环境局",)


def test_a_target_someone_is_assigned_is_a_task_and_a_bare_target_is_not() -> None:
    plan = parse(
        "某区2023年重点工作任务分解和责任分工方案\n一、主要预期目标\n1.地区生产总值增长6.2%左右。\n"
        "牵头单位：区发改局\n2.森林覆盖率达到25%。\n二、重点工作\n3.推进项目建设。\n牵头单位：区发改局\n"
    )
    assert [list(m.path) for m in plan.measures] == [["一", "1."], ["二", "3."]]


def test_a_notice_whose_annex_is_the_plan_keeps_the_plan() -> None:
    plan = parse(
        "关于印发某市生态环境保护实施方案的通知\n各区政府：\n现将方案印发给你们，请认真贯彻落实。\n"
        "一、提高认识。各单位要高度重视。\n附件\n某市生态环境保护实施方案\n一、主要任务\n"
        "（一）加强大气治理。推进燃煤锅炉淘汰。\n（二）加强水污染治理。推进污水管网建设。\n"
    )
    assert [list(m.path) for m in plan.measures][-2:] == [["附件", "一", "(一)"], ["附件", "一", "(二)"]]


def test_a_cover_letters_points_before_its_date_are_not_measures() -> None:
    plan = parse(
        "某区人民政府办公室关于印发重点任务责任分解方案的通知\n各街道办事处：\n现印发给你们，并通知如下：\n"
        "一、各责任单位要高度重视。\n二、区考评机构要纳入绩效考核。\n某区人民政府办公室\n2024年1月5日\n"
        "某区重点任务责任分解方案\n一、主要预期目标\n（一）地区生产总值增长6%以上\n责任单位:区发展改革局\n"
        "（二）固定资产投资增长8%以上\n责任单位:区发展改革局\n二、重点工作\n（一）推进项目建设。\n"
        "责任单位:区住建局\n"
    )
    assert [list(m.path) for m in plan.measures] == [["一", "(一)"], ["一", "(二)"], ["二", "(一)"]]
    assert any(w.code == "cover_letter" for w in plan.warnings)


def test_a_numbered_list_that_runs_on_in_one_line_is_read_item_by_item() -> None:
    plan = parse(
        "关于支持人才引进的若干意见。为做好人才工作，现提出以下意见。1.对来本市创业的团队，经认定给予资助。"
        "责任单位：市委组织部、市科技局。2.对新引进的重大项目，按规定给予奖励。责任单位：市发改委、市财政局。"
    )
    assert [m.path for m in plan.measures] == [("1.",), ("2.",)]
    assert plan.measures[1].responsibility.lead == ("市发改委", "市财政局")
