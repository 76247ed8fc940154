"""render(plan, step) is pinned by golden files: one nginx skeleton, the structure every step
of the shipped plan shares (golden/nginx.conf, the step's values as placeholders), and one
step table per step (golden/tables/<step>.json).

After an intended change of the template, the Lua runtime or the plan, update them with
`make proxy-golden` (or STRANGLER_UPDATE_GOLDEN=1 pytest tests/migration/test_render.py) and
review the diff like code.
"""

import hashlib
import json
import os
import re
import tomllib
from pathlib import Path

import pytest

from strangler.plan import Plan, load_plan
from strangler.proxy import RenderOptions, assets, render, render_parts
from strangler.proxy.errors import ProxyError
from strangler.proxy.nginx import Nginx
from strangler.proxy.options import DEFAULT_INTERNAL_PORT
from strangler.proxy.site import Site
from strangler.proxy.tables import dumps
from tests.migration.harness import REPO_ROOT, SHOP_PLAN
from tests.migration.test_plan import SHOP_STEPS

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_SKELETON = GOLDEN / "nginx.conf"
# The shop's plan with two instances of the monolith and of the catalog (as `make up` runs it
# with MONOLITH_INSTANCES=2 CATALOG_INSTANCES=2).
GOLDEN_INSTANCES = GOLDEN / "nginx-instances.conf"
INSTANCES = {"MONOLITH_INSTANCES": "2", "CATALOG_INSTANCES": "2"}
GOLDEN_TABLES = GOLDEN / "tables"
UPDATE = os.environ.get("STRANGLER_UPDATE_GOLDEN") == "1"


def server_block(config: str, name: str) -> str:
    start = config.index(f"set $strangler_listener {name};")
    end = config.find("set $strangler_listener", start + 1)
    return config[start : end if end != -1 else len(config)]


def pinned(golden: Path, text: str, what: str) -> str:
    """The golden text, rewritten first when STRANGLER_UPDATE_GOLDEN=1."""
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file for {what}: run make proxy-golden"
    return golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("step", SHOP_STEPS)
def test_every_steps_skeleton_is_the_golden_one(shop_plan, step):
    skeleton = render_parts(shop_plan, step).skeleton
    assert skeleton == pinned(GOLDEN_SKELETON, skeleton, "the skeleton"), (
        f"{GOLDEN_SKELETON.name} differs from the skeleton of {step}; "
        "if intended, run make proxy-golden"
    )


@pytest.mark.parametrize("step", SHOP_STEPS)
def test_every_steps_table_is_its_golden_one(shop_plan, step):
    table = render_parts(shop_plan, step).table
    golden = GOLDEN_TABLES / f"{step}.json"
    readable = json.dumps(table.data, indent=2, sort_keys=True) + "\n"
    # The golden file is indented for review; the hash it holds pins the compact bytes.
    assert json.loads(pinned(golden, readable, step)) == table.data, (
        f"{golden.name} differs from the step table of {step}; if intended, run make proxy-golden"
    )


def test_the_config_is_the_skeleton_with_the_steps_values(shop_plan):
    rendered = render_parts(shop_plan, "3-catalog-canary")
    assert "@@strangler:" not in rendered.config
    assert f"table = [==[{rendered.table.text}]==]," in rendered.config
    assert f"# structure {rendered.structure_hash}, step table {rendered.table.hash}\n" in (
        rendered.config
    )
    assert "@@strangler:table@@" in rendered.skeleton


def test_the_lua_runtime_is_loaded_from_the_prefix_not_inlined(shop_plan):
    config = render(shop_plan, "0-monolith")
    assert 'lua_package_path "${prefix}lua/?.lua;;";' in config
    assert 'strangler = require "strangler"' in config
    assert "local M = {}" not in config


def test_render_is_pure(shop_plan):
    assert render(shop_plan, "3-catalog-canary") == render(shop_plan, "3-catalog-canary")


def test_every_step_shares_one_structure_so_a_flip_needs_no_reload(shop_plan):
    parts = [render_parts(shop_plan, step) for step in SHOP_STEPS]
    assert len({p.structure_hash for p in parts}) == 1
    assert len({p.table.hash for p in parts}) == len(SHOP_STEPS)


