"""The registry: departments and regions by code, whole-name lookups and mention scanning, all pure."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from duban.tasks.enums import DepartmentKind
from duban.tasks.errors import RegistryError
from duban.tasks.registry.entries import DepartmentEntry, Hit, RegionEntry
from duban.tasks.registry.fold import FoldedText, fold_key, fold_text
from duban.tasks.registry.loading import load_departments, load_regions
from duban.tasks.registry.matcher import LiteralMatcher

# Longest first, so that 内蒙古自治区 is stripped whole rather than as 内蒙古.
_PREFIXES = ("内蒙古自治区", "自治区", "内蒙古")
# A surface starting with one of these already says whose body it is.
_OWNED = ("自治区", "内蒙古", "中国", "中共", "国家")
# A bare 发展改革委 right after one of these belongs to a 盟市, a 旗县, another province or 各级 (all levels).
_LOCAL_MARKERS = frozenset("市盟县旗区州省级")
_EDGE_PUNCTUATION = " \t\r\n\u3000，,、；;：:。.．（）()[]【】〔〕“”\"'‘’《》<>"
_NAME_SUFFIXES = ("人民政府", "行政公署", "地区", "政府", "行署")


@dataclass(frozen=True)
class _DepartmentSurface:
    code: str
    local: bool  # ignore it after a 盟/市/旗/县/区 (see _LOCAL_MARKERS)


def _strip_prefix(key: str) -> str:
    for prefix in _PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix) :]
    return key


def _department_keys(entry: DepartmentEntry) -> set[str]:
    keys: set[str] = set()
    regional = fold_key(entry.name).startswith("自治区")
    for written in (entry.name, *entry.aliases):
        key = fold_key(written)
        keys.add(key)
        if regional:
            core = _strip_prefix(key)
            keys.update(prefix + core for prefix in _PREFIXES)
    return keys


def _add(surfaces: dict[str, object], key: str, value: object, owner: str) -> None:
    if not key:
        return
    previous = surfaces.get(key, value)
    if previous != value:
        raise RegistryError(
            f"名录中“{key}”同时指向两个条目（{owner}）",
            f"Registry name {key!r} points to two entries ({owner})",
            code="registry_conflict",
        )
    surfaces[key] = value


class Registry:
    """Departments and regions with their matchers, built once from data."""

    departments: tuple[DepartmentEntry, ...]
    regions: tuple[RegionEntry, ...]

    def __init__(
        self,
        departments: Iterable[DepartmentEntry],
        regions: Iterable[RegionEntry],
        *,
        department_exclusions: Iterable[str] = (),
        region_exclusions: Iterable[str] = (),
        matchable_short: Iterable[str] | None = None,
    ) -> None:
        """Index the entries; `matchable_short` (codes) limits which region short names match alone."""
        self.departments = tuple(departments)
        self.regions = tuple(regions)
        self._departments = {entry.code: entry for entry in self.departments}
        self._regions = {entry.code: entry for entry in self.regions}
        if len(self._departments) != len(self.departments) or len(self._regions) != len(self.regions):
            raise RegistryError(
                "名录中有重复代码", "The registry has duplicate codes", code="registry_invalid"
            )
        short_ok = set(self._regions) if matchable_short is None else set(matchable_short)
        region_exclusions = tuple(region_exclusions)

        region_surfaces: dict[str, object] = {}
        for region in self.regions:
            names = [region.name, *region.aliases]
            if region.code in short_ok:
                names.append(region.short)
            for written in names:
                _add(region_surfaces, fold_key(written), region.code, region.code)
        for context in region_exclusions:
            _add(region_surfaces, fold_key(context), None, f"exclude_contexts: {context}")
        self._region_matcher: LiteralMatcher[str | None] = LiteralMatcher(
            {key: value for key, value in region_surfaces.items() if value is None or isinstance(value, str)}
        )

        department_surfaces: dict[str, object] = {}
        for entry in self.departments:
            for key in _department_keys(entry):
                local = entry.kind is not DepartmentKind.league_city and not key.startswith(_OWNED)
                _add(department_surfaces, key, _DepartmentSurface(entry.code, local), entry.code)
        # A 旗县 name holds no department but may hold a 盟市 short name (阿拉善左旗): let it win.
        county_keys = [
            key
            for key, value in region_surfaces.items()
            if value is not None and value not in self._departments
        ]
        for key in (*map(fold_key, (*department_exclusions, *region_exclusions)), *county_keys):
            if key not in department_surfaces:
                _add(department_surfaces, key, None, f"exclude_contexts: {key}")
        self._department_matcher: LiteralMatcher[_DepartmentSurface | None] = LiteralMatcher(
            {
                key: value
                for key, value in department_surfaces.items()
                if value is None or isinstance(value, _DepartmentSurface)
            }
        )
        self._suggestions: dict[str, str] = {}
        for entry in self.departments:
            for written in (entry.name, *entry.aliases):
                key = fold_key(written)
                self._suggestions.setdefault(key, entry.code)
                self._suggestions.setdefault(_strip_prefix(key), entry.code)

    @classmethod
    def from_yaml(cls, departments_path: Path | None = None, regions_path: Path | None = None) -> Registry:
        """Build from YAML files; None means the bundled duban/tasks/data file."""
        departments = load_departments(departments_path)
        regions = load_regions(regions_path)
        return cls(
            departments.departments,
            regions.regions,
            department_exclusions=departments.exclude_contexts,
            region_exclusions=regions.exclude_contexts,
            matchable_short=regions.matchable_short,
        )

    # --- by code -------------------------------------------------------------------------------

    def department(self, code: str) -> DepartmentEntry:
        """The department with `code`; RegistryError when there is none."""
        try:
            return self._departments[code]
        except KeyError:
            raise RegistryError(
                f"名录中没有代码为 {code} 的单位",
                f"No department with code {code}",
                code="unknown_department",
            ) from None

    def region(self, code: str) -> RegionEntry:
        """The region with `code`; RegistryError when there is none."""
        try:
            return self._regions[code]
        except KeyError:
            raise RegistryError(
                f"名录中没有代码为 {code} 的地区", f"No region with code {code}", code="unknown_region"
            ) from None

    # --- whole names ---------------------------------------------------------------------------

    def match_department(self, name: str) -> DepartmentEntry | None:
        """The department a whole name stands for (official, alias, prefix, script and width variants)."""
        key = fold_key(name).strip(_EDGE_PUNCTUATION)
        candidates = [key]
        for prefix in ("中国共产党", "中共"):
            if key.startswith(prefix):
                candidates.append(key[len(prefix) :])
        candidates.extend(_strip_prefix(candidate) for candidate in list(candidates))
        for candidate in candidates:
            found = self._department_matcher.get(candidate)
            if found is not None:
                return self._departments[found.code]
        return None

    def match_region(self, name: str) -> RegionEntry | None:
        """The region a whole name stands for (full, short, alias, 地区/政府 suffixes, any script)."""
        key = fold_key(name).strip(_EDGE_PUNCTUATION)
        stripped = _strip_prefix(key)
        candidates = [key, stripped]
        for suffix in _NAME_SUFFIXES:
            for candidate in (key, stripped):
                if candidate.endswith(suffix) and len(candidate) > len(suffix):
                    candidates.append(candidate[: -len(suffix)])
        for candidate in candidates:
            found = self._region_matcher.get(candidate)
            if found is not None:
                return self._regions[found]
        return None

    def suggest(self, name: str, limit: int = 3) -> list[DepartmentEntry]:
        """The registry departments whose names are closest to `name`, best first (for error messages)."""
        key = fold_key(name)
        close = difflib.get_close_matches(key, list(self._suggestions), n=max(limit, 1) * 4, cutoff=0.5)
        codes = dict.fromkeys(self._suggestions[match] for match in close)
        return [self._departments[code] for code in list(codes)[:limit]]

    # --- mentions in running text --------------------------------------------------------------

    def find_departments(self, text: str) -> list[Hit]:
        """Every department mention, leftmost-longest and non-overlapping, as spans of the original text.

        A 盟市 name directly followed by a bare body name (包头市发展改革委) is one mention of the 盟市;
        a bare body name after any other 盟/市/旗/县/区 or after 级 (各盟市发展改革委, 各级税务局) is not one.
        """
        folded = fold_text(text)
        spans: list[tuple[int, int, str]] = []
        for match in self._department_matcher.scan(folded.text):
            surface = match.value
            if surface is None:
                continue
            if surface.local:
                previous = spans[-1] if spans else None
                if (
                    previous is not None
                    and previous[1] == match.start
                    and self._departments[previous[2]].kind is DepartmentKind.league_city
                ):
                    spans[-1] = (previous[0], match.end, previous[2])
                    continue
                if match.start > 0 and folded.text[match.start - 1] in _LOCAL_MARKERS:
                    continue
            spans.append((match.start, match.end, surface.code))
        return _hits(text, folded, spans)

    def find_regions(self, text: str) -> list[Hit]:
        """Every 盟市, 旗县 and group-abbreviation mention (short names too), minus excluded contexts."""
        folded = fold_text(text)
        spans = [
            (match.start, match.end, match.value)
            for match in self._region_matcher.scan(folded.text)
            if match.value is not None
        ]
        return _hits(text, folded, spans)

    def canonical_regions(self, codes: Iterable[str]) -> list[str]:
        """Official names for region codes, groups expanded to their members, de-duplicated, in order."""
        names: list[str] = []
        for code in codes:
            region = self.region(code)
            for member in region.members or (code,):
                name = self.region(member).name
                if name not in names:
                    names.append(name)
        return names


def _hits(text: str, folded: FoldedText, spans: Iterable[tuple[int, int, str]]) -> list[Hit]:
    hits = []
    for start, end, code in spans:
        original_start, original_end = folded.span(start, end)
        hits.append(Hit(original_start, original_end, text[original_start:original_end], code))
    return hits


@cache
def default_registry() -> Registry:
    """The bundled registry, built once per process."""
    return Registry.from_yaml()
