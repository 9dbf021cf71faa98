"""Run every Gherkin feature in features/ (steps live in tests/bdd/conftest.py)."""

import pytest
from pytest_bdd import scenarios

# Declared statically so the database backends parametrize every scenario (SQLite, PostgreSQL).
pytestmark = pytest.mark.usefixtures("session")

scenarios(".")  # every .feature file under features/
