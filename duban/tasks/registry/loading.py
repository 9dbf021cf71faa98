"""Reading and checking the registry's YAML files (departments.yaml, regions.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from duban.tasks.enums import DepartmentKind
from duban.tasks.errors import RegistryError
from duban.tasks.registry.entries import DepartmentEntry, RegionEntry, RegionLevel

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class DepartmentData:
    """What departments.yaml holds."""

    departments: tuple[DepartmentEntry, ...]
    exclude_contexts: tuple[str, ...]


@dataclass(frozen=True)
class RegionData:
    """What regions.yaml holds; `matchable_short` lists the codes whose short name is matched alone."""

    regions: tuple[RegionEntry, ...]
    matchable_short: frozenset[str]
    exclude_contexts: tuple[str, ...]


def _invalid(path: str, what_zh: str, what_en: str) -> RegistryError:
    return RegistryError(
        f"名录文件 {path} 有误：{what_zh}",
        f"Registry file {path} is invalid: {what_en}",
        code="registry_invalid",
    )


def _read(path: Path | None, bundled: str) -> tuple[str, Any]:
    if path is None:
        source = resources.files("duban.tasks").joinpath("data", bundled)
        label, raw = bundled, source.read_text(encoding="utf-8")
    else:
        label = str(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RegistryError(
                f"无法读取名录文件 {label}：{exc}",
                f"Cannot read registry file {label}: {exc}",
                code="registry_unreadable",
            ) from exc
    try:
        return label, yaml.load(raw, Loader=_LOADER)  # noqa: S506 (a safe loader, C-accelerated when available)
    except yaml.YAMLError as exc:
        raise _invalid(label, f"不是有效的 YAML（{exc}）", f"not valid YAML ({exc})") from exc


def _text(label: str, item: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = item.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _invalid(
            label, f"条目 {item!r} 的 {key} 应为非空字符串", f"{key} of {item!r} must be a non-empty string"
        )
    return value.strip()


def _texts(label: str, item: dict[str, Any], key: str) -> tuple[str, ...]:
    value = item.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _invalid(
            label, f"条目 {item!r} 的 {key} 应为字符串列表", f"{key} of {item!r} must be a list of strings"
        )
    return tuple(dict.fromkeys(v.strip() for v in value))


def _items(label: str, value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _invalid(label, f"{what} 应为条目列表", f"{what} must be a list of mappings")
    return value


def _unique(label: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise _invalid(label, f"代码 {code} 重复", f"code {code} appears twice")
        seen.add(code)


def load_departments(path: Path | None = None) -> DepartmentData:
    """Departments from `path`, or the bundled departments.yaml."""
    label, document = _read(path, "departments.yaml")
    if not isinstance(document, dict):
        raise _invalid(label, "顶层应为映射", "the top level must be a mapping")
    entries = []
    for item in _items(label, document.get("departments"), "departments"):
        kind_text = str(_text(label, item, "kind"))
        try:
            kind = DepartmentKind(kind_text)
        except ValueError as exc:
            allowed = "、".join(k.value for k in DepartmentKind)
            raise _invalid(
                label, f"kind {kind_text} 应为 {allowed} 之一", f"kind {kind_text} is not one of {allowed}"
            ) from exc
        entries.append(
            DepartmentEntry(
                code=str(_text(label, item, "code")),
                name=str(_text(label, item, "name")),
                aliases=_texts(label, item, "aliases"),
                kind=kind,
                email=_text(label, item, "email", required=False),
                webhook=_text(label, item, "webhook", required=False),
            )
        )
    if not entries:
        raise _invalid(label, "没有任何单位", "no departments")
    _unique(label, [entry.code for entry in entries])
    excludes = _texts(label, document, "exclude_contexts")
    return DepartmentData(tuple(entries), excludes)


def load_regions(path: Path | None = None) -> RegionData:
    """Regions from `path`, or the bundled regions.yaml."""
    label, document = _read(path, "regions.yaml")
    if not isinstance(document, dict):
        raise _invalid(label, "顶层应为映射", "the top level must be a mapping")
    regions: list[RegionEntry] = []
    matchable: set[str] = set()

    def add(item: dict[str, Any], level: RegionLevel, parent: str | None, members: tuple[str, ...]) -> None:
        code = str(_text(label, item, "code"))
        name = str(_text(label, item, "name"))
        short = _text(label, item, "short", required=False) or name
        if item.get("match_short", True) is not False:
            matchable.add(code)
        aliases = _texts(label, item, "aliases")
        regions.append(RegionEntry(code, name, short, level, parent, aliases, members))

    for item in _items(label, document.get("leagues"), "leagues"):
        add(item, "league", None, ())
    leagues = {region.code for region in regions}
    counties = document.get("counties") or {}
    if not isinstance(counties, dict):
        raise _invalid(label, "counties 应为 盟市代码 → 列表", "counties must map a league code to a list")
    for parent, items in counties.items():
        if parent not in leagues:
            raise _invalid(
                label, f"counties 下的 {parent} 不是盟市代码", f"counties key {parent} is not a league code"
            )
        for item in _items(label, items, f"counties.{parent}"):
            add(item, "county", parent, ())
    for item in _items(label, document.get("groups") or [], "groups"):
        members = _texts(label, item, "members")
        unknown = [m for m in members if m not in {r.code for r in regions}]
        if not members or unknown:
            raise _invalid(
                label, f"组合 {item!r} 的成员无效：{unknown}", f"group {item!r} has bad members: {unknown}"
            )
        add(item, "group", None, members)
    _unique(label, [region.code for region in regions])
    return RegionData(tuple(regions), frozenset(matchable), _texts(label, document, "exclude_contexts"))
