"""Departments as the office writes them (code, name, alias, any script or width) → registry codes."""

from __future__ import annotations

import difflib
import re

from sqlmodel import Session, select

from duban.tasks.errors import UnknownDepartment
from duban.tasks.models import Department
from duban.tasks.registry import Registry, default_registry
from duban.tasks.registry.fold import fold_key

# 、，, ; ；and their other widths and small forms; line breaks inside a spreadsheet cell too.
SEPARATORS = re.compile("[、，,;；､﹑﹐﹔\uff64\n\r]+")
_PREFIX = re.compile("^(?:内蒙古自治区|自治区|内蒙古|中共内蒙古自治区委员会|中共)")
_SUFFIX = re.compile("(?:委员会|办公室|人民政府|厅|局|委|办|部|院|会)$")


def _core(key: str) -> str:
    return _SUFFIX.sub("", _PREFIX.sub("", key)) or key


def split_names(cell: str) -> list[str]:
    """The department names of a cell ("自治区生态环境厅、发展改革委；水利厅"), blanks dropped."""
    return [part.strip() for part in SEPARATORS.split(cell) if part.strip()]


class DepartmentIndex:
    """The departments loaded in the database, found by code or by any name the registry knows."""

    def __init__(self, session: Session, registry: Registry | None = None) -> None:
        """Read the loaded departments once."""
        self.registry = registry or default_registry()
        rows = session.exec(select(Department.code, Department.id, Department.name)).all()
        self.ids: dict[str, int] = {code: id_ for code, id_, _ in rows if id_ is not None}
        self.codes: dict[int, str] = {id_: code for code, id_ in self.ids.items()}
        self.names: dict[str, str] = {code: name for code, _, name in rows}

    def lookup(self, given: str) -> str | None:
        """The code of a department given by code or name, or None."""
        text = given.strip()
        if text in self.ids:
            return text
        entry = self.registry.match_department(text)
        if entry is not None and entry.code in self.ids:
            return entry.code
        by_name = {name: code for code, name in self.names.items()}
        return by_name.get(text)

    def suggestions(self, given: str, limit: int = 3) -> list[str]:
        """The closest registry names for an unknown one (best first, at most `limit`).

        Names are compared on their core, without the 自治区 prefix and the 厅/局/委 suffix, so 林草厅 finds
        林业和草原局 (alias 林草局) and 环保局 finds 生态环境厅 (alias 环保厅); the registry's own suggestions
        fill up the list.
        """
        core = _core(fold_key(given))
        scored: list[tuple[float, int, str]] = []
        for order, entry in enumerate(self.registry.departments):
            if entry.code not in self.ids:
                continue
            best = max(
                difflib.SequenceMatcher(None, core, _core(fold_key(name))).ratio()
                for name in (entry.name, *entry.aliases)
            )
            if best >= 0.5:
                scored.append((-best, order, entry.name))
        names = [name for _, _, name in sorted(scored)]
        names += [entry.name for entry in self.registry.suggest(given) if entry.code in self.ids]
        return list(dict.fromkeys(names))[:limit]

    def resolve(self, given: str) -> str:
        """The code of a department; UnknownDepartment (with the closest names) when there is none."""
        code = self.lookup(given)
        if code is None:
            close = self.suggestions(given)
            hint = f"，是否为：{'、'.join(close)}" if close else ""
            raise UnknownDepartment(
                f"部门名录中没有“{given}”{hint}",
                f"No department {given!r} in the registry"
                + (f"; did you mean {', '.join(close)}?" if close else ""),
                value=given,
                suggestions=close,
            )
        return code
