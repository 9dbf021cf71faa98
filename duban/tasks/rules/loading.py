"""Reading and checking responsibility rules: the bundled YAML, and the office's overrides on top of it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from duban.tasks.errors import RuleSetInvalid
from duban.tasks.registry import Registry, default_registry
from duban.tasks.rules.model import Rule, RuleOrigin, RuleSet

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$")
# The region's party committee and its government themselves: a document may write them as responsible
# (自治区党委、政府负责…) and then they are kept, but a rule never proposes them: a 交办 goes to a body that
# does the work, not to the 党委's or the government's mailbox.
_GOVERNING_BODY = re.compile(r"^(?:内蒙古)?(?:自治区)?(?:党委|人民政府|政府)$")
MAX_PHRASES = 200


class _Problems:
    """Every problem of a rule list, collected before anything is raised."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, index: int | None, rule_id: str | None, field: str, zh: str, en: str) -> None:
        self.items.append(
            {"index": index, "rule_id": rule_id, "field": field, "message_zh": zh, "message_en": en}
        )

    def raise_if_any(self, label: str) -> None:
        if self.items:
            raise RuleSetInvalid(
                f"责任规则（{label}）有 {len(self.items)} 处错误",
                f"The responsibility rules ({label}) have {len(self.items)} problems",
                errors=self.items,
            )


def is_governing_body(name: str) -> bool:
    """Whether `name` is the region's party committee or government itself (never a rule's proposal)."""
    return bool(_GOVERNING_BODY.match(name))


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        return None
    return [str(v).strip() for v in value if str(v).strip()]


def _rule(
    item: Any, index: int, registry: Registry, origin: RuleOrigin, problems: _Problems, *, fallback: bool
) -> Rule | None:
    if not isinstance(item, Mapping):
        problems.add(index, None, "", "规则应为映射", "a rule must be a mapping")
        return None
    rule_id = item.get("id")
    if not isinstance(rule_id, str) or not _ID_RE.match(rule_id):
        problems.add(
            index, None, "id", "id 应为形如 env.air 的小写标识", "id must be a dotted slug like env.air"
        )
        return None
    before = len(problems.items)
    lists: dict[str, list[str]] = {}
    for key in ("phrases", "generic", "lead", "cooperating"):
        values = _strings(item.get(key))
        if values is None:
            problems.add(index, rule_id, key, f"{key} 应为字符串列表", f"{key} must be a list of strings")
            values = []
        lists[key] = list(dict.fromkeys(values))
    if not fallback and not (lists["phrases"] or lists["generic"]):
        problems.add(index, rule_id, "phrases", "规则至少要有一个主题词", "a rule needs at least one phrase")
    if len(lists["phrases"]) + len(lists["generic"]) > MAX_PHRASES:
        problems.add(
            index, rule_id, "phrases", f"主题词不能超过 {MAX_PHRASES} 个", f"at most {MAX_PHRASES} phrases"
        )
    if not lists["lead"]:
        problems.add(index, rule_id, "lead", "规则必须指定牵头单位", "a rule needs a lead department")
    known = {entry.code: entry for entry in registry.departments}
    for key in ("lead", "cooperating"):
        for code in lists[key]:
            if code in known and is_governing_body(known[code].name):
                problems.add(
                    index,
                    rule_id,
                    key,
                    f"规则不能提出{known[code].name}本身为{'牵头' if key == 'lead' else '配合'}单位，"
                    "请写承办的部门",
                    f"a rule may not propose {code} (the party committee or the government itself); "
                    "name the department that does the work",
                )
            if code not in known:
                close = "、".join(f"{e.name}（{e.code}）" for e in registry.suggest(code))
                problems.add(
                    index,
                    rule_id,
                    key,
                    f"名录中没有代码 {code}" + (f"，是否为：{close}" if close else ""),
                    f"no department with code {code}",
                )
    weight = item.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < float(weight) <= 10:
        problems.add(index, rule_id, "weight", "weight 应为 0 到 10 之间的数", "weight must be in (0, 10]")
        weight = 1.0
    remit = item.get("remit")
    if not isinstance(remit, str) or not remit.strip():
        problems.add(
            index, rule_id, "remit", "须写明依据的职责（remit）", "remit (the body's remit) is required"
        )
        remit = ""
    if len(problems.items) > before:
        return None
    topic = item.get("topic")
    return Rule(
        id=rule_id,
        topic=str(topic).strip() if topic else rule_id,
        phrases=tuple(lists["phrases"]),
        generic=tuple(lists["generic"]),
        lead=tuple(lists["lead"]),
        cooperating=tuple(code for code in lists["cooperating"] if code not in lists["lead"]),
        weight=float(weight),
        remit=" ".join(str(remit).split()),
        origin=origin,
    )


