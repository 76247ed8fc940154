"""`strangle shadow-report` and the gate of the step after a shadow step, on real nginx in front
of echo backends: the primary asked twice, noise learned from its two answers, a real
difference reported with its field and an example, and `apply 3-catalog-canary` refused until
the report passes.

Every echo answer carries a fresh `answer_id` (noise: it differs between the primary's own
answers) and the name of the backend that gave it (a real difference: monolith vs catalog)."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from strangler.gates.verdict import Verdicts
from strangler.proxy.control import Controller
from tests.migration.harness import EchoBackend, RunningProxy, proxy_at, shop_plan_gated
from tests.migration.test_cli import assert_one_line_error, strangle

pytestmark = pytest.mark.integration

READS = {
    "categories": "/api/categories?n={n}",
    "products": "/api/products?page={n}",
    "product": "/api/products/{n}",
}
# The report's thresholds these tests are written for, not the shop plan's own (sized for its
# real traffic): at most 1% of a route's answers differing, of at least 10 compared in all.
GATE = {"max_differing_rate": 0.01, "min_compared": 10, "noise_min_share": 0.1}
PER_ROUTE = 10  # GATE's min_compared: each route is judged alone
SETTLE_TIMEOUT = 20.0


def mirror_reads(proxy: RunningProxy, *, per_route: int = PER_ROUTE) -> dict:
    """Read every catalog route through the proxy; the shadow log once every copy landed."""
    with httpx.Client(base_url=proxy.public_url) as client:
        for n in range(1, per_route + 1):
            for path in READS.values():
                response = client.get(path.format(n=n))
                assert response.status_code == 200
                assert response.headers["X-Served-By"] == "monolith"
    expected = per_route * len(READS)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        log = proxy.controller.admin().shadow_log(limit=10_000)
        complete = [e for e in log["entries"] if e["primary"] and e["shadow"] and e["secondary"]]
        if len(complete) >= expected or time.monotonic() > deadline:
            assert len(complete) == expected, log
            return log
        time.sleep(0.1)


def report(proxy: RunningProxy, *args: str):
    result = strangle("shadow-report", *args, env=proxy.env)
    return result, result.stdout


@contextlib.contextmanager
def shadowing_gated(
    tmp_path: Path, backends: Mapping[str, EchoBackend], gate: Mapping[str, Any]
) -> Iterator[RunningProxy]:
    """The shop's plan with `gate` as its gates.shadow, at the shadow step."""
    plan = shop_plan_gated(tmp_path, shadow=gate)
    with proxy_at(tmp_path / "var", backends, "2-catalog-shadow", plan_path=plan) as running:
        yield running


@pytest.fixture
def shadowing(tmp_path, echo_backends):
    with shadowing_gated(tmp_path, echo_backends, GATE) as running:
        yield running


@pytest.fixture
def shadowing_ignoring_backend(tmp_path, echo_backends):
    """Told to ignore the field in which the echo backends really differ."""
    ignore = {route: ["backend"] for route in READS}
    with shadowing_gated(tmp_path, echo_backends, {**GATE, "ignore": ignore}) as running:
        yield running


def test_the_primary_is_asked_again_after_the_shadow_and_both_its_answers_are_logged(
    shadowing, echo_backends
):
    log = mirror_reads(shadowing, per_route=1)
    entry = next(e for e in log["entries"] if e["primary"]["route"] == "products")
    primary = json.loads(entry["primary"]["body"])
    secondary = json.loads(entry["secondary"]["body"])
    assert entry["secondary"]["backend"] == "monolith" and entry["secondary"]["status"] == 200
    assert secondary["path"] == primary["path"] == "/api/products?page=1"
    assert secondary["answer_id"] != primary["answer_id"]
    asked = [s for s in echo_backends["monolith"].seen if s["request_id"] == entry["request_id"]]
    assert [s["method"] for s in asked] == ["GET", "GET"]