def test_the_step_table_names_each_routes_backend(shop_plan):
    table = render_parts(shop_plan, "3-catalog-canary").table
    assert table.step == "3-catalog-canary"
    assert table.data["routes"]["products"] == {
        "backend": "monolith",
        "split": [["monolith", 90], ["catalog", 10]],
        "sticky": "user",
        "fallback": "monolith",
    }
    assert table.data["routes"]["reviews"] == {"backend": "monolith"}
    assert table.data["owners"]["catalog"] == "monolith"


def test_the_step_table_is_compact_sorted_json_whose_hash_covers_the_rest(shop_plan):
    table = render_parts(shop_plan, "3-catalog-canary").table
    assert table.text == dumps(json.loads(table.text))
    assert " " not in table.text
    rest = {key: value for key, value in table.data.items() if key != "hash"}
    assert table.hash == hashlib.sha256(dumps(rest).encode()).hexdigest()[:16]


def test_a_changed_lua_runtime_changes_the_structure_hash(shop_plan, monkeypatch):
    before = render_parts(shop_plan, "0-monolith").structure_hash
    changed = (*assets.lua_sources(), ("strangler/extra.lua", "return {}\n"))
    monkeypatch.setattr(assets, "lua_sources", lambda: changed)
    assert render_parts(shop_plan, "0-monolith").structure_hash != before


