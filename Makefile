# PocketQuant — every target creates the virtual environment when it is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8765
BINANCE_PORT ?= 8766
YAHOO_PORT ?= 8767
STORE_PORT ?= 27017
DATA_DIR ?= ./data
ARGS ?=
# PORT given on the command line wins over a simulator's own default port.
port_or = $(if $(filter command line,$(origin PORT)),$(PORT),$(1))

# First a python3.13+ on PATH, then pyenv's installed versions.
PYTHON_FOR_VENV := $(shell scripts/find-python.sh 2>/dev/null)

# The web app (web/): built with Node.js >= 18 and npm when present; without them the API runs alone.
WEB_NODE := $(shell command -v npm >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' 2>/dev/null && echo yes)
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)
WEB_DEPS := web/node_modules/.installed
WEB_BUILT := web/dist/.built
WEB_MISSING := note: Node.js >= 18 with npm not found: the API runs without the web app (install nodejs and npm, then make web)

.PHONY: help install run store test test-unit test-integration test-architecture test-e2e test-cli test-deploy lint \
	bench simulator simulator-binance simulator-yahoo dashboards clean web test-web

help:
	@echo "make run        start the service (creates .venv on first use; ROLES=api,scheduler to pick roles)"
	@echo "make store      run the embedded store as its own process (DATA_DIR=$(DATA_DIR), STORE_PORT=$(STORE_PORT))"
	@echo "make test       run every test tier"
	@echo "make lint       ruff, mypy (whole src; domain strict) and import-linter contracts (+ tsc on web/)"
	@echo "make web        build the web app (web/ -> web/dist) when its sources changed; needs Node.js >= 18"
	@echo "make bench      print benchmark figures as one JSON object"
	@echo "make simulator  run the TradingView simulator (HOST=$(HOST) PORT=$(PORT), ARGS='--hole-rate 0.01 ...')"
	@echo "make simulator-binance  run the Binance simulator (HOST, PORT=$(BINANCE_PORT), ARGS='--weight-limit 1200 ...')"
	@echo "make simulator-yahoo    run the Yahoo Finance simulator (HOST, PORT=$(YAHOO_PORT), ARGS='--rate-limit 100 ...')"
	@echo "make dashboards regenerate the Grafana dashboards in deploy/grafana/dashboards"

$(BIN)/python:
	@if [ -z "$(PYTHON_FOR_VENV)" ]; then \
	  echo "error: PocketQuant needs Python >= 3.13; none found on PATH or under pyenv (install one, e.g. 'pyenv install 3.13')." >&2; \
	  exit 1; fi
	@echo "creating $(VENV) with $(PYTHON_FOR_VENV)"
	$(PYTHON_FOR_VENV) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

ifeq ($(WEB_NODE),yes)
web: $(WEB_BUILT)

test-web: $(WEB_DEPS)
	cd web && npx vitest run
else
web test-web:
	@echo "$(WEB_MISSING)"
endif

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

$(WEB_BUILT): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run --silent build
	@touch $@

# The benchmark-only extra (ArcticDB, measured by the storage benchmark in the same run).
$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $@

run: install web
	$(BIN)/python -m src.main

store: install
	$(BIN)/pocketquant store --data-dir $(DATA_DIR) --host $(HOST) --port $(STORE_PORT)

simulator: install
	$(BIN)/python -m simulators.tradingview --host $(HOST) --port $(PORT) $(ARGS)

simulator-binance: install
	$(BIN)/python -m simulators.binance --host $(HOST) --port $(call port_or,$(BINANCE_PORT)) $(ARGS)

simulator-yahoo: install
	$(BIN)/python -m simulators.yahoo --host $(HOST) --port $(call port_or,$(YAHOO_PORT)) $(ARGS)

test: install web test-web
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

test-unit: install
	$(BIN)/python -m pytest -q tests/unit

test-integration: install
	$(BIN)/python -m pytest -q tests/integration

test-architecture: install
	$(BIN)/python -m pytest -q tests/architecture

test-e2e: install web
	$(BIN)/python -m pytest -q tests/e2e

test-cli: install
	$(BIN)/python -m pytest -q tests/cli

test-deploy: install
	$(BIN)/python -m pytest -q tests/deploy

dashboards: install
	$(BIN)/python deploy/grafana/generate_dashboards.py

lint: install
	$(BIN)/ruff check src simulators tests benchmarks deploy
	$(BIN)/mypy src simulators
	$(BIN)/lint-imports
ifeq ($(WEB_NODE),yes)
	$(MAKE) --no-print-directory $(WEB_DEPS)
	cd web && npx tsc --noEmit
endif

bench: $(VENV)/.bench-installed
	@$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis web/node_modules web/dist
