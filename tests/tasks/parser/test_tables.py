"""Task tables: columns by the meaning of their headers, in any order, merged cells, no heading before them."""

from __future__ import annotations

from duban.tasks.parser import parse


def test_a_table_only_division_of_tasks_in_any_column_order() -> None:
    plan = parse(
        "重点任务分工表\n"
        "序号\t责任单位\t完成时间\t工作任务\t配合部门\n"
        "1\t市发展改革委\t2024年6月底前\t编制实施方案\t市财政局、市生态环境局\n"
        "2\t市生态环境局\t2024年底前\t开展专项执法检查\t\n"
    )
    assert [m.title for m in plan.measures] == ["编制实施方案", "开展专项执法检查"]
    first, second = plan.measures
    assert (first.responsibility.lead, first.responsibility.cooperating) == (
        ("市发展改革委",),
        ("市财政局", "市生态环境局"),
    )
    assert second.responsibility.lead == ("市生态环境局",) and second.responsibility.cooperating == ()


def test_an_empty_lead_cell_stays_empty_and_category_rows_are_headings() -> None:
    plan = parse(
        "序号\t重点任务\t牵头单位\t配合单位\n"
        "一、大气污染防治\t\t\t\n"
        "1\t淘汰燃煤小锅炉\t省生态环境厅\t省发展改革委\n"
        "2\t治理工业扬尘\t\t省住房城乡建设厅\n"
        "二、水污染防治\t\t\t\n"
        "1\t整治黑臭水体\t省住房城乡建设厅\t\n"
    )
    assert [list(m.path) for m in plan.measures] == [["一", "1"], ["一", "2"], ["二", "1"]]
    assert plan.measures[1].responsibility.lead == ()  # never a lead the row does not name
    assert plan.measures[1].responsibility.cooperating == ("省住房城乡建设厅",)
    assert plan.measures[2].responsibility.lead == ("省住房城乡建设厅",)


def test_an_annex_task_list_is_read_and_an_annex_without_tasks_is_left_out() -> None:
    text = (
        "关于印发某某工作方案的通知\n一、工作目标\n到2025年，全面完成整治。\n二、主要任务\n"
        "（一）加强统筹。建立协调机制。\n"
        "附件1\n重点任务分工表\n序号\t任务\t牵头单位\t配合单位\n"
        "1\t开展排查整治\t区生态环境局\t各街道\n"
        "附件2\n联系人名单\n张三，区生态环境局。\n"
    )
    plan = parse(text)
    paths = [list(m.path) for m in plan.measures]
    assert ["附件1", "1"] in paths
    assert not any(path[0] == "附件2" for path in paths)
    annexed = next(m for m in plan.measures if m.path[0] == "附件1")
    assert annexed.responsibility.lead == ("区生态环境局",)
    assert any(w.code == "annex_ignored" for w in plan.warnings)


def test_a_rectification_table_tracks_the_measure_and_keeps_the_problem_in_its_text() -> None:
    plan = parse(
        "二、整改任务\n序号\t反馈问题\t整改目标\t整改措施\t责任单位\t整改时限\n"
        "1\t部分城市黑臭水体反弹\t消除比例达到90%\t开展黑臭水体排查整治\t市住建局、各区县政府\t2024年6月底前\n"
    )
    (measure,) = plan.measures
    assert measure.title == "开展黑臭水体排查整治"
    assert "反馈问题：部分城市黑臭水体反弹" in measure.body and measure.body.count("黑臭水体反弹") == 1
    assert measure.responsibility.lead == ("市住建局", "各区县政府")
    assert measure.time.deadline_text == "2024年6月底前"
