# The fault suite (tests/faults): the shop of the auth extraction on real gunicorn, Celery and
# nginx, with a backend killed, the broker or a database cut off by a TCP fault proxy, a relay and
# a consumer killed mid-batch; each case must recover with nothing lost and parity clean. It is
# part of `make test` (pytest collects tests/); most cases need PostgreSQL and Redis, as CI runs
# them (.ci/run), and are skipped without them:
#   make faults MONOLITH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_x \
#               CELERY_BROKER_URL=redis://127.0.0.1:6379/0
# The test shops use Redis database 7, or SHOP_TEST_REDIS_DB.

.PHONY: faults
faults: install-test
	$(BIN)/pytest tests/faults -q
