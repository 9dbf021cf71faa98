"""Step definitions for the documents features (imported by tests/bdd/conftest.py)."""

from __future__ import annotations
