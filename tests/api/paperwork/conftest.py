"""Fixtures of the paperwork API and page tests: the paperwork tests' scenario (real sweeps, real 督办单) and
the signed-in page clients."""

from __future__ import annotations

from tests.api.pages.conftest import signed_in
from tests.workflow.paperwork.conftest import supervised, world_plan

__all__ = ["signed_in", "supervised", "world_plan"]
