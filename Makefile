# `make run` and `make test` work on a fresh machine: each first builds .venv from pyproject.toml.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export DO_NOT_TRACK := 1
export KEDRO_DISABLE_TELEMETRY := true

.PHONY: setup run test test-unit lint viz serve

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<25"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: setup
	$(BIN)/kedro run --pipeline=train

test: setup
	$(BIN)/python -m pytest

# The unit tier: everything but the tests that run Kedro, Airflow or a benchmark script as a subprocess.
test-unit: setup
	$(BIN)/python -m pytest -m "not project"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

serve: setup
	$(BIN)/pinsage serve

viz: setup
	$(BIN)/python -m pip install --quiet -e ".[viz]"
	$(BIN)/kedro viz run
