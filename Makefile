# Everything runs from a virtual environment in .venv, made on first use from python3 (3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-fast lint format render check-render docs benchmark sweep load build deploy lint-template print-python312 clean

$(STAMP): pyproject.toml layers/image_import/pyproject.toml devtools/pyproject.toml client/pyproject.toml tests/fixtures/sample_plugin/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e layers/image_import -e devtools -e client -e ".[dev]" -e tests/fixtures/sample_plugin
	touch $(STAMP)

install: $(STAMP)

## run the whole service locally (moto plays AWS) on http://127.0.0.1:$${PORT:-9292}
run: $(STAMP)
	$(BIN)/python -m image_import_dev.local

## install and run every test (the slowest 25 listed at the end)
test: $(STAMP)
	$(BIN)/python -m pytest --durations=25

## the fast tier, after each change (under 3 minutes on 2 cores): every unit test (fakes) and the
## in-process integration tests marked `fast` (pytest -m fast)
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit tests/integration -m fast -q --durations=10

lint: $(STAMP)
	$(BIN)/ruff check layers devtools client functions tests benchmarks
	$(BIN)/ruff format --check layers devtools client functions tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format layers devtools client functions tests benchmarks
	$(BIN)/ruff check --fix layers devtools client functions tests benchmarks

## regenerate statemachine/import.asl.json and the plugin functions in template.yaml from config/
render: $(STAMP)
	$(BIN)/python -m image_import_dev.render

check-render: $(STAMP)
	$(BIN)/python -m image_import_dev.render --check
	$(BIN)/python -m image_import_dev.options --check

## regenerate the option tables of docs/configuration.md from the declarations (settings/options.py)
docs: $(STAMP)
	$(BIN)/python -m image_import_dev.options

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py

## one sweep of the running local stack (make run, in another terminal); on AWS it runs on a schedule
sweep: $(STAMP)
	$(BIN)/python -m image_import_dev.sweep

## 50 concurrent imports from 5 projects under quotas, over HTTP against a local stack subprocess (tests/e2e/test_load.py runs it small)
load: $(STAMP)
	$(BIN)/python benchmarks/load.py

# aws-sam-cli lives in its own venv (it pins its own boto3). The Lambda runtime is python3.12:
# sam build (no Docker) needs a python3.12 interpreter on PATH; we look for one.
SAM_VENV := .venv-sam
PY312_DIR := $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
	$$p -c 'import os, sys; print(os.path.dirname(sys.executable))' 2>/dev/null && break; done)

$(SAM_VENV)/bin/sam:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli

## sam build without Docker (checks the rendered files are fresh first)
build: $(SAM_VENV)/bin/sam check-render
	@test -n "$(PY312_DIR)" || { echo "error: sam build needs a python3.12 interpreter (the Lambda runtime) on PATH"; exit 1; }
	PATH="$(PY312_DIR):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build

print-python312:
	@echo $(PY312_DIR)

## lint the template (cfn-lint; also run by the tests) and `sam validate --lint`
lint-template: $(STAMP) $(SAM_VENV)/bin/sam
	$(BIN)/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(SAM_VENV)/bin/sam validate --lint

deploy: build
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam deploy

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache
