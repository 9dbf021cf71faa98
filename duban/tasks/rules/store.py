"""The office's layer of rules in the database: read the rules in force, save a new version."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

from sqlmodel import Session, col, select

from duban.tasks.errors import StaleTaskVersion
from duban.tasks.models import ResponsibilityRuleVersion
from duban.tasks.registry import Registry, default_registry
from duban.tasks.rules.loading import bundled_rules, merge_rules, parse_rules
from duban.tasks.rules.model import RuleSet

_CACHE: OrderedDict[str, RuleSet] = OrderedDict()
_CACHE_SIZE = 8


def latest_version(session: Session) -> ResponsibilityRuleVersion | None:
    """The office's newest saved layer, or None while only the bundled rules are in force."""
    return session.exec(
        select(ResponsibilityRuleVersion).order_by(col(ResponsibilityRuleVersion.version).desc()).limit(1)
    ).first()


def _compiled(row: ResponsibilityRuleVersion, registry: Registry) -> RuleSet:
    # Keyed by content, not row id: rolled-back test transactions may reuse ids.
    digest = hashlib.sha256(json.dumps(row.rules, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    key = f"{row.version}:{digest}"
    found = _CACHE.get(key)
    if found is not None:
        _CACHE.move_to_end(key)
        return found
    rules, disabled = parse_rules(row.rules, registry, "office", f"第 {row.version} 版", allow_disabled=True)
    merged = merge_rules(bundled_rules(), rules, disabled, row.version)
    _CACHE[key] = merged
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return merged


def rules_in_force(session: Session, registry: Registry | None = None) -> RuleSet:
    """The bundled rules with the office's newest layer applied (version 0: bundled only)."""
    row = latest_version(session)
    if row is None:
        return bundled_rules()
    return _compiled(row, registry or default_registry())


def save_rules(
    session: Session,
    rules: list[Any],
    *,
    expected_version: int | None,
    user_id: int | None,
    note: str = "",
    registry: Registry | None = None,
) -> ResponsibilityRuleVersion:
    """Store the office's layer as a new version (checked first; a stale `expected_version` is refused)."""
    registry = registry or default_registry()
    parse_rules(rules, registry, "office", "提交的规则", allow_disabled=True)
    current = latest_version(session)
    current_version = current.version if current else 0
    if expected_version is not None and expected_version != current_version:
        raise StaleTaskVersion(
            f"责任规则已被修改（当前第 {current_version} 版），请刷新后重试",
            f"The rules changed (version {current_version}); reload and retry",
            current_version=current_version,
        )
    row = ResponsibilityRuleVersion(
        version=current_version + 1, rules=list(rules), note=note, created_by_user_id=user_id
    )
    session.add(row)
    session.flush()
    return row
