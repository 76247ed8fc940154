# The strangler proxy: nginx rendered from migration-plan/plan.yaml, run from var/nginx/.
#   make proxy-install   nginx, its Lua module and lua-cjson from Debian's packages, when missing
#   make proxy-up        render the recorded step's config (step 0-monolith on a fresh install)
#   make proxy-status    ./manage.py strangle status
#   make proxy-start     nginx without supervisor (daemonised); make proxy-stop stops it
#   make proxy-test      the migration suite (plan, render goldens, CLI, flip under load)
#   make proxy-golden    regenerate tests/migration/golden/ (the nginx skeleton, one step table
#                        per step) after an intended change
#   make proxy-lua-test  luacheck on the Lua runtime and busted on its pure modules (tests/lua);
#                        part of `make test`. Debian's lua-check, lua-busted, lua5.1 when missing
#   make proxy-bench     proxy overhead and flip-under-load figures -> bench/results/proxy-*.md
# `make up` runs proxy-install and proxy-up before supervisor starts nginx
# (deploy/supervisor/programs/nginx.conf), waits for the proxy and prints it as the shop's URL.

PROXY_PYTHON ?= .venv/bin/python
PROXY_BENCH_ARGS ?=
export PROXY_PORT ?= 8080
export PROXY_INTERNAL_PORT ?= 8081
# Where backends reach another domain's owner (/internal/<domain>/): the internal listener.
export PROXY_INTERNAL_URL ?= http://127.0.0.1:$(PROXY_INTERNAL_PORT)
SHOP_URL := http://127.0.0.1:$(PROXY_PORT)
UP_WAIT += proxy-wait
NGINX_PREFIX = $(CURDIR)/var/nginx/
NGINX_RUN = nginx -p $(NGINX_PREFIX) -c conf/nginx.conf -e logs/error.log

.PHONY: proxy-install proxy-up proxy-wait proxy-status proxy-start proxy-stop proxy-test \
	proxy-golden proxy-bench proxy-lua-install proxy-lua-test

up: proxy-install proxy-up
test: proxy-install
TEST_SUITES += proxy-lua-test

proxy-install:
	@bash proxy/install-nginx.sh

proxy-up: proxy-install install
	@$(PROXY_PYTHON) manage.py strangle up

proxy-wait:
	@$(PROXY_PYTHON) manage.py strangle wait --timeout 30

proxy-status:
	@$(PROXY_PYTHON) manage.py strangle status

proxy-start: proxy-up
	@$(NGINX_RUN)
	@$(PROXY_PYTHON) manage.py strangle wait --timeout 30

proxy-stop:
	@if [ -f var/nginx/logs/nginx.pid ]; then $(NGINX_RUN) -s quit; else echo "nginx is not running"; fi

proxy-test: proxy-install install-test
	.venv/bin/pytest tests/migration -q

proxy-lua-install:
	@bash proxy/install-lua-tools.sh

# Settings in .luacheckrc and .busted.
proxy-lua-test: proxy-lua-install
	luacheck strangler/proxy/lua tests/lua
	busted

proxy-golden: install-test
	STRANGLER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/migration/test_render.py -q
	@git diff --stat -- tests/migration/golden || true

proxy-bench: proxy-install install-test
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk
	$(PROXY_PYTHON) -m bench.proxy_bench $(PROXY_BENCH_ARGS)
