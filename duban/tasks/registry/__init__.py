"""Department and region registry: data in duban/tasks/data, pure lookups and mention scanning."""

from duban.tasks.errors import RegistryError
from duban.tasks.registry.core import Registry, default_registry
from duban.tasks.registry.entries import DepartmentEntry, Hit, RegionEntry, RegionLevel

__all__ = [
    "DepartmentEntry",
    "Hit",
    "RegionEntry",
    "RegionLevel",
    "Registry",
    "RegistryError",
    "default_registry",
]
