# Developer and CI entry points. `make run` and `make test` are all most people need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: help install run test lint bench migrations-check

help:
	@echo "make run               install, migrate, seed demo data, start web + worker + beat (PORT=$(PORT))"
	@echo "make test              install and run the test suite in parallel (PYTEST_ARGS=...)"
	@echo "make lint              ruff check + ruff format --check"
	@echo "make migrations-check  fail if models changed without a migration"
	@echo "make bench             run the benchmarks (BENCH_ARGS=\"--customers 20000\" or \"--quick\")"

install: $(STAMP)

# Re-installs only when requirements.lock is newer than the stamp.
$(STAMP): requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.lock
	@touch $(STAMP)

run: install
	PORT=$(PORT) bash config/run.sh

test: install
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	@if [ -d tests/benchmarks ]; then $(PY) -m tests.benchmarks $(BENCH_ARGS); else echo "no tests/benchmarks yet: nothing to run"; fi

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run
