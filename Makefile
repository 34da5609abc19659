# Kefu: the two commands a new machine needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: install run test lint unit e2e bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

## run: install into .venv, migrate, load demo data on first start, serve on http://$(HOST):$(PORT)
run: $(STAMP)
	$(VENV)/bin/kefu db upgrade
	$(VENV)/bin/kefu demo --if-empty
	$(VENV)/bin/kefu serve --host $(HOST) --port $(PORT)

## lint: ruff and mypy
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench migrations
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

## test: lint, then the whole suite (SQLite; PostgreSQL/Redis too when KEFU_TEST_* are set; browser when chromium exists)
test: lint
	@if [ -n "$$KEFU_TEST_DATABASE_URL" ]; then echo "storage tests: SQLite and PostgreSQL ($$KEFU_TEST_DATABASE_URL)"; \
	  else echo "storage tests: SQLite only (set KEFU_TEST_DATABASE_URL / KEFU_TEST_REDIS_URL for PostgreSQL/Redis)"; fi
	@if [ -x "$${KEFU_CHROMIUM:-/usr/bin/chromium}" ]; then echo "browser tests: ON (chromium found)"; \
	  else echo "browser tests: SKIPPED - no chromium at $${KEFU_CHROMIUM:-/usr/bin/chromium} (apt-get install -y chromium fonts-noto-cjk)"; fi
	$(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider tests

unit: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider tests --ignore=tests/e2e

e2e: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider tests/e2e

## bench: speed and memory figures, each beside a peer measured in the same run (PostgreSQL too when it is up)
bench: $(STAMP)
	@if [ -z "$$KEFU_BENCH_DATABASE_URL" ] && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  export KEFU_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres; fi; \
	  $(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
