"""Reading holiday schedules from YAML: strict parsing (no duplicate keys), files, the bundled table."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from duban.workflow.calendar_schedules import (
    YearSchedule,
    check_fields,
    in_file,
    parse_schedule,
    require_list,
    schedule_error,
)
from duban.workflow.errors import CalendarError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_strict_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, Hashable):
            if key in seen:
                line = key_node.start_mark.line + 1
                raise schedule_error(
                    "schedule_duplicate_key",
                    f"第 {line} 行：键“{key}”重复",
                    f"line {line}: key '{key}' appears twice",
                    f"line {line}",
                    key,
                )
            seen.add(key)
    return loader.construct_mapping(node, deep=True)


def _construct_lenient_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    # An impossible date such as 2027-02-30 stays text so the validator can say where it is.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_strict_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_lenient_timestamp)


def parse_schedules_text(text: str, *, file_name: str = "") -> tuple[YearSchedule, ...]:
    """Parse YAML holding one year's notice or `schedules: [...]`; years must not repeat."""
    try:
        return _parse_document(_load_yaml(text))
    except CalendarError as exc:
        if not file_name:
            raise
        raise in_file(exc, file_name) from exc


def _load_yaml(text: str) -> object:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise schedule_error(
            "schedule_yaml_invalid",
            f"YAML 格式错误（第 {line} 行）：{exc.problem}",
            f"invalid YAML (line {line}): {exc.problem}",
            f"line {line}",
            text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else "",
        ) from exc
    except yaml.YAMLError as exc:
        raise schedule_error("schedule_yaml_invalid", "YAML 格式错误", "invalid YAML", "", str(exc)) from exc


def _parse_document(data: object) -> tuple[YearSchedule, ...]:
    items: list[tuple[str, Any]]
    if data is None:
        raise schedule_error("schedule_empty", "文件为空", "the file is empty", "", None)
    if isinstance(data, Mapping) and "schedules" in data and "year" not in data:
        check_fields(data, frozenset({"schedules"}), (), "")
        entries = require_list(data["schedules"], "schedules", "schedules")
        items = [(f"schedules[{i}]", entry) for i, entry in enumerate(entries)]
    elif isinstance(data, Mapping):
        items = [("", data)]
    else:
        raise schedule_error(
            "schedule_not_mapping",
            "文件须为一年的节假日安排（year、source、holidays、workdays）或 schedules 列表",
            "the file must hold one year's schedule (year, source, holidays, workdays) or a 'schedules' list",
            "",
            data,
        )
    if not items:
        raise schedule_error(
            "schedule_empty", "文件中没有任何年度安排", "the file holds no schedule", "schedules", []
        )
    schedules: list[YearSchedule] = []
    for location, entry in items:
        schedule = parse_schedule(entry, where=location)
        if any(s.year == schedule.year for s in schedules):
            raise schedule_error(
                "schedule_duplicate_year",
                f"{schedule.year} 年的安排出现了两次",
                f"the schedule for {schedule.year} appears twice",
                location,
                schedule.year,
            )
        schedules.append(schedule)
    return tuple(schedules)


def load_schedules_file(path: str | Path) -> tuple[YearSchedule, ...]:
    """Read and validate every schedule in a YAML file (one year or `schedules: [...]`)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise schedule_error(
            "schedule_file_unreadable",
            f"无法读取文件：{exc}",
            f"cannot read the file: {exc}",
            "",
            str(file),
        ) from exc
    return parse_schedules_text(text, file_name=file.name)


def load_schedule_file(path: str | Path) -> YearSchedule:
    """Read and validate a YAML file holding exactly one year's notice."""
    schedules = load_schedules_file(path)
    if len(schedules) != 1:
        raise schedule_error(
            "schedule_not_single_year",
            f"文件含 {len(schedules)} 个年度安排，此处只接受一个",
            f"the file holds {len(schedules)} schedules; exactly one is expected here",
            Path(path).name,
            [s.year for s in schedules],
        )
    return schedules[0]


@lru_cache(maxsize=1)
def bundled_schedules() -> tuple[YearSchedule, ...]:
    """The schedules shipped with duban (data/schedules.yaml), validated once per process."""
    text = resources.files("duban.workflow").joinpath("data", "schedules.yaml").read_text(encoding="utf-8")
    return parse_schedules_text(text, file_name="schedules.yaml")
