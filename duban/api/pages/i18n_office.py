"""The English of the committee office's own pages: plans and their review as the document's outline,
past deadlines at issue, scorecards, the ranking and the paperwork (merged into `i18n.ENGLISH`)."""

from __future__ import annotations

from typing import Final

OFFICE_ENGLISH: Final[dict[str, str]] = {
    # plans and review
    "措施": "Measures",
    "导入时间": "Imported",
    "待交办": "Not issued",
    "部分交办": "Partly issued",
    "尚未导入规划": "No plan imported yet",
    "待处理异议": "Disputes",
    "缺少牵头单位或时限": "Missing lead or deadline",
    "交办全部拟办任务": "Issue every draft task",
    "需要处理": "Needs attention",
    "异议": "Dispute",
    "缺牵头单位": "No lead",
    "缺完成时限": "No deadline",
    "批量修改": "Bulk edit",
    "勾选下表中的拟办任务，填写要统一设置的内容（留空的不改）。多个单位用“、”分隔。": (
        "Tick draft tasks below and fill in what to set on all of them (blank fields stay). "
        "Separate departments with 、."
    ),
    "备注": "Remark",
    "应用到所选任务": "Apply to the selected tasks",
    "选": "Pick",
    "选择": "Select",
    "规划原文": "Outline",
    "依据": "Why",
    "修改": "Edit",
    "原文时限": "Deadline as written",
    "文件明确": "stated in the document",
    "据正文表述": "read from the text",
    "责任规则建议": "proposed by the rules",
    "办公室审定": "set by the office",
    "建议": "Proposed",
    "配合": "cooperating",
    "保存": "Save",
    "查看任务": "Open the task",
    "按文件约定": "by the document's convention",
    "牵头单位未对应部门": "Lead not mapped to a department",
    "未对应部门": "not mapped",
    "原文": "As written",
    "部门名录不适用于本文件": "The department registry does not fit this document",
    "文件写明的单位按原文保留；没有写明单位的措施不提出牵头单位，请逐项确定。": (
        "The units the document names are kept as written; no lead is proposed for measures that name "
        "none: set each one."
    ),
    "尚未对应部门的单位": "Units not yet mapped to a department",
    "以下单位按文件原文保留，尚未对应到部门名录中的部门。写明为牵头单位的，对应之前不能交办。"
    "对应后，本规划中写明该单位的所有拟办任务一并更新。": (
        "These units are kept as the document writes them and stand for no registry department yet. "
        "A task they lead cannot be issued until they are mapped; mapping one updates every draft task "
        "of this plan that names it."
    ),
    "原文写法": "As written",
    "角色": "Role",
    "涉及措施": "Measures",
    "原因": "Why",
    "对应到名录中的部门": "Map to a registry department",
    "新增为部门": "Add as a new department",
    "阻止交办": "Blocks issuing",
    "牵头": "lead",
    "指导": "guidance",
    "落实": "implementer",
    "请选择部门": "Choose a department",
    "相近的名称": "Close names",
    "全部部门": "All departments",
    "对应": "Map",
    "代码": "Code",
    "全称": "Full name",
    "类别": "Kind",
    "新增并对应": "Add and map",
    "党委部门": "Party body",
    "政府部门": "Government department",
    "其他": "Other",
    # scorecards
    "原定时限起": "Original deadline from",
    "原定时限止": "Original deadline to",
    "统计": "Compute",
    "按期办结率 = 按原定时限办结数 ÷ 应办结数；延期不抵消逾期。逾期按工作日计（含法定节假日与调休）。": (
        "On-time rate = completed by the original deadline ÷ due; extensions do not erase lateness. "
        "Lateness counts working days (statutory holidays and make-up days)."
    ),
    "部门评分明细": "Scores per department",
    "牵头任务": "Tasks led",
    "应办结": "Due",
    "按期办结": "On time",
    "按期办结率": "On-time rate",
    "当前逾期": "Overdue now",
    "平均逾期工作日": "Average working days late",
    "退回次数": "Returns",
    "延期申请/批准": "Extensions asked/granted",
    "督办单 蓝/橙/红": "Notices blue/orange/red",
    "最高督办级别": "Highest level",
    "规划进度": "Plan progress",
    "办结率": "Completed",
    "暂无数据": "No data",
    "督办单（按颜色）": "Supervision notices by colour",
    "蓝色督办单": "Blue notice",
    "橙色督办单": "Orange notice",
    "红色督办单": "Red notice",
    # the ranking and the paperwork (issue 16 items 3-4)
    "排名": "Rank",
    "得分": "Score",
    "督办通报": "Supervision bulletin",
    "按所选期间生成，未选期间时为本月；排名与本页相同。": (
        "Made for the chosen period (this month when none is chosen); ranked as on this page."
    ),
    "自治区各部门（单位）": "Autonomous-region departments",
    "各盟市": "Leagues and cities",
    "评分规则": "Scoring rules",
    "得分 = 基础分 − 各项扣分（不低于 0）；同分时按期办结率高者、逾期工作日少者在前。": (
        "Score = base − deductions (never below 0); ties go to the higher on-time rate, then fewer working "
        "days late."
    ),
    "规则为数据文件，修改后本页与督办通报同时生效。": (
        "The rules are a data file: a change applies to this page and the bulletin at once."
    ),
    "评分项": "Item",
    "分值": "Points",
    "基础分": "Base score",
    "未按期办结比例 × 分值（全部逾期扣满）": "Share not done on time × points (all late: full deduction)",
    "每个逾期工作日": "Per working day late",
    "逾期工作日计入上限": "Working days late counted at most",
    "每次退回": "Per return",
    "每份蓝色督办单": "Per blue notice",
    "每份橙色督办单": "Per orange notice",
    "每份红色督办单": "Per red notice",
    "下载督办单": "Download the notice",
    "下载分工方案": "Download the division of responsibilities",
    "督办单（本页已发督办单的任务）": "Notices of the tasks on this page that have one",
    "按期办理中": "Open, on time",
    # the plan review as the document's outline (issue 15 item 2)
    "不修改": "Leave as is",
    "不形成任务": "No tasks",
    "其他牵头单位": "Other lead units",
    "其他配合单位": "Other cooperating units",
    "勾选下方的拟办任务，选择要统一设置的内容（不选的不改）。": (
        "Tick draft tasks below and choose what to set for all of them (what you leave empty stays)."
    ),
    "单位未对应": "Unit not mapped",
    "原文写明的单位": "Units as written",
    "取消": "Cancel",
    "多个单位用“、”分隔": "Separate several units with 、",
    "展开全部": "Expand all",
    "收起全部": "Collapse all",
    "按盟市拆分": "Split by league/city",
    "没有需要处理的任务": "Nothing needs attention",
    "默认时限": "Default deadline",
    # past deadlines at issue (issue 14 item 7): the plan review's warning, and the board's 待催办
    "完成时限早于交办日期": "Deadlines before the issue date",
    "这些拟办任务的时限已过：可设置新的时限，旧规划的时限属实的也可按原时限交办，督办从交办之日起计。": (
        "These draft tasks' deadlines have passed. Set a new deadline for the ticked ones, or, where an old "
        "plan's deadlines are real, issue them as they are: supervision then counts from the issue date."
    ),
    "新的完成时限": "New deadline",
    "为所选任务设置新的完成时限": "Set the new deadline for the selected",
    "确认按原时限交办": "Confirm and issue as they are",
    "待催办": "Urge due",
}
