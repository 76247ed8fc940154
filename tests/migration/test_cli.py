"""`strangle ...` as an operator runs it, through `./manage.py strangle` and through the
console script (`python -m strangler.cli`, no Django settings): output, JSON, exit codes,
one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.migration.harness import REPO_ROOT, SHOP_PLAN, free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    """A private var/ and ports nothing listens on: no nginx, no backends."""
    dead = f"http://127.0.0.1:{free_port()}"
    values = {
        "STRANGLER_ROOT": str(REPO_ROOT),
        "STRANGLER_VAR_DIR": str(tmp_path / "var"),
        "PROXY_PORT": str(free_port()),
        "PROXY_INTERNAL_PORT": str(free_port()),
        "MONOLITH_URL": dead,
        "AUTH_URL": dead,
        "CATALOG_URL": dead,
        "ORDERS_URL": dead,
    }
    return values


def strangle(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`./manage.py strangle ARGS`: the monolith's settings."""
    return _run([sys.executable, str(REPO_ROOT / "manage.py"), "strangle", *args], env)


def script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The console script from the repository's root, without DJANGO_SETTINGS_MODULE."""
    return _run([sys.executable, "-m", "strangler.cli", *args], env, settings=False)


def _run(
    command: list[str], env: dict[str, str], *, settings: bool = True
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **env}
    if not settings:
        environ.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip() and '"logger"' not in line]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def test_an_unknown_step_is_one_line_on_stderr(env):
    result = strangle("apply", "9-nope", env=env)
    assert_one_line_error(result, "unknown step '9-nope'", "0-monolith")


def test_a_broken_plan_names_the_file_the_step_and_the_key(env, tmp_path):
    broken = tmp_path / "plan.yaml"
    broken.write_text(SHOP_PLAN.read_text().replace("catalog: 10}", "catalog: 20}", 1))
    result = strangle("status", env={**env, "STRANGLER_PLAN": str(broken)})
    assert_one_line_error(
        result, "plan.yaml", "step '3-catalog-canary'", "routes.categories.split", "sum to 110"
    )


def test_apply_refuses_unhealthy_backends_and_records_nothing(env, tmp_path):
    result = strangle("apply", "1-auth", env=env)
    assert_one_line_error(
        result, "1-auth cannot flip, nothing was changed: ", "health: auth at http://127.0.0.1"
    )
    assert not (tmp_path / "var" / "strangler" / "state.json").exists()


def test_up_prepares_the_first_step_before_nginx_runs(env, tmp_path):
    result = strangle("up", env=env)
    assert result.returncode == 0, result.stderr
    assert "step 0-monolith" in result.stdout
    assert "nginx is not running" in result.stdout
    config = (tmp_path / "var" / "nginx" / "conf" / "nginx.conf").read_text()
    assert f"listen 127.0.0.1:{env['PROXY_PORT']};" in config
    state = json.loads((tmp_path / "var" / "strangler" / "state.json").read_text())
    assert state["step"] == "0-monolith"
    status = strangle("status", env=env)
    assert status.returncode == 0, status.stderr
    assert "Step 0-monolith (1 of 6)" in status.stdout
    assert "Proxy: not running" in status.stdout
    assert "DOWN" in status.stdout
    assert "order-pay" in status.stdout


