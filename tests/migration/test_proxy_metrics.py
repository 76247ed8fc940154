"""The proxy's metrics and trace context on real nginx in front of echo backends: requests
counted per route, answering backend, status and split choice on the internal listener's
/__strangler/metrics (whole or over a window of minutes), never on the public listener; and
the W3C traceparent passed on to the backend, or made when the client sent none."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.migration.harness import EchoBackend, RunningProxy, echo_backends, proxy_at

pytestmark = pytest.mark.integration

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-01$")


@pytest.fixture(scope="module")
def echo() -> Iterator[dict[str, EchoBackend]]:
    with echo_backends() as backends:
        yield backends


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, echo) -> Iterator[RunningProxy]:
    with proxy_at(tmp_path_factory.mktemp("proxy") / "var", echo, "3-catalog-canary") as running:
        yield running


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(proxy: RunningProxy, query: str = "") -> dict:
    answer = httpx.get(f"{proxy.internal_url}/__strangler/metrics{query}", timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return samples(answer.text)


def requests_of(figures: dict, route: str) -> dict[tuple[str, str, str], float]:
    """{(answering backend, code, split choice): count} of a route."""
    found = {}
    for (name, labels), value in figures.items():
        found_labels = dict(labels)
        if name == "strangler_requests_total" and found_labels["route"] == route:
            key = (found_labels["backend"], found_labels["code"], found_labels["split"])
            found[key] = value
    return found


def test_a_routed_request_is_counted_with_its_duration_on_the_internal_listener(proxy, echo):
    for _ in range(20):
        assert httpx.get(f"{proxy.public_url}/api/categories").status_code == 200
    echo["catalog"].failing = 503
    try:
        for _ in range(30):
            httpx.get(f"{proxy.public_url}/api/categories")
    finally:
        echo["catalog"].failing = None
    figures = scrape(proxy)
    counted = requests_of(figures, "categories")
    assert sum(counted.values()) == 50
    # Each read is counted under the backend the split chose and the one that answered: the
    # monolith answers the catalog's reads as its fallback while the catalog fails.
    assert {split for _, _, split in counted} <= {"monolith", "catalog"}
    assert all(backend == split or backend == "monolith" for backend, _, split in counted)
    series = (
        ("backend", "monolith"),
        ("route", "categories"),
        ("split", "monolith"),
        ("step", "3-catalog-canary"),
    )
    assert figures[("strangler_request_duration_seconds_count", series)] == sum(
        value for (backend, _, split), value in counted.items() if backend == split == "monolith"
    )
    infinite = tuple(sorted((*series, ("le", "+Inf"))))
    assert (
        figures[("strangler_request_duration_seconds_bucket", infinite)]
        == figures[("strangler_request_duration_seconds_count", series)]
    )


def test_a_window_of_minutes_counts_what_the_whole_counts_until_older_minutes_leave_it(proxy):
    httpx.get(f"{proxy.public_url}/api/products")
    assert requests_of(scrape(proxy, "?minutes=5"), "products") == requests_of(
        scrape(proxy), "products"
    )
    for bad in ("0", "61", "1.5", "x"):
        answer = httpx.get(f"{proxy.internal_url}/__strangler/metrics?minutes={bad}")
        assert answer.status_code == 400
        assert answer.json()["detail"] == "minutes: a whole number from 1 to 60."


def test_the_public_listener_answers_404_for_the_metrics(proxy):
    answer = httpx.get(f"{proxy.public_url}/__strangler/metrics")
    assert answer.status_code == 404
    assert "strangler_requests_total" not in answer.text


def test_the_clients_traceparent_reaches_the_backend_as_it_is(proxy, echo):
    sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    httpx.get(f"{proxy.public_url}/api/orders", headers={"traceparent": sent})
    headers = dict(echo["monolith"].seen[-1]["headers"])
    assert headers["traceparent"] == sent


@pytest.mark.parametrize(
    "sent",
    [
        None,
        "not-a-traceparent",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # an invalid trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # an invalid parent id
    ],
)
def test_without_a_valid_traceparent_the_proxy_starts_a_trace_per_request(proxy, echo, sent):
    headers = {"traceparent": sent} if sent else {}
    made = []
    for _ in range(2):
        answer = httpx.get(f"{proxy.public_url}/api/orders", headers=headers)
        received = dict(echo["monolith"].seen[-1]["headers"])["traceparent"]
        match = TRACEPARENT.match(received)
        assert match, received
        # The trace id is the request's own id, which the client gets as X-Request-ID.
        assert match.group(1) == answer.headers["x-request-id"]
        made.append(match.group(1))
    assert made[0] != made[1]
