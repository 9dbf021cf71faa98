"""The escalation policy as versioned data (data/escalation_policy.yaml), frozen onto each task at issue.

Every threshold is in working days. A step is placed by its *offset* from a due date: negative before
it (reminders), positive after it (the ladder). The deadline ladder, 签收提醒, cooperating units'
contributions and recurring reports are all lists of such steps; the sweep turns each into SQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final, Literal

import sqlalchemy as sa
import yaml

from duban.tasks.enums import TaskState
from duban.tasks.models import Task
from duban.workflow.errors import WorkflowError
from duban.workflow.machines import Rung

task_t: Final = Task.__table__  # type: ignore[attr-defined]

Audience = Literal["lead", "cooperating", "office"]
RULE_DEADLINE: Final = "deadline"
RULE_ACCEPT: Final = "accept"
RULE_CONTRIBUTION: Final = "contribution"
RULE_REPORT: Final = "report"
FREQUENCIES: Final = ("weekly", "monthly", "quarterly", "half_yearly", "yearly")
# Tasks the scheduler chases; a submitted task waits for the office, so its ladder pauses.
CHASED_STATES: Final = (TaskState.assigned.value, TaskState.in_progress.value, TaskState.returned.value)
ISSUED_STATES: Final = (*CHASED_STATES, TaskState.submitted.value)


class PolicyError(WorkflowError):
    """An escalation policy file that cannot be used."""

    code = "policy_invalid"


@dataclass(frozen=True, slots=True)
class StepKind:
    """What a ladder step does: the rung it climbs to, how urgent it is, whom it addresses."""

    rung: Rung | None
    urgency: int
    immediate: bool
    audience: Audience
    label: str


LADDER_KINDS: Final[Mapping[str, StepKind]] = {
    "urge": StepKind(Rung.urged, 2, False, "lead", "催办"),
    "supervise_blue": StepKind(Rung.supervised_blue, 3, True, "lead", "督办单（蓝）"),
    "supervise_orange": StepKind(Rung.supervised_orange, 4, True, "lead", "督办单（橙）"),
    "supervise_red": StepKind(Rung.supervised_red, 5, True, "lead", "督办单（红）"),
    # The scheduler only proposes these two; the office confirms through the ladder endpoint.
    "propose_interview": StepKind(None, 6, True, "office", "约谈建议"),
    "propose_accountability": StepKind(None, 7, True, "office", "问责建议"),
}
REMIND_KIND: Final = StepKind(Rung.reminded, 1, False, "lead", "临近提醒")
ACCEPT_KIND: Final = StepKind(Rung.reminded, 1, False, "lead", "签收提醒")
CONTRIBUTION_REMIND_KIND: Final = StepKind(None, 1, False, "cooperating", "配合报送提醒")
CONTRIBUTION_URGE_KIND: Final = StepKind(None, 2, False, "cooperating", "配合报送催办")


@dataclass(frozen=True, slots=True)
class Step:
    """One notice of a rule, `offset` working days from its due date (negative: before it)."""

    rule: str
    name: str
    offset: int
    kind: StepKind

    @property
    def rung(self) -> Rung | None:
        """Where the task's ladder climbs when this step fires (None: a notice only)."""
        return self.kind.rung

    @property
    def urgency(self) -> int:
        """Higher is more urgent; digests list items by it."""
        return self.kind.urgency

    @property
    def immediate(self) -> bool:
        """Mailed on its own at once (督办单, 约谈/问责), else listed in the daily digest."""
        return self.kind.immediate

    @property
    def audience(self) -> Audience:
        """Who receives it: the lead, the cooperating unit, or the committee office."""
        return self.kind.audience


@dataclass(frozen=True, slots=True)
class CompletionRules:
    """What 办结报送 needs under a policy (none of it under a policy without a `completion` section)."""

    evidence_files: int = 0
    final_percent: int | None = None
    contributions: Literal["optional", "or_reason"] = "optional"
    new_report_after_return: bool = False

    def to_mapping(self) -> dict[str, Any]:
        """As the YAML file writes it."""
        return {
            "evidence_files": self.evidence_files,
            "final_percent": self.final_percent,
            "contributions": self.contributions,
            "new_report_after_return": self.new_report_after_return,
        }


