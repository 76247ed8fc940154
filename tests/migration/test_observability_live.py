"""Metrics and traces on a running shop (the monolith and the auth service, each with its
gunicorn workers, sync consumers and relay, behind real nginx): a write synced from one backend
to the other shows on both backends' /metrics, whichever process counted it; the proxy counts
the request on its internal listener only; and a traceparent sent to the proxy is on the
backend's log line of the request."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.write_load import PASSWORD
from tests.migration.auth_shop import Shop, running_shop

pytestmark = pytest.mark.integration

DEADLINE = 30.0
TRACE_ID = uuid.uuid4().hex
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    yield from running_shop(Path(tmp_path_factory.mktemp("observed-shop")))


@pytest.fixture(scope="module")
def registered(shop: Shop) -> int:
    """A user registered through the proxy (the monolith owns auth at 0-monolith), with a
    traceparent; the auth service's consumers apply its event."""
    with httpx.Client(base_url=shop.public_url, timeout=10) as client:
        answer = client.post(
            "/api/auth/register",
            json={
                "email": f"seen-{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
                "name": "Seen",
            },
            headers={"traceparent": TRACEPARENT},
        )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(url, timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def eventually(check, what: str):
    deadline = time.monotonic() + DEADLINE
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"not within {DEADLINE:g} s: {what}"
        time.sleep(0.3)


def test_a_synced_write_shows_on_both_backends_metrics(shop, registered):
    applied = ("strangler_sync_events_total", (("aggregate", "user"), ("outcome", "applied")))
    # Counted by a sync consumer (a Celery process), served by a gunicorn worker.
    copy = eventually(
        lambda: (figures := scrape(f"{shop.auth_url}/metrics")).get(applied, 0) >= 1 and figures,
        "the auth service's /metrics counts the applied event",
    )
    assert copy[("strangler_sync_lag_seconds_count", (("aggregate", "user"),))] >= 1
    assert ("strangler_sync_lag_seconds_bucket", (("aggregate", "user"), ("le", "+Inf"))) in copy
    owner = scrape(f"{shop.monolith_url}/metrics")
    assert ("strangler_outbox_pending", (("aggregate", "user"),)) in owner
    assert owner[("django_http_requests_total_by_method_total", (("method", "POST"),))] >= 1


def test_the_proxy_counts_the_write_on_its_internal_listener_only(shop, registered):
    # The shop's proxy: its internal listener is in the CLI's environment.
    internal = f"http://127.0.0.1:{shop.cli_env['PROXY_INTERNAL_PORT']}"
    figures = scrape(f"{internal}/__strangler/metrics")
    counted = {
        dict(labels)["backend"]: value
        for (name, labels), value in figures.items()
        if name == "strangler_requests_total" and dict(labels)["route"] == "auth-register"
    }
    assert counted.get("monolith", 0) >= 1
    public = httpx.get(f"{shop.public_url}/__strangler/metrics", timeout=10)
    assert public.status_code == 404
    assert "strangler_requests_total" not in public.text


def test_a_traceparent_sent_to_the_proxy_is_on_the_backends_log_line(shop, registered):
    def logged() -> list[dict]:
        lines = shop.monolith.log_path.read_text(errors="replace").splitlines()
        return [
            entry
            for entry in (json.loads(line) for line in lines if line.startswith("{"))
            if entry.get("trace_id") == TRACE_ID
        ]

    lines = eventually(logged, "the monolith logs the request with the trace id")
    assert any(
        line["logger"] == "strangler.access" and line["path"] == "/api/auth/register"
        for line in lines
    )
