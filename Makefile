# The project's commands. `make up` runs the shop, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUPERVISOR_CONF := deploy/supervisor/supervisord.conf

export SHOP_ROOT := $(CURDIR)
export STRANGLER_ROOT := $(CURDIR)
export MONOLITH_BIND ?= 127.0.0.1:8000
export MONOLITH_URL ?= http://$(MONOLITH_BIND)
export SHOP_ADMIN_EMAIL ?= admin@shop.local
export SHOP_ADMIN_PASSWORD ?= admin-pass-1234
# Only the processes `make up` starts: a test run must not write into a running shop's metrics.
up: export STRANGLER_METRICS_DIR := $(CURDIR)/var/metrics
SEED_PRODUCTS ?= 200

# Each make/<topic>.mk adds its own targets and hooks into these lists.
UP_PREREQUISITES :=
UP_WAIT :=
TEST_SUITES :=

.PHONY: help venv install install-test migrate seed up down status test lint format schema

-include make/*.mk

help:
	@echo "make up      install everything, migrate, seed, start the shop, print its URL"
	@echo "make down    stop everything 'make up' started"
	@echo "make test    install test needs and run the whole suite"
	@echo "make lint | format | schema | bench"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The framework (the root) with what `strangle verify` runs the contract suite with, and the
# shop's shared domain apps (domains/).
$(VENV)/.installed: pyproject.toml domains/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[contract]' -e ./domains
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/python deploy/ensure_database.py "$$MONOLITH_DATABASE_URL"
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0

seed: migrate
	$(BIN)/python manage.py seed_shop --products $(SEED_PRODUCTS)

# Each backend runs as many gunicorns as the plan gives it instances (<NAME>_INSTANCES overrides
# it, e.g. CATALOG_INSTANCES=2 make up): deploy/instances.py tells supervisord. A running
# supervisord keeps the counts it started with: `make down` first to change them.
up: seed $(UP_PREREQUISITES)
	@mkdir -p var/run var/log
	@# Each backend's processes share their metrics in var/metrics/<backend>, emptied here
	@# before they (re)start (strangler.service.metrics).
	@rm -rf var/metrics
	@instances=$$($(BIN)/python deploy/instances.py) || exit 1; \
	if [ -S var/run/supervisor.sock ] && $(BIN)/supervisorctl -c $(SUPERVISOR_CONF) pid >/dev/null 2>&1; then \
		$(BIN)/supervisorctl -c $(SUPERVISOR_CONF) update >/dev/null; \
		$(BIN)/supervisorctl -c $(SUPERVISOR_CONF) restart all; \
	else \
		env $$instances $(BIN)/supervisord -c $(SUPERVISOR_CONF); \
	fi
	@$(BIN)/python deploy/wait_for.py $(MONOLITH_URL)/readyz 90
	@$(if $(strip $(UP_WAIT)),$(MAKE) --no-print-directory $(UP_WAIT))
	@$(BIN)/supervisorctl -c $(SUPERVISOR_CONF) status
	@echo
	@echo "The shop is up: $(or $(SHOP_URL),$(MONOLITH_URL))"
	@echo "  staff:    $$SHOP_ADMIN_EMAIL / $$SHOP_ADMIN_PASSWORD (admin at $(MONOLITH_URL)/admin/)"
	@echo "  migrate:  .venv/bin/python manage.py strangle status | diff STEP | apply STEP | rollback"
	@echo "  customer: customer@shop.local / customer-pass-1234"
	@echo "  stop it:  make down"

down:
	@if [ -S var/run/supervisor.sock ] && $(BIN)/supervisorctl -c $(SUPERVISOR_CONF) pid >/dev/null 2>&1; then \
		pid=$$(cat var/run/supervisord.pid); \
		$(BIN)/supervisorctl -c $(SUPERVISOR_CONF) shutdown >/dev/null; \
		echo "stopping (each program gets its graceful stop time)..."; \
		for i in $$(seq 240); do kill -0 $$pid 2>/dev/null || break; sleep 0.5; done; \
		if kill -0 $$pid 2>/dev/null; then echo "supervisord $$pid is still stopping" >&2; exit 1; fi; \
		echo "stopped"; \
	else \
		echo "nothing running"; \
	fi

status:
	@$(BIN)/supervisorctl -c $(SUPERVISOR_CONF) status

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=monolith:domains:extracted/auth:extracted/catalog:extracted/orders:. $(BIN)/lint-imports
	$(BIN)/mypy

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: install
	$(BIN)/python manage.py spectacular --file contract/openapi.yaml --validate

test: install-test $(TEST_PREREQUISITES)
	$(BIN)/python deploy/ensure_database.py "$$MONOLITH_DATABASE_URL"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=monolith:domains:extracted/auth:extracted/catalog:extracted/orders:. $(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)
	$(if $(strip $(TEST_SUITES)),$(MAKE) --no-print-directory $(TEST_SUITES))
