"""The vocabulary of responsibility in Chinese government documents: labels, role words, document rules.

Each entry is a convention of the written language shown on documents of several issuers (国务院, 国办,
上海市, 松江区, 广州市, the 内蒙古 plans): `牵头单位：` and its kin, `【牵头单位】`, role words after a list
(牵头/负责/配合/参与/指导/组织落实 …), `X为牵头单位`, the first-listed rule and standing implementers.
"""

from __future__ import annotations

import re

FIRST_IS_LEAD_RE = re.compile(
    r"(?:列|排|位|居)?(?:在|于)?(?:第一位|首位|第一个|最前|前面)[^。；;，,\n（）()]{0,8}?(?:为|是|系)"
    r"(?:牵头|主办|主责)(?:单位|部门)?"
)
STANDING_RE = re.compile(
    r"(?:以下|下列|以下各项|下述)(?:任务|工作|措施|各项)?(?:均|都|皆)?(?:需|须|需要|由|应由|要由)?"
    r"(?P<names>[^，,。；;（）()]{2,30}?)(?:负责)?(?:落实|实施|承担)[，,]?\s*(?:不再|不)(?:一一|逐一|单独|重复)?列(?:出|明|举)"
)
SAME_BELOW_RE = re.compile(r"^(?:下同|以下同|后同|以下各项同)$")
# Labels and the role they give (the time labels are read by the time reader).
_LEAD_LABELS: tuple[str, ...] = (
    "牵头责任单位",
    "牵头考核单位",
    "牵头单位",
    "牵头部门",
    "牵头处室",
    "牵头科室",
    "主责单位",
    "主责部门",
    "主办单位",
    "主办部门",
)
_RESPONSIBLE_LABELS: tuple[str, ...] = (
    "责任单位",
    "责任部门",
    "责任处室",
    "负责单位",
    "负责部门",
    "实施单位",
    "实施部门",
    "实施主体",
    "承办单位",
    "落实单位",
    "责任主体",
)
_COOPERATING_LABELS: tuple[str, ...] = (
    "配合单位",
    "配合部门",
    "配合处室",
    "协办单位",
    "协办部门",
    "参与单位",
    "参与部门",
    "参加单位",
    "支撑单位",
    "支持单位",
    "协助单位",
    "协同单位",
    "协作单位",
    "协同部门",
)
_TIME_LABELS = ("完成时限", "时限要求", "完成时间", "时间要求", "时间节点", "完成期限", "进度安排")
LABELS: dict[str, str] = {
    **dict.fromkeys(_LEAD_LABELS, "lead"),
    **dict.fromkeys(_RESPONSIBLE_LABELS, "responsible"),
    **dict.fromkeys(_COOPERATING_LABELS, "coop"),
    **dict.fromkeys(("指导单位", "指导部门", "督导单位"), "guide"),
    **dict.fromkeys(_TIME_LABELS, "time"),  # read by the time reader
}
_LABEL_NAMES = "|".join(sorted(LABELS, key=len, reverse=True))
LABEL_RE = re.compile(
    rf"(?:【[ \t\u3000]*(?P<boxed>{_LABEL_NAMES})[ \t\u3000]*】[ \t\u3000]*[:：]?"
    rf"|(?P<label>{_LABEL_NAMES})[ \t\u3000]*[:：])"
)
# A label the grammar does not know ("牵头领导：", "联系人：", "工作目标："): skipped, not read as units.
OTHER_LABEL_RE = re.compile(r"[【\[]?[^：:】\]，,、]{2,8}[】\]]?[ \t\u3000]*[:：]|【[^】]{2,8}】")
ROLE_WORD_RE = re.compile(
    r"(?:共同|分别|按职责分工|按照职责分工|按职责|按照职责|依职责|各自|具体)?"
    r"(?P<core>为牵头单位|为牵头部门|为责任单位|为责任部门|为配合单位|为配合部门|为协办单位|为参与单位"
    r"|牵头负责落实|牵头负责|牵头抓总|牵头落实|牵头组织实施|牵头组织|牵头推进|牵头实施|牵头|主责"
    r"|负责落实|负责实施|负责|组织落实|具体落实|抓好落实|落实"
    r"|组织配合|配合落实|配合|参与|协助|协同|协办|支持|督促指导|指导|督导|监督|督促)(?:工作|实施)?$"
)
ROLE_OF_CORE = {
    **dict.fromkeys(("为牵头单位", "为牵头部门", "主责"), "lead"),
    **dict.fromkeys(("为责任单位", "为责任部门"), "responsible"),
    "负责落实": "responsible",
    "负责实施": "responsible",
    "负责": "responsible",
    "组织落实": "carry",
    "具体落实": "carry",
    "抓好落实": "carry",
    "落实": "carry",
    "督促指导": "guide",
    "指导": "guide",
    "督导": "guide",
    "监督": "guide",
    "督促": "guide",
}
TIME_PIECE_RE = re.compile(
    r"\d{1,4}[ \t\u3000]*[年月日]|[年月]底|底前|年内|长期|持续|季度|上半年|下半年|立即|即时"
)
SENTENCE_SEPARATORS = "。；;\n"
