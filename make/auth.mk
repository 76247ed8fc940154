# The auth service (extracted/auth): its database, its tests, its readiness.
#   make auth-migrate   create the database if missing (PostgreSQL), migrate, collect static files
#   make auth-test      its tests, in their own pytest process (one Django project per process)
#   make auth-wait      wait until it answers /readyz (after supervisord started it)
# AUTH_DATABASE_URL picks the database (default: SQLite var/auth.sqlite3); AUTH_PYTEST_ARGS
# is passed to pytest.

export AUTH_BIND ?= 127.0.0.1:8001
export AUTH_URL ?= http://$(AUTH_BIND)
AUTH_DIR := extracted/auth

UP_PREREQUISITES += auth-migrate
UP_WAIT += auth-wait
TEST_SUITES += auth-test

.PHONY: auth-migrate auth-test auth-wait

auth-migrate: install
	$(BIN)/python deploy/ensure_database.py "$$AUTH_DATABASE_URL"
	$(BIN)/python $(AUTH_DIR)/manage.py migrate --noinput
	$(BIN)/python $(AUTH_DIR)/manage.py collectstatic --noinput -v0

auth-test: install-test
	cd $(AUTH_DIR) && ../../$(BIN)/pytest $(AUTH_PYTEST_ARGS)

auth-wait:
	@$(BIN)/python deploy/wait_for.py $(AUTH_URL)/readyz 90