def test_a_real_difference_fails_the_report_with_its_field_and_an_example_and_noise_is_left_out(
    shadowing,
):
    mirror_reads(shadowing)
    result, out = report(shadowing, "--json")
    assert_one_line_error(result, "the shadow report of step 2-catalog-shadow fails")
    data = json.loads(out)
    assert {"routes", "threshold", "passed"} <= set(data)
    assert (data["threshold"], data["min_compared"], data["passed"]) == (0.01, 10, False)
    assert data["compared"] == 3 * PER_ROUTE
    assert [r["route"] for r in data["routes"]] == list(READS)
    for route in data["routes"]:
        assert {"route", "compared", "differing", "top_fields"} <= set(route)
        assert (route["compared"], route["differing"], route["differing_rate"]) == (10, 10, 1.0)
        # answer_id differs in every answer, the primary's two included: noise, not compared.
        assert [(n["field"], n["noisy"], n["seen"]) for n in route["noise"]] == [
            ("answer_id", 10, 10)
        ]
        (top,) = route["top_fields"]
        assert (top["field"], top["differing"]) == ("backend", 10)
        example = top["example"]
        assert (example["primary"], example["shadow"], example["path"]) == (
            "monolith",
            "catalog",
            "backend",
        )
        assert example["method"] == "GET" and example["uri"].startswith("/api/")

    result, out = report(shadowing, "--route", "products")
    assert result.returncode == 1
    assert "products" in out and "categories" not in out
    assert "backend: 10 differ; e.g. GET /api/products?page=1" in out
    assert '"monolith" (primary) vs "catalog" (shadow)' in out
    assert "noise, the primary differing from itself: answer_id (10 of 10)" in out

    # After a fix in the shadow backend, the old answers can be dropped and judged afresh.
    cleared = strangle("shadow", "--clear", env=shadowing.env)
    assert cleared.stdout.splitlines()[:2] == [
        "shadow log cleared",
        "0 entries shown, 0 in flight, 0 dropped",
    ]
    result, out = report(shadowing, "--json")
    assert_one_line_error(
        result,
        "the shadow report of step 2-catalog-shadow fails: only 0 answers compared in all, "
        "fewer than 10 (gates.shadow.min_compared)",
    )
    data = json.loads(out)
    assert (data["compared"], data["passed"]) == (0, False)
    assert {(r["compared"], r["passed"], r["reason"]) for r in data["routes"]} == {
        (0, True, "only 0 compared, fewer than 10: not judged")
    }


def test_apply_of_the_canary_is_refused_while_the_shadow_report_fails(shadowing):
    mirror_reads(shadowing)
    result = strangle("apply", "3-catalog-canary", env=shadowing.env)
    assert_one_line_error(
        result,
        "3-catalog-canary cannot flip, nothing was changed: ",
        "shadow: the shadow report of step 2-catalog-shadow fails: "
        "categories: 10 of 10 differ (100.0%, over 1.0%, most in backend)",
    )
    assert shadowing.controller.admin().live().step == "2-catalog-shadow"
    assert shadowing.controller.state().step == "2-catalog-shadow"
    # Going back is never held: the primary keeps the routes.
    gated = Controller(shadowing.site, gate=Verdicts(shadowing.site, only=("shadow",)))
    assert gated.rollback().step == "0-monolith"


def test_the_report_passes_once_only_noise_and_ignored_fields_differ_and_the_canary_applies(
    shadowing_ignoring_backend,
):
    proxy = shadowing_ignoring_backend
    result, out = report(proxy, "--json")
    assert result.returncode == 1  # nothing compared yet
    assert {r["reason"] for r in json.loads(out)["routes"]} == {
        "only 0 compared, fewer than 10: not judged"
    }
    result, out = report(proxy)
    assert result.returncode == 1
    # Not judged is not "pass".
    assert re.search(
        r"^  categories +0 +0 +- +only 0 compared, fewer than 10: not judged$", out, re.M
    )
    refused = strangle("apply", "3-catalog-canary", env=proxy.env)
    assert_one_line_error(
        refused,
        "shadow: the shadow report of step 2-catalog-shadow fails: "
        "only 0 answers compared in all, fewer than 10 (gates.shadow.min_compared) "
        "(`strangle shadow-report` shows why)",
    )

    mirror_reads(proxy)
    result, out = report(proxy, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(out)
    assert data["passed"] is True
    for route in data["routes"]:
        assert (route["compared"], route["differing"], route["top_fields"]) == (10, 0, [])
        assert (route["passed"], route["reason"]) == (True, "")
        assert route["ignored"] == ["backend"]
        assert [n["field"] for n in route["noise"]] == ["answer_id"]
    result, out = report(proxy)
    assert result.returncode == 0
    assert out.startswith(
        "Shadow report of step 2-catalog-shadow: at most 1.0% differing per route, of at least "
        "10 compared in all (30 compared)\n"
    )
    assert out.rstrip().endswith("the shadow report of step 2-catalog-shadow passes")

    # The shadow gate passes now (echo backends answer no sync status: the gate judged alone).
    status = json.loads(strangle("status", "--json", env=proxy.env).stdout)
    assert [c for c in status["next"]["checks"] if c["gate"] == "shadow"] == [
        {
            "gate": "shadow",
            "ok": True,
            "detail": "the shadow report of step 2-catalog-shadow passes",
        }
    ]
    gated = Controller(proxy.site, gate=Verdicts(proxy.site, only=("shadow",)))
    assert gated.apply("3-catalog-canary").step == "3-catalog-canary"
    assert proxy.controller.admin().live().step == "3-catalog-canary"


def test_there_is_no_report_of_a_step_or_a_route_without_a_shadow(proxy):
    assert_one_line_error(
        strangle("shadow-report", env=proxy.env),
        "step 0-monolith shadows no route: there is nothing to compare",
    )
    proxy.controller.apply("2-catalog-shadow", gated=False)
    assert_one_line_error(
        strangle("shadow-report", "--route", "cart", env=proxy.env),
        "step 2-catalog-shadow does not shadow cart (it shadows categories, products, product)",
    )