def test_the_package_ships_its_templates_and_lua_runtime():
    """An installed strangler renders and runs the proxy without the repository."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["strangler"]
    package = REPO_ROOT / "strangler"
    shipped = [
        path.relative_to(package).as_posix()
        for folder in (assets.TEMPLATES, assets.LUA)
        for path in (package / "proxy" / folder).rglob("*")
        if path.is_file()
    ]
    # setuptools expands the patterns as globs from the package folder.
    included = {path.relative_to(package).as_posix() for g in patterns for path in package.glob(g)}
    assert shipped
    assert sorted(set(shipped) - included) == []


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
    for status in (404, 413, 429, 504):
        assert f"error_page {status} @strangler_{status};" in config
        assert re.search(rf"return {status} '\{{\"detail\":\"[^\"]+\"\}}\\n';", config)
    # A backend nginx cannot reach (its 502) is unavailable for now, as a backend's own 503 says.
    assert "error_page 502 503 =503 @strangler_503;" in config
    assert re.search(r"return 503 '\{\"detail\":\"Service unavailable: [^\"]+\"\}\\n';", config)
    assert "return 502" not in config
    assert "default_type application/json;" in config
    assert "client_max_body_size 1m;" in config


def test_the_config_carries_request_ids_limits_logs_and_shutdown_timeout(shop_plan):
    config = render(shop_plan, "0-monolith")
    assert "proxy_set_header X-Request-ID $strangler_request_id;" in config
    assert "add_header X-Request-ID $strangler_request_id always;" in config
    assert "limit_req_zone $binary_remote_addr zone=strangler_auth_token:1m rate=5r/s;" in config
    assert "limit_req zone=strangler_auth_token burst=50 nodelay;" in config
    assert "worker_shutdown_timeout 10s;" in config
    assert "access_log logs/access.log strangler" in config
    assert '"route":"$strangler_route"' in config and '"step":"$strangler_step"' in config
    assert "keepalive 32;" in config
    assert 'split_clients "$strangler_sticky" $strangler_bucket {' in config


def test_every_auth_route_and_the_admin_are_rate_limited(shop_plan):
    config = server_block(render(shop_plan, "0-monolith"), "public")
    limited = dict(
        re.findall(
            r"        location (?:= |~ )(\S+) \{\n[^\n]*\n\s+limit_req zone=strangler_(\w+) ",
            config,
        )
    )
    assert limited["/api/auth/register"] == "auth_register"
    assert limited["/api/auth/token"] == "auth_token"
    assert limited["/api/auth/token/refresh"] == "auth_token_refresh"
    assert limited["/api/auth/me"] == "auth_me"
    assert limited["/.well-known/jwks.json"] == "jwks"
    assert limited["/admin/login/"] == "admin_login"
    assert limited[r"^/admin(?:/.*)?$"] == "admin"


def test_no_client_address_is_believed_from_a_header_by_default(shop_plan):
    config = render(shop_plan, "0-monolith")
    assert "set_real_ip_from" not in config and "real_ip_header" not in config


def test_trusted_proxies_set_the_client_address_from_their_header(shop_plan):
    options = RenderOptions.from_env(
        {"PROXY_TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::/32,192.0.2.7"}
    )
    config = render(shop_plan, "0-monolith", options)
    assert "    set_real_ip_from 10.0.0.0/8;\n" in config
    assert "    set_real_ip_from 2001:db8::/32;\n" in config
    assert "    set_real_ip_from 192.0.2.7/32;\n" in config
    assert "    real_ip_header X-Forwarded-For;\n    real_ip_recursive on;\n" in config
    other = RenderOptions.from_env(
        {"PROXY_TRUSTED_PROXIES": "10.0.0.0/8", "PROXY_REAL_IP_HEADER": "X-Real-IP"}
    )
    assert "    real_ip_header X-Real-IP;\n" in render(shop_plan, "0-monolith", other)


@pytest.mark.parametrize(
    "env",
    [
        {"PROXY_TRUSTED_PROXIES": "10.0.0.1/8"},  # host bits set: a typo
        {"PROXY_TRUSTED_PROXIES": "10.0.0.0/33"},
        {"PROXY_TRUSTED_PROXIES": "lb.example.com"},
        {"PROXY_TRUSTED_PROXIES": "10.0.0.0/8; deny all"},
        {"PROXY_TRUSTED_PROXIES": "10.0.0.0/8", "PROXY_REAL_IP_HEADER": "X-A; deny all"},
    ],
)
def test_bad_trusted_proxies_are_refused(env):
    with pytest.raises(ProxyError):
        RenderOptions.from_env(env)


def test_fallback_groups_put_the_monolith_behind_the_extracted_backend(shop_plan):
    config = render(shop_plan, "4-catalog")
    group = re.search(r"upstream catalog__fallback__monolith \{(.*?)\}", config, re.S).group(1)
    assert "server 127.0.0.1:8002 max_fails=1" in group
    assert "server 127.0.0.1:8000 backup;" in group
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in config


@pytest.fixture
def instances_plan() -> Plan:
    return load_plan(SHOP_PLAN, env=INSTANCES)


def test_the_skeleton_of_a_plan_with_instances_is_its_golden_one(instances_plan):
    skeleton = render_parts(instances_plan, "0-monolith").skeleton
    assert skeleton == pinned(GOLDEN_INSTANCES, skeleton, "the skeleton with instances"), (
        f"{GOLDEN_INSTANCES.name} differs; if intended, run make proxy-golden"
    )


def upstream(config: str, name: str) -> list[str]:
    """The lines of upstream group `name`, stripped."""
    block = re.search(rf"upstream {name} \{{(.*?)\}}", config, re.S).group(1)
    return [line.strip() for line in block.strip().splitlines()]


def test_a_backends_instances_share_its_group_by_least_connections_and_are_ejected_when_failing(
    instances_plan,
):
    config = render(instances_plan, "4-catalog")
    assert upstream(config, "catalog") == [
        "zone strangler_upstream_catalog 64k;",
        "least_conn;",
        "server 127.0.0.1:8002 max_fails=1 fail_timeout=10s;",
        "server 127.0.0.1:8012 max_fails=1 fail_timeout=10s;",
        "keepalive 32;",
        "keepalive_timeout 20s;",
    ]
    assert upstream(config, "catalog__fallback__monolith")[2:6] == [
        "server 127.0.0.1:8002 max_fails=1 fail_timeout=10s;",
        "server 127.0.0.1:8012 max_fails=1 fail_timeout=10s;",
        "server 127.0.0.1:8000 backup;",
        "server 127.0.0.1:8010 backup;",
    ]
    assert '["catalog"] = { "127.0.0.1:8002", "127.0.0.1:8012" },' in config


def test_a_request_may_try_every_server_of_the_largest_group_once(shop_plan, instances_plan):
    assert "proxy_next_upstream_tries 2;" in render(shop_plan, "0-monolith")
    # The catalog's two instances, then the monolith's two as its fallback.
    assert "proxy_next_upstream_tries 4;" in render(instances_plan, "0-monolith")


def test_no_non_idempotent_request_is_passed_on_once_sent(shop_plan):
    retries = set(re.findall(r"proxy_next_upstream (.*);", render(shop_plan, "4-catalog")))
    assert retries == {"error timeout http_502 http_503 http_504"}  # no `non_idempotent`


def test_instances_change_the_structure_not_the_step_tables(shop_plan, instances_plan):
    for step in SHOP_STEPS:
        one, two = render_parts(shop_plan, step), render_parts(instances_plan, step)
        assert one.table == two.table
        assert one.structure_hash != two.structure_hash


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


def test_nginx_accepts_the_config_of_a_plan_with_instances(instances_plan, tmp_path):
    site = Site.from_env({"STRANGLER_ROOT": str(REPO_ROOT), "STRANGLER_VAR_DIR": str(tmp_path)})
    Nginx(site).test(render(instances_plan, "3-catalog-canary"))


# -- hardening -------------------------------------------------------------------------------


def listeners(config: str) -> dict[str, str]:
    """{listener name: its listen address}."""
    return {
        name: address
        for address, name in re.findall(
            r"listen (\S+);\n\s+set \$strangler_listener (\w+);", config
        )
    }


def test_the_internal_listener_has_its_own_host_whatever_the_public_one_says(shop_plan):
    public_everywhere = RenderOptions.from_env({"PROXY_HOST": "0.0.0.0"})
    config = render(shop_plan, "0-monolith", public_everywhere)
    assert listeners(config) == {"public": "0.0.0.0:8080", "internal": "127.0.0.1:8081"}
    assert public_everywhere.internal_url == "http://127.0.0.1:8081"
    opened = RenderOptions.from_env({"PROXY_HOST": "::", "PROXY_INTERNAL_HOST": "10.0.0.5"})
    config = render(shop_plan, "0-monolith", opened)
    assert listeners(config) == {"public": "[::]:8080", "internal": "10.0.0.5:8081"}
    assert opened.public_url == "http://[::1]:8080"


def test_every_answer_says_nosniff_and_no_location_drops_it(shop_plan):
    config = render(shop_plan, "5-orders")
    for name in ("public", "internal"):
        server = server_block(config, name)
        assert "add_header X-Content-Type-Options nosniff always;" in server
        assert "proxy_hide_header X-Content-Type-Options;" in server
    # add_header in a location replaces every add_header the location inherits.
    directives = re.findall(r"^\s*add_header (\S+)", config, re.M)
    assert directives == ["X-Request-ID", "X-Content-Type-Options"] * 2  # server level only
    assert "server_tokens off;" in config


def test_backends_get_the_host_from_the_host_header_never_the_clients_forwarded_host(shop_plan):
    config = render(shop_plan, "0-monolith")
    for name in ("public", "internal"):
        assert "proxy_set_header X-Forwarded-Host $strangler_host;" in server_block(config, name)


def test_raw_paths_with_encoded_or_dot_segments_are_refused_before_any_location(shop_plan):
    config = render(shop_plan, "0-monolith")
    match = re.search(r'if \(\$request_uri ~ "([^"]+)"\) \{\n[^}]*return 400 \'(.*)\\n\';', config)
    assert match, "no raw path check"
    pattern, body = re.compile(match.group(1)), json.loads(match.group(2))
    assert set(body) == {"detail"}
    refused = [
        "/%69nternal/x/%2e%2E/",
        "/internal%2Fx",
        "/a%2fb",
        "//internal/",
        "/./internal/",
        "/api/../internal/",
        "/api/..",
        "/api/.?x=1",
        "/api/..;/internal/",
        "/api/..x",
        "/api/%2E%2E/internal/",
    ]
    for path in refused:
        assert pattern.search(path), path
    served = [
        "/api/products?next=//x/../%2F",
        "/.well-known/jwks.json",
        "/api/.x",
        "/api/products",
        "/",
    ]
    for path in served:
        assert not pattern.search(path), path


def test_an_unsafe_backend_address_is_refused_even_if_the_plan_let_it_through(shop_plan):
    import dataclasses

    from strangler.proxy import ProxyError

    backends = dict(shop_plan.backends)
    backends["auth"] = dataclasses.replace(backends["auth"], address="x;include /etc/passwd:80")
    plan = dataclasses.replace(shop_plan, backends=backends)
    with pytest.raises(ProxyError, match="backend auth: unsafe address"):
        render(plan, "0-monolith")
