"""The Prometheus scrape configuration and the Grafana dashboard: every metric the dashboard
queries is one the proxy or a backend exports, and Prometheus scrapes every backend of the plan
and the proxy's internal listener where they serve them."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from strangler.plan import load_plan
from strangler.sync.consumer import Event, apply_events
from tests.migration.harness import SHOP_PLAN, RunningProxy, echo_backends, proxy_at

REPO_ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "strangler-dashboard.json"
PROMETHEUS = REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml"
# PromQL words that look like metric names.
NOT_METRICS = {"sum", "by", "rate", "histogram_quantile"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def queries(dashboard: dict) -> list[str]:
    """Every panel's query, and the metric each label_values() variable reads."""
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            exprs += re.findall(r"label_values\((\w+)", variable["query"]["query"])
    return exprs


def metric_names(expr: str) -> set[str]:
    """Names in a query outside label matchers, strings and range selectors."""
    bare = re.sub(r'\{[^}]*\}|\[[^\]]*\]|"[^"]*"|\bby \([^)]*\)', " ", expr)
    return {
        word
        for word in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare)
        if word not in NOT_METRICS and not word.startswith("__")
    }


def exported(text: str) -> set[str]:
    """Every sample name an exposition can carry, a histogram's suffixed ones included."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "histogram":
            names.update(family.name + suffix for suffix in HISTOGRAM_SUFFIXES)
        if family.type == "counter":
            names.add(family.name + "_total")
    return names


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    with (
        echo_backends() as echo,
        proxy_at(tmp_path_factory.mktemp("proxy") / "var", echo, "3-catalog-canary") as running,
    ):
        yield running


@pytest.mark.integration
@pytest.mark.django_db
def test_every_metric_the_dashboard_queries_is_exported(proxy, client):
    dashboard = json.loads(DASHBOARD.read_text())
    asked = set().union(*(metric_names(expr) for expr in queries(dashboard)))
    assert {"strangler_requests_total", "strangler_outbox_pending"} <= asked
    # A request through the proxy, an event applied on a backend: every series has samples.
    httpx.get(f"{proxy.public_url}/api/products")
    apply_events(
        [
            Event(
                event_id=str(uuid.uuid4()),
                source="auth",
                aggregate_type="user",
                aggregate_id="7001",
                version=1,
                payload={
                    "email": "u7001@example.com",
                    "name": "U",
                    "password": "x$1$s$h",
                    "is_staff": False,
                    "is_superuser": False,
                    "is_active": True,
                    "date_joined": "2026-01-02T03:04:05Z",
                },
                deleted=False,
                created_at=timezone.now(),
            )
        ]
    )
    served = exported(httpx.get(f"{proxy.internal_url}/__strangler/metrics").text)
    served |= exported(client.get("/metrics").content.decode())
    assert asked - served == set()


def test_prometheus_scrapes_every_backend_of_the_plan_and_the_proxys_internal_listener():
    config = yaml.safe_load(PROMETHEUS.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    backends = {
        group["labels"]["backend"]: group["targets"] for group in jobs["backends"]["static_configs"]
    }
    plan = load_plan(SHOP_PLAN, env={})
    assert backends == {name: [b.address] for name, b in plan.backends.items()}
    assert jobs["backends"]["metrics_path"] == "/metrics"
    assert jobs["proxy"]["metrics_path"] == "/__strangler/metrics"
    assert jobs["proxy"]["static_configs"] == [{"targets": ["127.0.0.1:8081"]}]
