# The monolith benchmark: bench/monolith_bench.py seeds 10,000 products into a fresh PostgreSQL
# database (shop_c_bench on postgres://postgres@127.0.0.1:5432, override with BENCH_DATABASE_URL),
# serves the monolith on a free loopback port and loads it with wrk (reads) and locust (checkouts).
# Results: bench/results/monolith.md and .json. Extra options: make bench BENCH_ARGS="--duration 10"

BENCH_PYTHON ?= .venv/bin/python
BENCH_ARGS ?=

.PHONY: bench wrk-install
# The bench's own tests drive wrk against a loopback server, so `make test` needs it too.
TEST_PREREQUISITES += wrk-install
wrk-install:
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)

bench: wrk-install
	@$(BENCH_PYTHON) -c "import locust" 2>/dev/null || $(BENCH_PYTHON) -m pip install --quiet -e '.[bench]'
	$(BENCH_PYTHON) -m bench.monolith_bench $(BENCH_ARGS)

# The data-sync benchmark: bench/sync_bench.py starts the monolith and the auth service on fresh
# PostgreSQL databases (shop_e_sync_live_*, dropped after; override with BENCH_SYNC_DATABASE_URL)
# and Redis db 8 (BENCH_SYNC_BROKER_URL), backfills 100,000 users and measures the sync lag under
# 5, 10 and 20 registrations/s (30 s each). Results: bench/results/sync.md and .json.
# Options: make sync-bench SYNC_BENCH_ARGS="--users 10000 --rates 20 --duration 10"
SYNC_BENCH_ARGS ?=

.PHONY: sync-bench
sync-bench:
	$(BENCH_PYTHON) -m bench.sync_bench $(SYNC_BENCH_ARGS)

# The catalog read path benchmark: bench/catalog_bench.py starts the monolith (10,000 products)
# and the catalog service with their sync processes (PostgreSQL databases <suite>_b_catalog_bench_*
# when MONOLITH_DATABASE_URL points at PostgreSQL; the broker CELERY_BROKER_URL names) behind
# real nginx, backfills the catalog, measures a write's time to reads on either owner, checks
# both steps answer alike and compares catalog reads at 0-monolith and 4-catalog with wrk.
# Results: bench/results/catalog.md and .json. Options: make catalog-bench CATALOG_BENCH_ARGS="--rounds 1"
CATALOG_BENCH_ARGS ?=

.PHONY: catalog-bench
catalog-bench: wrk-install
	$(BENCH_PYTHON) -m bench.catalog_bench $(CATALOG_BENCH_ARGS)

# The shadow benchmark: bench/shadow_bench.py starts the monolith and the catalog service on
# free loopback ports (LiveBackend: fresh PostgreSQL databases when MONOLITH_DATABASE_URL points
# at a server, else SQLite; dropped after), copies the catalog with `strangle backfill catalog`
# and runs the shipped plan on nginx; wrk reads the products list and a product through the
# proxy with the shadow off (1-auth) and on (2-catalog-shadow), alternating, under a saturating
# and a paced load. Results: bench/results/shadow.md and .json.
# Options: make shadow-bench SHADOW_BENCH_ARGS="--rounds 4 --duration 10 --paced-pause-ms 0"
SHADOW_BENCH_ARGS ?=

.PHONY: shadow-bench
shadow-bench: wrk-install proxy-install install-test
	$(BENCH_PYTHON) -m bench.shadow_bench $(SHADOW_BENCH_ARGS)

# The checkout latency benchmark: bench/orders_bench.py starts the shop of the orders extraction's
# tests (tests/migration/catalog_shop.py: the monolith and the auth, catalog and orders services
# with their sync processes, PostgreSQL databases <suite>_live_c_* when MONOLITH_DATABASE_URL
# points at PostgreSQL, the broker CELERY_BROKER_URL names on Redis db SHOP_TEST_REDIS_DB) behind
# real nginx, and 4 customers check out in a closed loop at 0-monolith, then at 5-orders (moved
# there with the strangle CLI: backfills, parity, apply), the steps alternating over the rounds.
# Checkout p50/p99 at both steps, their ratio, and the reservation call's p50/p99 on the internal
# listener. Results: bench/results/orders.md and .json.
# Options: make orders-bench ORDERS_BENCH_ARGS="--checkouts 30 --rounds 4"
ORDERS_BENCH_ARGS ?=

.PHONY: orders-bench
orders-bench: proxy-install install-test
	$(BENCH_PYTHON) -m bench.orders_bench $(ORDERS_BENCH_ARGS)
