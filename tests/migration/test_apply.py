"""apply / rollback / up against real nginx: every failed check leaves the running step alone."""

import fcntl
import json
import re
import shutil

import httpx
import pytest

from strangler.proxy import ProxyError
from strangler.proxy.admin import AdminClient
from strangler.proxy.control import Controller
from strangler.proxy.site import Site
from tests.migration.harness import SHOP_PLAN, RunningProxy

pytestmark = pytest.mark.integration


def served_by(proxy: RunningProxy, path: str) -> str:
    return httpx.get(f"{proxy.public_url}{path}").headers["X-Served-By"]


def unchanged(proxy: RunningProxy, *, step: str, config: str) -> None:
    live = proxy.controller.admin().live()
    assert live.step == step
    assert proxy.site.conf_path.read_text() == config
    assert proxy.controller.state().step == step


@pytest.fixture
def own_plan(tmp_path, echo_backends):
    """A proxy on a copy of the shop's plan that the test may edit."""
    plan = tmp_path / "plan.yaml"
    shutil.copy(SHOP_PLAN, plan)
    urls = {name: backend.url for name, backend in echo_backends.items()}
    with RunningProxy(
        tmp_path / "var", backends=urls, plan_path=plan, gates=("health",)
    ) as running:
        yield running, plan


def test_apply_flips_the_running_proxy_without_a_reload_and_records_it(proxy):
    pid = proxy.controller.nginx.pid()
    assert served_by(proxy, "/api/auth/me") == "monolith"
    outcome = proxy.controller.apply("1-auth")
    assert outcome.mode == "push"
    assert served_by(proxy, "/api/auth/me") == "auth"
    assert served_by(proxy, "/api/products") == "monolith"
    assert proxy.controller.nginx.pid() == pid
    state = json.loads(proxy.site.state_path.read_text())
    assert state["step"] == "1-auth"
    assert state["stack"] == ["0-monolith"]
    assert [(h["action"], h["from"], h["to"]) for h in state["history"]] == [
        ("up", None, "0-monolith"),
        ("apply", "0-monolith", "1-auth"),
    ]
    installed = proxy.controller.installed()
    live = proxy.controller.admin().live()
    assert installed is not None and installed.live == live
    assert (live.step, live.table) == ("1-auth", outcome.rendered.table.hash)
    record = json.loads((proxy.site.state_dir / "live.json").read_text())
    assert record["table"] == outcome.rendered.table.data
    assert f"[==[{outcome.rendered.table.text}]==]" in proxy.site.conf_path.read_text()


def test_rollback_returns_to_the_step_before_the_last_apply(proxy):
    proxy.controller.apply("1-auth")
    proxy.controller.apply("4-catalog")
    assert served_by(proxy, "/api/products") == "catalog"
    assert proxy.controller.rollback().step == "1-auth"
    assert served_by(proxy, "/api/products") == "monolith"
    assert served_by(proxy, "/api/auth/me") == "auth"
    assert proxy.controller.rollback().step == "0-monolith"
    assert served_by(proxy, "/api/auth/me") == "monolith"
    with pytest.raises(ProxyError, match="nothing to roll back to"):
        proxy.controller.rollback()


def test_an_unhealthy_backend_refuses_the_apply_and_nothing_changes(proxy, echo_backends):
    config = proxy.site.conf_path.read_text()
    echo_backends["catalog"].healthy = False
    with pytest.raises(
        ProxyError, match=r"^4-catalog cannot flip, nothing was changed: health: catalog at .*503"
    ):
        proxy.controller.apply("4-catalog")
    unchanged(proxy, step="0-monolith", config=config)
    assert served_by(proxy, "/api/products") == "monolith"


def test_a_dead_backend_refuses_the_apply(proxy, echo_backends):
    config = proxy.site.conf_path.read_text()
    echo_backends["auth"].stop()
    with pytest.raises(ProxyError, match=re.escape("health: auth at http://127.0.0.1")):
        proxy.controller.apply("1-auth")
    unchanged(proxy, step="0-monolith", config=config)


def test_a_broken_plan_refuses_the_apply_and_nothing_changes(own_plan):
    proxy, plan = own_plan
    config = proxy.site.conf_path.read_text()
    plan.write_text(plan.read_text().replace("{monolith: 90, catalog: 10}", "{monolith: 90}", 1))
    with pytest.raises(ProxyError, match=r"plan is invalid: .*step '3-catalog-canary'.*split"):
        proxy.controller.apply("1-auth")
    unchanged(proxy, step="0-monolith", config=config)


def test_a_config_nginx_rejects_refuses_the_apply(proxy):
    config = proxy.site.conf_path.read_text()
    env = {**proxy.env, "CATALOG_URL": "http://no-such-host.invalid:8002"}
    controller = Controller(Site.from_env(env))
    with pytest.raises(ProxyError, match=r"nginx -t rejected the config: .*no-such-host\.invalid"):
        controller.apply("4-catalog")
    unchanged(proxy, step="0-monolith", config=config)


