"""Resolving written unit names to registry departments: its own step, with the reason for each answer.

A written name is never replaced: resolution only adds which department it stands for. A name that says
another level or jurisdiction (市…, 省…, 国家…, 国务院…, 上海市…) never resolves to a 自治区 department;
a bare organ name (发展改革委, 财政厅) resolves only in a document that reads as the registry's own (most of
its written units resolve, or it names the registry's region).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from duban.tasks.registry.core import Registry
from duban.tasks.registry.entries import DepartmentEntry

# Level words that make a name another level's body ("市场" is a word, not the 市 level).
_OTHER_LEVEL = re.compile(r"^(?:市(?!场)|省|县|州|区(?!域)|乡|镇|国家|国务院|中央|全国|中共中央|各)")
_REGISTRY_OWN = ("自治区", "内蒙古", "中共内蒙古", "中国共产党内蒙古")
_FIT_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a written name was resolved to, and why (Chinese first, then English)."""

    entry: DepartmentEntry | None
    reason_zh: str
    reason_en: str


@dataclass(frozen=True, slots=True)
class RegistryFit:
    """Whether a document reads as one of the registry's own: the registry may then resolve and propose."""

    written: int
    resolved: int
    names_region: bool

    @property
    def applies(self) -> bool:
        """Most written units that say their level resolve, or (none does) the document names the region."""
        if self.written:
            return self.resolved >= self.written * _FIT_SHARE
        return self.names_region

    def reason(self) -> tuple[str, str]:
        """Why the registry does or does not apply to the document."""
        if self.written and not self.applies:
            return (
                f"文件写明的 {self.written} 个单位中只有 {self.resolved} 个在部门名录中，"
                "看来不是本级文件：不按名录提出牵头单位，请逐项确认",
                f"only {self.resolved} of the {self.written} units the document names are in the registry: "
                "it reads as another level's document, so no lead is proposed from the registry",
            )
        if not self.written and not self.applies:
            return (
                "文件没有写明责任单位，也没有提到名录所在地区：不按名录提出牵头单位",
                "the document names no unit and not the registry's region: no lead is proposed",
            )
        if not self.written:
            return (
                "文件没有写明责任单位，但提到了名录所在地区：按名录提出牵头单位",
                "the document names no unit but names the registry's region: leads are proposed from it",
            )
        return (
            f"文件写明的 {self.written} 个单位中有 {self.resolved} 个在部门名录中",
            f"{self.resolved} of the {self.written} units the document names are in the registry",
        )


def resolve_name(name: str, registry: Registry, *, document_fits: bool = True) -> Resolution:
    """The department a written name stands for, or None with the reason it does not resolve."""
    key = re.sub(r"\s", "", name)
    if _OTHER_LEVEL.match(key) and not key.startswith(_REGISTRY_OWN):
        return Resolution(
            None,
            f"“{name}”是其他层级或地区的单位，不对应名录中的部门",
            f"{name!r} is another level's or region's body; it does not stand for a registry department",
        )
    entry = registry.match_department(key)
    if entry is None:
        return Resolution(None, f"名录中没有“{name}”", f"{name!r} is not in the registry")
    if not document_fits and _names_no_level(key, registry):
        return Resolution(
            None,
            f"“{name}”没有写明层级，而本文件不是名录所在地区的文件，不自动对应",
            f"{name!r} names no level and the document is not the registry's own: not resolved",
        )
    if entry.name == name:
        return Resolution(entry, "与名录中的名称一致", "the registry's own name")
    return Resolution(
        entry,
        f"“{name}”即名录中的“{entry.name}”",
        f"{name!r} is the registry's {entry.name!r}",
    )


def registry_fit(names: Iterable[str], text: str, registry: Registry) -> RegistryFit:
    """How well the registry fits a document: its written units that resolve, whether it names the region."""
    # A bare organ name (发展改革委) says nothing of the document's level: only names with a level count.
    found = {name: resolve_name(name, registry).entry is not None for name in dict.fromkeys(names)}
    counted = [
        ok for name, ok in found.items() if not (ok and _names_no_level(re.sub(r"\s", "", name), registry))
    ]
    resolved = sum(counted)
    head = text[:20_000]
    # One place name is weak evidence (元宝山 is also a power plant in a 辽宁 letter): two are needed.
    places = {head[hit.start : hit.end] for hit in registry.find_regions(head)}
    names_region = "内蒙古" in head or len(places) >= 2
    return RegistryFit(len(counted), resolved, names_region)


def _names_no_level(key: str, registry: Registry) -> bool:
    """A bare organ name (发展改革委): no prefix of the registry's own, of another level, or of a place."""
    return not (key.startswith(_REGISTRY_OWN) or _OTHER_LEVEL.match(key) or registry.find_regions(key))
