# duban — `make run` sets up and starts the embedded runtime; `make test` is what CI runs.
PYTHON_BIN ?= $(shell command -v python3.11 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FAULTS_TIMEOUT ?= 780

.PHONY: run test lint typecheck pytest install migrate seed bench faults clean migration eval

$(STAMP): pyproject.toml
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(VENV)/bin/duban db upgrade

seed: migrate
	$(VENV)/bin/duban departments load
	$(VENV)/bin/duban plans import examples/plans/*.txt
	$(VENV)/bin/duban users bootstrap

run: seed
	$(VENV)/bin/duban run

lint: install
	$(VENV)/bin/ruff check duban tests bench faults evaluation
	$(VENV)/bin/ruff format --check duban tests bench faults evaluation

typecheck: install
	$(VENV)/bin/mypy duban tests bench faults evaluation

pytest: install
	$(VENV)/bin/pytest -q

test: lint typecheck pytest

bench: install
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m bench.run

# Parser quality on every document with hand-written truth: writes docs/parser-quality.md, checks the floor.
eval: install
	$(PY) -m evaluation.run

# Faults on private PostgreSQL/Redis/SMTP servers (never the shared ones); writes docs/faults.md.
faults: install
	timeout --kill-after=30 $(FAULTS_TIMEOUT) $(PY) -m faults.run

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

# New migration from the models: make migration m="what changed"
migration: install
	$(PY) -c "import sys; from alembic import command; from duban.migrations import alembic_config, upgrade; \
	url='sqlite:///var/migration-scratch.sqlite3'; upgrade(url); \
	command.revision(alembic_config(url), message=sys.argv[1], autogenerate=True)" "$(m)"
	rm -f var/migration-scratch.sqlite3*
	$(VENV)/bin/ruff check --fix -q duban/migrations
	$(VENV)/bin/ruff format -q duban/migrations
