"""`./manage.py strangle ...` as an operator runs it: output, exit codes, one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.migration.harness import REPO_ROOT, SHOP_PLAN, free_port

pytestmark = pytest.mark.integration

GOLDEN = REPO_ROOT / "tests" / "migration" / "golden"


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
    import os

    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), "strangle", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
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
    assert_one_line_error(result, "not healthy, nothing was changed", "auth at http://127.0.0.1")
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


def test_render_golden_writes_exactly_the_pinned_golden_file(env, tmp_path):
    root = tmp_path / "root"
    (root / "migration-plan").mkdir(parents=True)
    shutil.copy(SHOP_PLAN, root / "migration-plan" / "plan.yaml")
    # The environment's URLs and ports must not leak into golden files.
    result = strangle(
        "render", "3-catalog-canary", "--golden", env={**env, "STRANGLER_ROOT": str(root)}
    )
    assert result.returncode == 0, result.stderr
    written = root / "tests" / "migration" / "golden" / "3-catalog-canary.conf"
    assert written.read_text() == (GOLDEN / "3-catalog-canary.conf").read_text()


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