def test_status_json_is_one_object_led_by_the_next_steps_verdict(env):
    result = strangle("status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    data = json.loads(line)
    assert {"next", "step", "backends", "owners", "sync_lag"} <= set(data)
    verdict = data["next"]
    assert (verdict["step"], verdict["can_flip"]) == ("1-auth", False)
    gates = {reason.split(":")[0] for reason in verdict["reasons"]}
    assert {"health", "backfill", "sync-lag"} <= gates
    # The shop's plan does not require a contract run before a flip: a note, not a reason.
    (contract,) = [c for c in verdict["checks"] if c["gate"] == "contract"]
    assert contract["ok"] and "not required" in contract["detail"]
    assert verdict["reasons"] == [
        f"{c['gate']}: {c['detail']}" for c in verdict["checks"] if not c["ok"]
    ]
    plain = strangle("status", env=env).stdout.splitlines()
    assert plain[0] == f"Next step 1-auth: CANNOT FLIP ({len(verdict['reasons'])} reasons)"
    assert plain[1].startswith("  - health: ")


def test_diff_shows_what_a_step_would_change(env):
    result = strangle("diff", "4-catalog", env=env)
    assert result.returncode == 0, result.stderr
    assert "0-monolith -> 4-catalog:" in result.stdout
    assert "owner of catalog: monolith -> catalog" in result.stdout
    assert "route products-create: monolith -> catalog" in result.stdout
    assert "newly needed backends (must be healthy): auth, catalog" in result.stdout
    assert "reviews" not in result.stdout


def test_dry_run_prints_the_config_and_touches_nothing(env, tmp_path):
    result = strangle("apply", "2-catalog-shadow", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "step 2-catalog-shadow" in result.stdout
    assert "mirror /__strangler/mirror;" in result.stdout
    assert not (tmp_path / "var" / "strangler" / "state.json").exists()
    assert not (tmp_path / "var" / "nginx" / "conf" / "nginx.conf").exists()


def test_render_prints_the_step_with_this_machines_listeners_and_writes_no_golden_file(env):
    result = strangle("render", "3-catalog-canary", env=env)
    assert result.returncode == 0, result.stderr
    assert "step 3-catalog-canary" in result.stdout
    assert f"listen 127.0.0.1:{env['PROXY_PORT']};" in result.stdout
    # Golden files are the tests' business (STRANGLER_UPDATE_GOLDEN=1), not an operator's.
    refused = strangle("render", "3-catalog-canary", "--golden", env=env)
    assert refused.returncode == 2
    assert "unrecognized arguments: --golden" in refused.stderr


def test_routes_lists_every_endpoint_with_its_route_and_the_moved_share(env):
    result = strangle("routes", env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "/api/products/<id:product_id>/reviews" in out
    assert "/api/orders/<id:order_id>/pay" in out
    assert "order-pay" in out
    assert "NO ROUTE" not in out
    assert "Moved out of the monolith: 0 of" in out


def test_verify_against_a_dead_proxy_fails_with_a_one_line_verdict(env):
    dead = f"http://127.0.0.1:{free_port()}"
    result = strangle("verify", "--base-url", dead, "--exitfirst", env=env)
    line = assert_one_line_error(result, "FAIL: contract suite at step", "failed")
    assert "first failure: tests/contract/" in line


# -- --json ------------------------------------------------------------------------------------


def test_status_json_is_one_object_with_stable_keys(env):
    assert strangle("up", env=env).returncode == 0
    result = script("status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {
        "next",
        "step",
        "proxy",
        "backends",
        "owners",
        "ownership",
        "sync_lag",
        "traffic",
        "routes",
        "canary",
    }
    assert data["step"] == {
        "id": "0-monolith",
        "number": 1,
        "of": 6,
        "title": data["step"]["title"],
        "recorded": True,
    }
    assert data["proxy"]["running"] is False and data["proxy"]["live"] is None
    assert {b["backend"] for b in data["backends"]} == {"monolith", "auth", "catalog", "orders"}
    assert not any(b["healthy"] for b in data["backends"])
    assert data["owners"]["auth"] == "monolith"
    assert all(lag["error"] for lag in data["sync_lag"])
    pay = next(route for route in data["routes"] if route["route"] == "order-pay")
    assert pay["methods"] == ["POST"] and pay["served_by"] == "monolith"
    assert pay["traffic"] is None and pay["via"] == {} and pay["split"] == []
    assert data["canary"] is None  # step 0 splits nothing


def test_diff_json_lists_the_changes_and_the_newly_needed_backends(env):
    result = strangle("diff", "4-catalog", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"from", "to", "changes", "newly_needed"}
    assert (data["from"], data["to"]) == ("0-monolith", "4-catalog")
    assert "owner of catalog: monolith -> catalog" in data["changes"]
    assert "route products-create: monolith -> catalog" in data["changes"]
    assert data["newly_needed"] == ["auth", "catalog"]
    # The console script prints the same object.
    assert json.loads(script("diff", "4-catalog", "--json", env=env).stdout) == data


def test_routes_json_has_the_inventory_the_flags_and_the_moved_share(env):
    result = strangle("routes", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"step", "plan", "endpoints", "flags", "moved"}
    assert data["step"] == "0-monolith"
    pay = next(e for e in data["endpoints"] if e["endpoint"] == "/api/orders/<id:order_id>/pay")
    assert pay["routes"] == [{"route": "order-pay", "methods": ["POST"], "served_by": "monolith"}]
    assert pay["unrouted"] is None
    assert all(isinstance(flag, str) for flag in data["flags"])
    moved = data["moved"]
    assert moved["origin"] == "monolith" and moved["moved"] == 0 and moved["total"] > 0


# -- the console script --------------------------------------------------------------------------


def test_the_console_script_runs_from_the_root_without_django_settings(env, tmp_path):
    result = script("up", env=env)
    assert result.returncode == 0, result.stderr
    assert "step 0-monolith" in result.stdout
    assert (tmp_path / "var" / "nginx" / "conf" / "nginx.conf").exists()
    status = script("status", env=env)
    assert status.returncode == 0, status.stderr
    assert "Step 0-monolith (1 of 6)" in status.stdout


def test_the_console_script_fails_in_one_line_and_shows_the_traceback_on_request(env):
    result = script("apply", "9-nope", env=env)
    assert result.returncode == 1
    line = assert_one_line_error(result, "unknown step '9-nope'", "0-monolith")
    assert line.startswith("strangle: ")
    traced = script("--traceback", "apply", "9-nope", env=env)
    assert traced.returncode != 0
    assert "Traceback" in traced.stderr
    assert "ProxyError: unknown step '9-nope'" in traced.stderr


def test_routes_without_the_projects_settings_says_how_to_run_it(env):
    result = script("routes", env=env)
    line = assert_one_line_error(result, "DJANGO_SETTINGS_MODULE", "./manage.py strangle routes")
    assert line.startswith("strangle: ")
    with_settings = script(
        "--settings", "shop.settings", "--pythonpath", "monolith", "routes", env=env
    )
    assert with_settings.returncode == 0, with_settings.stderr
    assert "Moved out of the monolith: 0 of" in with_settings.stdout
