"""A plan's identity (issue 14, item 3): the parser reads the 文号 and the issuing organ; the plan key uses
them with the title (and the date); a same-titled document with another 文号 or issuer is a new plan; a
revision is found by identity or named by the office, and the result says which and why."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from duban.tasks.enums import Role, TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Plan, PlanRevision, Task
from duban.tasks.parser import parse
from duban.tasks.plan_identity import PlanIdentityTaken, RevisionRemovesIssuedTasks
from duban.tasks.plan_revise import revision_inconsistencies
from duban.tasks.plans import ImportResult, import_plan
from duban.workflow.machines import Actor
from duban.workflow.service import apply_action

BODY = """
一、重点任务
（一）推进燃煤锅炉整治。2026年12月底前完成燃煤锅炉淘汰改造。（自治区生态环境厅牵头）
（二）加强扬尘管控。2026年6月底前出台施工扬尘管理办法。（自治区住房城乡建设厅牵头）
"""

NOTICE = """上海市人民政府办公厅关于印发《上海市促进高端医疗器械产业全链条发展行动方案》的通知
沪府办发〔2025〕17号
各区人民政府，市政府各委、办、局，各有关单位：
《上海市促进高端医疗器械产业全链条发展行动方案》已经市政府同意，现印发给你们，请认真按照执行。
上海市人民政府办公厅
2025年9月4日
上海市促进高端医疗器械产业全链条发展行动方案
"""


@pytest.mark.parametrize(
    ("head", "number", "issuer", "source"),
    [
        (NOTICE, "沪府办发〔2025〕17号", "上海市人民政府办公厅", "head"),
        (
            "国务院办公厅关于印发“无废城市”建设\n试点工作方案的通知\n国办发〔2018〕128号\n"
            "各省、自治区、直辖市人民政府，国务院各部委、各直属机构：\n",
            "国办发〔2018〕128号",
            "国务院办公厅",
            "head",
        ),
        (
            "内蒙古自治区人民政府文件\n内政发[2016] 1号\n内蒙古自治区人民政府关于加强草原保护的意见\n",
            "内政发〔2016〕1号",
            "内蒙古自治区人民政府",
            "letterhead",
        ),
        (
            "國務院關於加快推進農業機械化和\n農機裝備產業轉型升級的指導意見\n國發〔2018〕42號\n",
            "国发〔2018〕42号",
            "国务院",
            "head",
        ),
        (
            "内蒙古自治區黨委 自治區人民政府\n關于全面加強生态環境保護的實施意見\n",
            None,
            "内蒙古自治区党委、自治区人民政府",
            "head",
        ),
        (
            "上海市交通委员会、上海海事局 关于印发《上海港岸电实施方案》的通知\n",
            None,
            "上海市交通委员会、上海海事局",
            "head",
        ),
        (
            "工业和信息化部等七部门关于推动未来产业创新发展的实施意见\n工信部联科〔2024〕12号\n",
            "工信部联科〔2024〕12号",
            "工业和信息化部等七部门",
            "head",
        ),
        (
            "内蒙古自治区生态环境保护“十三五”规划\n（内蒙古自治区环境保护厅　2017年6月）\n",
            None,
            "内蒙古自治区环境保护厅",
            "byline",
        ),
        # A region is not an organ; a 文号 cited in the preamble is not the document's own.
        (
            "内蒙古自治区关于加快推进生态文明建设的实施意见\n"
            "根据《中共中央、国务院关于加快生态文明建设的意见》（中发〔2015〕12号），提出如下实施意见。\n",
            None,
            None,
            None,
        ),
    ],
)
def test_the_parser_reads_the_number_and_the_issuer(
    head: str, number: str | None, issuer: str | None, source: str | None
) -> None:
    parsed = parse(head + BODY)
    assert (parsed.doc_number, parsed.issuer, parsed.issuer_source) == (number, issuer, source)


def test_the_issuer_from_the_signature_at_the_foot() -> None:
    parsed = parse("关于加强扬尘治理的实施意见\n" + BODY + "\n上海市农业农村委员会\n2022年5月26日\n")
    assert (parsed.issuer, parsed.issuer_source) == ("上海市农业农村委员会", "signature")


def _import(session: Session, text: str, name: str | None = None, revises: int | None = None) -> ImportResult:
    return import_plan(session, text, parse(text), name, revises=revises)


def _plans(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Plan)).one())


def _revisions(session: Session, plan_id: int) -> list[tuple[int, str]]:
    rows = session.exec(
        select(PlanRevision).where(PlanRevision.plan_id == plan_id).order_by(PlanRevision.revision)  # type: ignore[arg-type]
    ).all()
    return [(row.revision, row.reason) for row in rows]


def test_same_title_another_number_is_a_new_plan(departments: Session) -> None:
    first = _import(departments, NOTICE + BODY)
    other = _import(departments, NOTICE.replace("〔2025〕17号", "〔2025〕29号") + BODY)
    assert (first.status, other.status) == ("created", "created")
    assert first.plan_id != other.plan_id
    assert other.reason is not None and other.reason.code == "new_plan"
    assert other.reason.similar == (first.plan_id,)
    assert "文号" in other.reason.zh and "revises" in other.reason.en
    assert _plans(departments) == 2


def test_same_title_another_issuer_is_a_new_plan(departments: Session) -> None:
    mine = "内蒙古自治区人民政府办公厅关于印发大气污染防治实施方案的通知\n大气污染防治实施方案\n" + BODY
    theirs = mine.replace("内蒙古自治区人民政府办公厅", "上海市人民政府办公厅")
    first, second = _import(departments, mine), _import(departments, theirs)
    assert first.identity is not None and first.identity.basis == "issuer"
    assert (first.status, second.status) == ("created", "created")
    assert first.plan_id != second.plan_id


def test_same_number_issuer_and_title_with_another_text_is_a_revision(departments: Session) -> None:
    first = _import(departments, NOTICE + BODY)
    revised = _import(departments, NOTICE + BODY.replace("2026年6月底前", "2026年9月底前"))
    assert (revised.status, revised.plan_id, revised.revision) == ("revised", first.plan_id, 2)
    assert revised.reason is not None and revised.reason.code == "same_number"
    assert "沪府办发〔2025〕17号" in revised.reason.zh
    assert revised.changed == ["一/(二)"]
    assert _revisions(departments, first.plan_id) == [(1, "new_plan"), (2, "same_number")]
    assert revision_inconsistencies(departments, first.plan_id) == []


def test_the_issuer_identity_includes_the_date(departments: Session) -> None:
    head = "内蒙古自治区党委 自治区人民政府\n关于全面加强生态环境保护的实施意见\n（2018年8月22日）\n"
    first = _import(departments, head + BODY)
    same_day = _import(departments, head + BODY.replace("2026年6月底前", "2026年9月底前"))
    next_year = _import(departments, head.replace("2018年", "2019年") + BODY)
    assert same_day.status == "revised" and same_day.reason is not None
    assert same_day.reason.code == "same_issuer"
    assert next_year.status == "created" and next_year.plan_id != first.plan_id


def test_without_number_or_issuer_the_title_decides_and_the_answer_says_so(departments: Session) -> None:
    head = "关于加强大气污染防治的工作方案\n"
    first = _import(departments, head + BODY)
    revised = _import(departments, head + BODY.replace("2026年6月底前", "2026年9月底前"))
    assert first.identity is not None and first.identity.basis == "title"
    assert (revised.status, revised.plan_id) == ("revised", first.plan_id)
    assert revised.reason is not None and revised.reason.code == "same_title"
    assert "按标题识别为同一规划的修订" in revised.reason.zh
    assert "same title" in revised.reason.en
    again = _import(departments, head + BODY.replace("2026年6月底前", "2026年9月底前"))
    assert again.status == "unchanged" and again.reason is not None
    assert again.reason.code == "same_content"


def test_the_office_names_the_plan_a_document_revises(departments: Session) -> None:
    first = _import(departments, "关于加强大气污染防治的工作方案\n" + BODY)
    renamed = NOTICE + BODY + "（三）强化监测能力。完善大气环境监测网络。\n"
    revised = _import(departments, renamed, revises=first.plan_id)
    assert (revised.status, revised.plan_id, revised.revision) == ("revised", first.plan_id, 2)
    assert revised.reason is not None and revised.reason.code == "explicit"
    assert revised.added == ["一/(三)"]
    plan = departments.get(Plan, first.plan_id)
    assert plan is not None and plan.doc_number == "沪府办发〔2025〕17号"
    assert plan.issuer == "上海市人民政府办公厅" and plan.identity_basis == "number"
    # The plan took the document's identity: the same document again is this plan, unchanged.
    assert _import(departments, renamed).status == "unchanged"
    assert _plans(departments) == 1
    assert _revisions(departments, first.plan_id) == [(1, "new_plan"), (2, "explicit")]


def test_revises_a_plan_that_does_not_exist(departments: Session) -> None:
    with pytest.raises(NotFoundError):
        _import(departments, NOTICE + BODY, revises=999_999)
    assert _plans(departments) == 0


def test_revises_one_plan_with_a_document_that_is_another(departments: Session) -> None:
    target = _import(departments, "关于加强大气污染防治的工作方案\n" + BODY)
    holder = _import(departments, NOTICE + BODY)
    with pytest.raises(PlanIdentityTaken) as caught:
        _import(departments, NOTICE + BODY + "（三）强化监测能力。\n", revises=target.plan_id)
    assert caught.value.extra["plan_id"] == holder.plan_id


def test_a_revision_may_not_drop_issued_tasks(departments: Session) -> None:
    first = _import(departments, NOTICE + BODY)
    tasks = departments.exec(select(Task).where(Task.plan_id == first.plan_id).order_by(Task.id)).all()  # type: ignore[arg-type]
    second = tasks[1].id
    assert second is not None
    apply_action(departments, second, "issue", Actor(role=Role.office))
    departments.flush()
    without_second = NOTICE + BODY.replace(
        "（二）加强扬尘管控。2026年6月底前出台施工扬尘管理办法。（自治区住房城乡建设厅牵头）\n", ""
    )
    with pytest.raises(RevisionRemovesIssuedTasks) as caught:
        _import(departments, without_second)
    assert caught.value.extra["tasks"] == [{"id": second, "path": "一/(二)", "state": "assigned"}]
    plan = departments.get(Plan, first.plan_id)
    assert plan is not None and plan.revision == 1
    # Withdrawn first, the task's measure may go.
    apply_action(departments, second, "cancel", Actor(role=Role.office), reason="并入其他任务")
    departments.flush()
    revised = _import(departments, without_second)
    assert revised.status == "revised" and revised.removed == ["一/(二)"]
    cancelled = departments.get(Task, second)
    assert cancelled is not None and cancelled.state is TaskState.cancelled


def test_an_explicit_revision_follows_the_same_rule(departments: Session) -> None:
    first = _import(departments, "关于加强大气污染防治的工作方案\n" + BODY)
    for task_id in departments.exec(select(Task.id).where(Task.plan_id == first.plan_id)).all():
        assert task_id is not None
        apply_action(departments, task_id, "issue", Actor(role=Role.office))
    departments.flush()
    unrelated = "关于开展秸秆综合利用的工作方案\n一、重点任务\n（一）推进秸秆还田。\n"
    with pytest.raises(RevisionRemovesIssuedTasks):
        _import(departments, unrelated, revises=first.plan_id)
