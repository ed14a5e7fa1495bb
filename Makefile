# Everything runs from a virtual environment in .venv, made on first use from python3 (3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint format render check-render benchmark clean

$(STAMP): pyproject.toml layers/image_import/pyproject.toml tests/fixtures/sample_plugin/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e layers/image_import -e ".[dev]" -e tests/fixtures/sample_plugin
	touch $(STAMP)

install: $(STAMP)

## run the whole service locally (moto plays AWS) on http://127.0.0.1:$${PORT:-9292}
run: $(STAMP)
	$(BIN)/python -m image_import.local

## install and run every test
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check layers functions tests
	$(BIN)/ruff format --check layers functions tests

format: $(STAMP)
	$(BIN)/ruff format layers functions tests
	$(BIN)/ruff check --fix layers functions tests

## regenerate statemachine/import.asl.json and the plugin functions in template.yaml from config/
render: $(STAMP)
	$(BIN)/python -m image_import.render

check-render: $(STAMP)
	$(BIN)/python -m image_import.render --check

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache
