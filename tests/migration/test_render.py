"""render(plan, step) is pinned by golden files, one per step of the shipped plan.

After an intended change of the template, the Lua runtime or the plan, update them with
`make proxy-golden` (or STRANGLER_UPDATE_GOLDEN=1 pytest tests/migration/test_render.py) and
review the diff like code.
"""

import os
import re
from pathlib import Path

import pytest

from strangler.proxy import RenderOptions, render, render_parts
from strangler.proxy.nginx import Nginx
from strangler.proxy.options import DEFAULT_INTERNAL_PORT
from strangler.proxy.site import Site
from tests.migration.harness import REPO_ROOT
from tests.migration.test_plan import SHOP_STEPS

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("STRANGLER_UPDATE_GOLDEN") == "1"


def server_block(config: str, name: str) -> str:
    start = config.index(f"set $strangler_listener {name};")
    end = config.find("set $strangler_listener", start + 1)
    return config[start : end if end != -1 else len(config)]


@pytest.mark.parametrize("step", SHOP_STEPS)
def test_rendered_config_matches_its_golden_file(shop_plan, step):
    config = render(shop_plan, step)
    golden = GOLDEN / f"{step}.conf"
    if UPDATE:
        golden.write_text(config, encoding="utf-8")
    assert golden.exists(), f"no golden file for {step}: run make proxy-golden"
    assert config == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs from render(plan, {step!r}); if intended, run make proxy-golden"
    )


def test_render_is_pure(shop_plan):
    assert render(shop_plan, "3-catalog-canary") == render(shop_plan, "3-catalog-canary")


def test_every_step_shares_one_structure_so_a_flip_needs_no_reload(shop_plan):
    parts = [render_parts(shop_plan, step) for step in SHOP_STEPS]
    assert len({p.structure_hash for p in parts}) == 1
    assert len({p.table_hash for p in parts}) == len(SHOP_STEPS)


def test_the_step_table_names_each_routes_backend(shop_plan):
    table = render_parts(shop_plan, "3-catalog-canary").table_text
    assert "step 3-catalog-canary\n" in table
    assert (
        "route products monolith split=monolith:90,catalog:10 sticky=user fallback=monolith\n"
        in table
    )
    assert "route reviews monolith\n" in table
    assert "owner catalog monolith\n" in table


def test_only_the_internal_listener_serves_internal_paths_and_the_admin_api(shop_plan):
    config = render(shop_plan, "5-orders")
    public, internal = server_block(config, "public"), server_block(config, "internal")
    assert "listen 127.0.0.1:8080;" in config and "listen 127.0.0.1:8081;" in config
    assert "location ^~ /internal/ {" in public
    assert "/internal/orders" not in public
    assert "/__strangler/table" not in public
    assert re.search(r"location ~ \^/internal/orders\(\?:/\.\*\)\?\$ \{", internal)
    assert "location = /__strangler/table {" in internal
    assert "location = /__strangler/step {" in internal


def test_every_error_nginx_produces_is_json(shop_plan):
    config = render(shop_plan, "0-monolith")
    for status in (404, 413, 429, 502, 503, 504):
        assert f"error_page {status} @strangler_{status};" in config
        assert re.search(rf"return {status} '\{{\"detail\":\"[^\"]+\"\}}\\n';", config)
    assert "default_type application/json;" in config
    assert "client_max_body_size 1m;" in config


def test_the_config_carries_request_ids_limits_logs_and_shutdown_timeout(shop_plan):
    config = render(shop_plan, "0-monolith")
    assert "proxy_set_header X-Request-ID $strangler_request_id;" in config
    assert "add_header X-Request-ID $strangler_request_id always;" in config
    assert "limit_req_zone $binary_remote_addr zone=strangler_auth_token:1m rate=10r/s;" in config
    assert "limit_req zone=strangler_auth_token burst=50 nodelay;" in config
    assert "worker_shutdown_timeout 10s;" in config
    assert "access_log logs/access.log strangler" in config
    assert '"route":"$strangler_route"' in config and '"step":"$strangler_step"' in config
    assert "keepalive 32;" in config
    assert 'split_clients "$strangler_sticky" $strangler_bucket {' in config


def test_fallback_groups_put_the_monolith_behind_the_extracted_backend(shop_plan):
    config = render(shop_plan, "4-catalog")
    group = re.search(r"upstream catalog__fallback__monolith \{(.*?)\}", config, re.S).group(1)
    assert "server 127.0.0.1:8002 max_fails=1" in group
    assert "server 127.0.0.1:8000 backup;" in group
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in config


def test_only_routes_shadowed_in_some_step_carry_a_mirror(shop_plan):
    config = server_block(render(shop_plan, "0-monolith"), "public")
    locations = re.findall(
        r"        # (\S+): [^\n]*\n        location [^\n]*\{\n(.*?)\n        \}", config, re.S
    )
    mirrored = [pattern for pattern, body in locations if "mirror /__strangler/mirror;" in body]
    assert sorted(mirrored) == ["/api/categories", "/api/products", "/api/products/{id}"]


def test_production_options_drop_the_debug_header_and_move_the_listeners(shop_plan):
    options = RenderOptions.from_env({"PROXY_SERVED_BY": "0", "PROXY_PORT": "9080"})
    config = render(shop_plan, "1-auth", options)
    assert "served_by = false," in config
    assert "listen 127.0.0.1:9080;" in config
    assert f"listen 127.0.0.1:{DEFAULT_INTERNAL_PORT};" in config
    assert "served_by = true," in render(shop_plan, "1-auth")


@pytest.mark.parametrize("step", SHOP_STEPS)
def test_nginx_accepts_the_config_of_every_step(shop_plan, step, tmp_path):
    site = Site.from_env({"STRANGLER_ROOT": str(REPO_ROOT), "STRANGLER_VAR_DIR": str(tmp_path)})
    Nginx(site).test(render(shop_plan, step))
