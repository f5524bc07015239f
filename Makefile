# PocketQuant — every target creates the virtual environment when it is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8765
BINANCE_PORT ?= 8766
YAHOO_PORT ?= 8767
ARGS ?=
# PORT given on the command line wins over a simulator's own default port.
port_or = $(if $(filter command line,$(origin PORT)),$(PORT),$(1))

# First a python3.13+ on PATH, then pyenv's installed versions.
PYTHON_FOR_VENV := $(shell scripts/find-python.sh 2>/dev/null)

.PHONY: help install run test test-unit test-integration test-architecture test-e2e lint bench simulator \
	simulator-binance simulator-yahoo clean

help:
	@echo "make run        start the service (creates .venv on first use)"
	@echo "make test       run every test tier"
	@echo "make lint       ruff, mypy (whole src; domain strict) and import-linter contracts"
	@echo "make bench      print benchmark figures as one JSON object"
	@echo "make simulator  run the TradingView simulator (HOST=$(HOST) PORT=$(PORT))"
	@echo "make simulator-binance  run the Binance simulator (HOST, PORT=$(BINANCE_PORT), ARGS='--weight-limit 1200 ...')"
	@echo "make simulator-yahoo    run the Yahoo Finance simulator (HOST, PORT=$(YAHOO_PORT), ARGS='--rate-limit 100 ...')"

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

# The benchmark-only extra (ArcticDB, measured by the storage benchmark in the same run).
$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $@

run: install
	$(BIN)/python -m src.main

simulator: install
	$(BIN)/python -m simulators.tradingview --host $(HOST) --port $(PORT)

simulator-binance: install
	$(BIN)/python -m simulators.binance --host $(HOST) --port $(call port_or,$(BINANCE_PORT)) $(ARGS)

simulator-yahoo: install
	$(BIN)/python -m simulators.yahoo --host $(HOST) --port $(call port_or,$(YAHOO_PORT)) $(ARGS)

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

test-unit: install
	$(BIN)/python -m pytest -q tests/unit

test-integration: install
	$(BIN)/python -m pytest -q tests/integration

test-architecture: install
	$(BIN)/python -m pytest -q tests/architecture

test-e2e: install
	$(BIN)/python -m pytest -q tests/e2e

lint: install
	$(BIN)/ruff check src simulators tests benchmarks
	$(BIN)/mypy src simulators
	$(BIN)/lint-imports

bench: $(VENV)/.bench-installed
	@$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
