# The monolith benchmark: bench/monolith_bench.py seeds 10,000 products into a fresh PostgreSQL
# database (shop_c_bench on postgres://postgres@127.0.0.1:5432, override with BENCH_DATABASE_URL),
# serves the monolith on a free loopback port and loads it with wrk (reads) and locust (checkouts).
# Results: bench/results/monolith.md and .json. Extra options: make bench BENCH_ARGS="--duration 10"

BENCH_PYTHON ?= .venv/bin/python
BENCH_ARGS ?=

.PHONY: bench
bench:
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)
	@$(BENCH_PYTHON) -c "import locust" 2>/dev/null || $(BENCH_PYTHON) -m pip install --quiet -e '.[bench]'
	$(BENCH_PYTHON) -m bench.monolith_bench $(BENCH_ARGS)
