# The extracted services (extracted/<name>): each its own Django project, database and process.
# For every service NAME in SERVICES:
#   make NAME-migrate   create its database if missing (PostgreSQL), migrate, collect static files
#   make NAME-test      its tests, in their own pytest process (one Django project per process)
#   make NAME-wait      wait until it answers /readyz (after supervisord started it)
# <NAME>_DATABASE_URL picks its database (default: SQLite var/NAME.sqlite3), <NAME>_BIND its
# address (its URL in the plan), <NAME>_PYTEST_ARGS what its pytest gets.
# supervisord runs each from deploy/supervisor/programs/NAME.conf, <NAME>_INSTANCES gunicorns of
# it (the plan's `instances` unless set: deploy/instances.py), on <NAME>_BIND's port + 10k.

SERVICES := auth catalog orders
export AUTH_BIND ?= 127.0.0.1:8001
export AUTH_URL ?= http://$(AUTH_BIND)
export CATALOG_BIND ?= 127.0.0.1:8002
export CATALOG_URL ?= http://$(CATALOG_BIND)
export ORDERS_BIND ?= 127.0.0.1:8003
export ORDERS_URL ?= http://$(ORDERS_BIND)

upper = $(shell echo '$(1)' | tr a-z A-Z)

define SERVICE_TARGETS
.PHONY: $(1)-migrate $(1)-test $(1)-wait
UP_PREREQUISITES += $(1)-migrate
UP_WAIT += $(1)-wait
TEST_SUITES += $(1)-test

$(1)-migrate: install
	$$(BIN)/python deploy/ensure_database.py "$$$$$(call upper,$(1))_DATABASE_URL"
	$$(BIN)/python extracted/$(1)/manage.py migrate --noinput
	$$(BIN)/python extracted/$(1)/manage.py collectstatic --noinput -v0

$(1)-test: install-test
	cd extracted/$(1) && ../../$$(BIN)/pytest $$($(call upper,$(1))_PYTEST_ARGS)

$(1)-wait:
	@$$(BIN)/python deploy/wait_for.py $$($(call upper,$(1))_URL)/readyz 90
endef

$(foreach service,$(SERVICES),$(eval $(call SERVICE_TARGETS,$(service))))