def parse_rules(
    items: Any, registry: Registry, origin: RuleOrigin, label: str, *, allow_disabled: bool = False
) -> tuple[list[Rule], list[str]]:
    """Rules from a list of mappings, checked against the registry; returns (rules, disabled ids)."""
    problems = _Problems()
    if not isinstance(items, list):
        problems.add(None, None, "rules", "rules 应为规则列表", "rules must be a list")
        problems.raise_if_any(label)
    rules: list[Rule] = []
    disabled: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        rule_id = item.get("id") if isinstance(item, Mapping) else None
        if isinstance(rule_id, str) and rule_id in seen:
            problems.add(index, rule_id, "id", f"规则 {rule_id} 重复", f"rule {rule_id} appears twice")
            continue
        if isinstance(rule_id, str):
            seen.add(rule_id)
        if allow_disabled and isinstance(item, Mapping) and item.get("disabled") is True:
            if not isinstance(rule_id, str) or not _ID_RE.match(rule_id):
                problems.add(index, None, "id", "停用的规则须写明 id", "a disabled rule needs its id")
            else:
                disabled.append(rule_id)
            continue
        rule = _rule(item, index, registry, origin, problems, fallback=False)
        if rule is not None:
            rules.append(rule)
    problems.raise_if_any(label)
    return rules, disabled


def _read_yaml(path: Path | None) -> tuple[str, Any]:
    if path is None:
        raw = resources.files("duban.tasks").joinpath("data", "responsibility_rules.yaml").read_text("utf-8")
        label = "responsibility_rules.yaml"
    else:
        label, raw = str(path), path.read_text(encoding="utf-8")
    try:
        return label, yaml.load(raw, Loader=_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        raise RuleSetInvalid(f"{label} 不是有效的 YAML：{exc}", f"{label} is not valid YAML: {exc}") from exc


def load_rule_file(path: Path | None = None, registry: Registry | None = None) -> RuleSet:
    """The rules of a YAML file (None: the bundled file), checked against the registry."""
    registry = registry or default_registry()
    label, document = _read_yaml(path)
    if not isinstance(document, Mapping):
        raise RuleSetInvalid(f"{label} 顶层应为映射", f"{label}: the top level must be a mapping")
    rules, _ = parse_rules(document.get("rules"), registry, "bundled", label)
    problems = _Problems()
    fallback = _rule(document.get("fallback"), -1, registry, "bundled", problems, fallback=True)
    problems.raise_if_any(label)
    assert fallback is not None
    return RuleSet(tuple(rules), fallback)


@cache
def bundled_rules() -> RuleSet:
    """The reviewed rules shipped in duban/tasks/data/responsibility_rules.yaml (built once)."""
    return load_rule_file()


def merge_rules(base: RuleSet, overrides: Sequence[Rule], disabled: Iterable[str], version: int) -> RuleSet:
    """The office's layer on top of the bundled rules: same id replaces, new id extends, disabled removes."""
    by_id = {rule.id: rule for rule in overrides}
    fallback = by_id.pop(base.fallback.id, base.fallback)
    off = set(disabled)
    merged = [by_id.pop(rule.id, rule) for rule in base.rules if rule.id not in off]
    merged.extend(rule for rule in overrides if rule.id in by_id)
    return RuleSet(tuple(merged), fallback, version)
