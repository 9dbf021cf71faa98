"""Step definitions for the reading features (imported by tests/bdd/conftest.py)."""

from __future__ import annotations