def parse_completion(data: object) -> CompletionRules:
    """The `completion` section: evidence files, the final report's percent, contributions, after 退回."""
    section = _mapping(
        data,
        "completion",
        ("evidence_files", "final_percent", "contributions", "new_report_after_return"),
        (),
    )
    files = section.get("evidence_files", 0)
    if isinstance(files, bool) or not isinstance(files, int) or not 0 <= files <= 100:
        raise _fail("completion.evidence_files", "须为 0–100 的整数", "must be 0-100", files)
    percent = section.get("final_percent")
    if percent is not None and (
        isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 100
    ):
        raise _fail("completion.final_percent", "须为 1–100 的整数或留空", "must be 1-100 or null", percent)
    contributions = section.get("contributions", "optional")
    if contributions not in ("optional", "or_reason"):
        raise _fail(
            "completion.contributions",
            "须为 optional 或 or_reason",
            "must be optional or or_reason",
            contributions,
        )
    after_return = section.get("new_report_after_return", False)
    if not isinstance(after_return, bool):
        raise _fail(
            "completion.new_report_after_return", "须为 true 或 false", "must be true or false", after_return
        )
    return CompletionRules(files, percent, contributions, after_return)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """One version of the escalation rules."""

    version: int
    name: str
    office: str
    catch_up_working_days: int
    remind_before: tuple[int, ...]
    ladder: tuple[tuple[int, str], ...]
    accept_within: int
    contribution_due_before: int
    contribution_remind_before: tuple[int, ...]
    contribution_urge_after: tuple[int, ...]
    reports: Mapping[str, int]
    completion: CompletionRules | None = None

    def deadline_steps(self, rule: str = RULE_DEADLINE) -> tuple[Step, ...]:
        """Reminders before the due date, then the ladder after it; ascending offsets."""
        before = [
            Step(rule, f"remind_{n}", -n, REMIND_KIND) for n in sorted(self.remind_before, reverse=True)
        ]
        after = [Step(rule, name, day, LADDER_KINDS[name]) for day, name in self.ladder]
        return (*before, *after)

    def report_steps(self) -> tuple[Step, ...]:
        """A recurring report follows the deadline's reminders and ladder, counted from its due date."""
        return self.deadline_steps(RULE_REPORT)

    def accept_steps(self) -> tuple[Step, ...]:
        """签收提醒 on the first working day after `accept_within` working days from the issue date."""
        return (Step(RULE_ACCEPT, "accept", self.accept_within + 1, ACCEPT_KIND),)

    def contribution_steps(self) -> tuple[Step, ...]:
        """Contribution reminders and 催办, as offsets from the lead's deadline."""
        due = self.contribution_due_before
        steps = [
            Step(RULE_CONTRIBUTION, f"contribution_remind_{n}", -(due + n), CONTRIBUTION_REMIND_KIND)
            for n in sorted(self.contribution_remind_before, reverse=True)
        ]
        steps += [
            Step(RULE_CONTRIBUTION, f"contribution_urge_{n}", n - due, CONTRIBUTION_URGE_KIND)
            for n in sorted(self.contribution_urge_after)
        ]
        return tuple(steps)

    def to_mapping(self) -> dict[str, Any]:
        """The policy as the YAML file writes it (what `parse_policy` reads back)."""
        return {
            "version": self.version,
            "name": self.name,
            "office": self.office,
            "catch_up_working_days": self.catch_up_working_days,
            "deadline": {
                "remind_before": list(self.remind_before),
                "ladder": [{"after": day, "step": name} for day, name in self.ladder],
            },
            "accept": {"within": self.accept_within},
            "contribution": {
                "due_before_deadline": self.contribution_due_before,
                "remind_before": list(self.contribution_remind_before),
                "urge_after": list(self.contribution_urge_after),
            },
            "reports": {freq: {"due_after_period": days} for freq, days in self.reports.items()},
            # absent from versions written before it existed, so their fingerprints stay as frozen
            **({"completion": self.completion.to_mapping()} if self.completion is not None else {}),
        }

    @property
    def sha256(self) -> str:
        """Fingerprint of the rules, so two different files with one version number are caught."""
        text = json.dumps(self.to_mapping(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def snapshot(self) -> dict[str, Any]:
        """The rules with their version and fingerprint, as a version's record keeps them."""
        return {**self.to_mapping(), "sha256": self.sha256}


def _fail(where: str, zh: str, en: str, entry: object) -> PolicyError:
    prefix = f"{where}: " if where else ""
    return PolicyError(f"{prefix}{zh}", f"{prefix}{en}", location=where, entry=repr(entry)[:200])


def _mapping(data: object, where: str, allowed: Iterable[str], required: Iterable[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _fail(where, "须为映射（键: 值）", "must be a mapping", data)
    unknown = sorted(str(key) for key in data if key not in set(allowed))
    if unknown:
        raise _fail(where, f"未知字段 {', '.join(unknown)}", f"unknown field(s) {', '.join(unknown)}", data)
    for key in required:
        if key not in data:
            raise _fail(where, f"缺少字段“{key}”", f"field '{key}' is missing", data)
    return data


def _days(value: object, where: str, *, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 250:
        raise _fail(where, f"须为 {low}–250 之间的工作日数", f"must be {low}-250 working days", value)
    return value


def _day_list(value: object, where: str) -> tuple[int, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise _fail(where, "须为工作日数的列表", "must be a list of working-day counts", value)
    days = tuple(_days(item, f"{where}[{i}]") for i, item in enumerate(value))
    if len(set(days)) != len(days):
        raise _fail(where, "工作日数重复", "repeated day count", value)
    return days


def _ladder(value: object) -> tuple[tuple[int, str], ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise _fail("deadline.ladder", "须为非空列表", "must be a non-empty list", value)
    ladder: list[tuple[int, str]] = []
    names = list(LADDER_KINDS)
    for i, item in enumerate(value):
        where = f"deadline.ladder[{i}]"
        entry = _mapping(item, where, ("after", "step"), ("after", "step"))
        name = entry["step"]
        if name not in LADDER_KINDS:
            raise _fail(where, f"未知步骤“{name}”，可用：{', '.join(names)}", f"unknown step {name!r}", item)
        day = _days(entry["after"], f"{where}.after")
        if ladder and (day <= ladder[-1][0] or names.index(name) <= names.index(ladder[-1][1])):
            raise _fail(
                where,
                "升级步骤须按天数递增、按层级由低到高排列",
                "ladder steps must climb: later days and higher steps",
                item,
            )
        ladder.append((day, name))
    return tuple(ladder)


def parse_policy(data: object) -> EscalationPolicy:
    """Validate a policy mapping (the YAML file's content, or a task's frozen snapshot)."""
    top = _mapping(
        data,
        "",
        (
            "version",
            "name",
            "office",
            "catch_up_working_days",
            "deadline",
            "accept",
            "contribution",
            "reports",
            "completion",
            "sha256",
        ),
        ("version", "office", "deadline"),
    )
    version = top["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _fail("version", "版本号须为正整数", "version must be a positive whole number", version)
    office = top["office"]
    if not isinstance(office, str) or not office.strip():
        raise _fail("office", "须为委员会办公室的单位代码", "must be the office's department code", office)
    deadline = _mapping(top["deadline"], "deadline", ("remind_before", "ladder"), ("ladder",))
    accept = _mapping(top.get("accept", {}), "accept", ("within",), ())
    contribution = _mapping(
        top.get("contribution", {}),
        "contribution",
        ("due_before_deadline", "remind_before", "urge_after"),
        (),
    )
    reports_in = _mapping(top.get("reports", {}), "reports", FREQUENCIES, ())
    reports = {
        freq: _days(
            _mapping(spec, f"reports.{freq}", ("due_after_period",), ("due_after_period",))[
                "due_after_period"
            ],
            f"reports.{freq}.due_after_period",
        )
        for freq, spec in reports_in.items()
    }
    policy = EscalationPolicy(
        version=version,
        name=str(top.get("name") or f"督办升级规则（第 {version} 版）"),
        office=office.strip(),
        catch_up_working_days=_days(top.get("catch_up_working_days", 10), "catch_up_working_days"),
        remind_before=_day_list(deadline.get("remind_before", []), "deadline.remind_before"),
        ladder=_ladder(deadline["ladder"]),
        accept_within=_days(accept.get("within", 3), "accept.within"),
        contribution_due_before=_days(contribution.get("due_before_deadline", 5), "contribution.due_before"),
        contribution_remind_before=_day_list(
            contribution.get("remind_before", []), "contribution.remind_before"
        ),
        contribution_urge_after=_day_list(contribution.get("urge_after", []), "contribution.urge_after"),
        reports=reports,
        completion=parse_completion(top["completion"]) if "completion" in top else None,
    )
    if any(n >= policy.contribution_due_before for n in policy.contribution_urge_after):
        raise _fail(
            "contribution.urge_after",
            "配合催办须早于牵头单位的完成时限",
            "contribution urges must fall before the lead's deadline",
            policy.contribution_urge_after,
        )
    fingerprint = top.get("sha256")
    if fingerprint is not None and fingerprint != policy.sha256:
        raise _fail("sha256", "快照指纹与内容不符", "the snapshot's fingerprint does not match", fingerprint)
    return policy


def parse_policy_text(text: str) -> EscalationPolicy:
    """Parse a policy YAML document."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail("", "YAML 格式错误", "invalid YAML", str(exc)) from exc
    return parse_policy(data)


@lru_cache(maxsize=1)
def bundled_policy() -> EscalationPolicy:
    """The policy in force: data/escalation_policy.yaml, validated once per process."""
    text = resources.files("duban.workflow").joinpath("data", "escalation_policy.yaml").read_text("utf-8")
    return parse_policy_text(text)


def frozen_version() -> sa.ColumnElement[int]:
    """SQL for the version frozen onto a task (NULL while none is)."""
    version: sa.ColumnElement[int] = task_t.c.policy_version
    return version


def policy_on_issue(version: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    """SQL for the version a task keeps as it is issued: `version` unless one is frozen (a re-issue)."""
    return sa.func.coalesce(task_t.c.policy_version, version)