def test_a_step_that_does_not_go_live_is_undone(proxy):
    config = proxy.site.conf_path.read_text()
    controller = Controller(proxy.site)
    admin = controller.admin()
    # The probe answers, the push is refused: the new config is already in place by then.
    wrong = AdminClient(admin.base_url, token="not-the-token-nginx-loaded")
    admin.push = wrong.push
    with pytest.raises(
        ProxyError, match=r"refused the step table \(403\).*previous config was restored"
    ):
        controller.apply("1-auth")
    unchanged(proxy, step="0-monolith", config=config)
    assert served_by(proxy, "/api/auth/me") == "monolith"


def test_a_token_the_running_nginx_did_not_load_refuses_the_apply_before_any_change(proxy):
    config = proxy.site.conf_path.read_text()
    proxy.site.token_path.write_text("not-the-token-nginx-loaded\n")
    controller = Controller(proxy.site)
    with pytest.raises(ProxyError, match=r"/__strangler/step refused the admin token"):
        controller.apply("1-auth")
    unchanged(proxy, step="0-monolith", config=config)


def test_a_record_left_from_another_config_is_not_trusted(proxy):
    assert proxy.controller.installed() is not None
    proxy.site.conf_path.write_text(proxy.site.conf_path.read_text() + "# edited by hand\n")
    assert proxy.controller.installed() is None
    assert proxy.controller.apply("1-auth").mode == "push"
    assert proxy.controller.installed().live.step == "1-auth"


def test_a_changed_structure_is_applied_with_a_graceful_reload(own_plan):
    proxy, plan = own_plan
    plan.write_text(plan.read_text().replace("connect_timeout: 1s", "connect_timeout: 2s"))
    outcome = proxy.controller.apply("1-auth")
    assert outcome.mode == "reload"
    assert "proxy_connect_timeout 2s;" in proxy.site.conf_path.read_text()
    assert served_by(proxy, "/api/auth/me") == "auth"
    assert proxy.controller.apply("0-monolith").mode == "push"


def test_applying_the_live_step_again_changes_nothing(proxy):
    proxy.controller.apply("1-auth")
    assert proxy.controller.apply("1-auth").mode == "unchanged"
    assert proxy.controller.state().stack == ["0-monolith"]


def test_dry_run_prints_the_config_and_changes_nothing(proxy):
    config = proxy.site.conf_path.read_text()
    rendered = proxy.controller.dry_run("5-orders")
    assert "step 5-orders" in rendered.config
    unchanged(proxy, step="0-monolith", config=config)


def test_only_one_apply_runs_at_a_time(proxy):
    with open(proxy.site.state_dir / "apply.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ProxyError, match="another strangle"):
            proxy.controller.apply("1-auth")


class Refuse:
    def before_flip(self, *, plan, current, target):
        raise RuntimeError(f"parity for {target.id} is not clean")

    def after_flip(self, *, plan, current, target):
        raise AssertionError("never reached")

    def flip_abandoned(self, *, plan, current, target):
        raise AssertionError("never reached: the flip never started")


class BreakAfter:
    calls: list[str]

    def __init__(self):
        self.calls = []

    def before_flip(self, *, plan, current, target):
        self.calls.append(f"before {current.id}->{target.id}")

    def after_flip(self, *, plan, current, target):
        self.calls.append(f"after {current.id}->{target.id}")
        raise RuntimeError("ownership switch failed")

    def flip_abandoned(self, *, plan, current, target):
        self.calls.append(f"abandoned {current.id}->{target.id}")


def test_a_refusing_flip_hook_stops_the_apply(proxy):
    config = proxy.site.conf_path.read_text()
    controller = Controller(proxy.site, hooks=(Refuse(),))
    with pytest.raises(
        ProxyError, match=re.escape("Refuse.before_flip refused: parity for 1-auth")
    ):
        controller.apply("1-auth")
    unchanged(proxy, step="0-monolith", config=config)


def test_a_failing_after_flip_hook_puts_the_previous_step_back(proxy):
    config = proxy.site.conf_path.read_text()
    hook = BreakAfter()
    controller = Controller(proxy.site, hooks=(hook,))
    with pytest.raises(ProxyError, match=r"ownership switch failed.*previous config was restored"):
        controller.apply("1-auth")
    assert hook.calls == [
        "before 0-monolith->1-auth",
        "after 0-monolith->1-auth",
        "abandoned 0-monolith->1-auth",
    ]
    unchanged(proxy, step="0-monolith", config=config)
    assert served_by(proxy, "/api/auth/me") == "monolith"
