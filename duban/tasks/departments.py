"""Department service: load the registry into the database (idempotent upsert on code) and read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from duban.core import clock
from duban.tasks.enums import DepartmentKind
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Department
from duban.tasks.registry import Registry, default_registry


@dataclass(frozen=True)
class LoadResult:
    """What `load_departments` changed."""

    created: int
    updated: int
    unchanged: int


def load_departments(session: Session, registry: Registry | None = None) -> LoadResult:
    """Upsert every registry body by its code; running it twice changes nothing."""
    registry = registry or default_registry()
    existing = {d.code: d for d in session.exec(select(Department)).all()}
    created = updated = unchanged = 0
    for entry in registry.departments:
        row = existing.get(entry.code)
        values: dict[str, object] = {
            "name": entry.name,
            "aliases": list(entry.aliases),
            "kind": DepartmentKind(entry.kind),
            "email": entry.email,
            "webhook": entry.webhook,
        }
        if row is None:
            session.add(Department.model_validate({"code": entry.code, **values}))
            created += 1
            continue
        if all(getattr(row, key) == value for key, value in values.items()):
            unchanged += 1
            continue
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = clock.now()
        session.add(row)
        updated += 1
    session.flush()
    return LoadResult(created=created, updated=updated, unchanged=unchanged)


def load_departments_file(session: Session, path: Path) -> LoadResult:
    """Load a departments YAML file in the bundled format."""
    return load_departments(session, Registry.from_yaml(departments_path=path))


def list_departments(session: Session, kind: DepartmentKind | None = None) -> Sequence[Department]:
    """Active departments in registry order (party and government bodies, then 盟市)."""
    query = select(Department).where(col(Department.active).is_(True))
    if kind is not None:
        query = query.where(Department.kind == kind)
    return session.exec(query.order_by(col(Department.id))).all()


def get_department_by_code(session: Session, code: str) -> Department:
    """The department with `code`, or NotFoundError."""
    row = session.exec(select(Department).where(Department.code == code)).first()
    if row is None:
        raise NotFoundError(f"没有代码为 {code} 的单位", f"No department with code {code}", code="not_found")
    return row
