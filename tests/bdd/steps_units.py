"""Step definitions for the units features (imported by tests/bdd/conftest.py)."""

from __future__ import annotations
